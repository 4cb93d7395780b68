#pragma once
// Checkpoint files in the safetensors format (8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the raw little-endian data),
// readable by the Python safetensors / PyTorch ecosystem. The writer writes F32, F64 and I64;
// the reader also accepts what safetensors.torch.save_file writes, converted on load: F16 and
// BF16 to float32 (exactly), I8, U8, I16 and I32 to int64, BOOL to bool.
// Writing goes to a temporary file in the same directory, flushed and renamed into place, so a
// crash never leaves a half-written checkpoint under the real name. Reading validates the whole
// header before allocating anything it announces: a malformed or hostile file is a FormatError.
// Only regular files are read or replaced (a FIFO, device, directory or socket is an error, at
// once and untouched); saving through a symbolic link writes the file it leads to.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "descent/state.hpp"
#include "descent/tensor.hpp"

namespace descent::nn {

using Metadata = std::map<std::string, std::string>;

struct Checkpoint {
    NamedTensors tensors;  ///< in the order of their data in the file
    Metadata metadata;     ///< the header's optional "__metadata__" (string → string)
};

/// The bytes of a safetensors file holding `tensors` (names must be unique).
std::string to_safetensors(const NamedTensors& tensors, const Metadata& metadata = {});
/// Parses safetensors bytes; `source` names them in error messages.
Checkpoint from_safetensors(std::string_view bytes, std::string_view source = "<memory>");

/// Writes the state's tensors to `path` atomically, its texts and `metadata` as the file's
/// metadata (a key in both with two values is an Error); an existing file keeps its permission
/// bits, a new one gets 0666 & ~umask. Temporaries ".<name>.<pid>.<n>.descent-tmp" of savers
/// that died are removed. Errors are descent::Error naming the path.
void save(const StateDict& state, const std::filesystem::path& path, const Metadata& metadata = {});
/// Reads a checkpoint file; anything wrong with it, or with reading it, is a FormatError naming
/// the path.
Checkpoint load_checkpoint(const std::filesystem::path& path);
/// A checkpoint file as a state: its tensors, and its metadata as texts.
StateDict load(const std::filesystem::path& path);

}  // namespace descent::nn
