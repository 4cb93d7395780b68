#pragma once
// State dicts saved by PyTorch's torch.save (the zip format of torch >= 1.6, ".pt"), read with no
// Python: the zip archive, a restricted unpickler and the typed storages. Accepted: what
// torch.save(model.state_dict(), path) writes — an OrderedDict (or dict) of str → tensor, tensors
// rebuilt by torch._utils._rebuild_tensor_v2 / _rebuild_parameter from Float, Double, Half,
// BFloat16, Long, Int, Short, Char, Byte and Bool storages, with any storage offset and strides
// (gathered into contiguous tensors), and the _metadata torch attaches (ignored). Half and
// bfloat16 load as float32 (exactly), the integer types as int64. Every other global, opcode or
// structure is a FormatError naming it; nothing a file names is ever called.

#include <filesystem>
#include <string_view>

#include "descent/nn/checkpoint.hpp"
#include "descent/state.hpp"

namespace descent::nn {

/// Parses the bytes of a torch.save file holding a state_dict; `source` names them in errors.
/// The tensors come in the state_dict's order; the metadata is empty.
Checkpoint from_torch(std::string_view bytes, std::string_view source = "<memory>");
/// Reads a torch.save file (a regular file only, as load_checkpoint): anything wrong with it is
/// a FormatError naming the path. model.load_state_dict(nn::load_torch("m.pt")) loads it.
StateDict load_torch(const std::filesystem::path& path);

}  // namespace descent::nn
