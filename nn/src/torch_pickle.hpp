#pragma once
// The restricted unpickler of the data.pkl that torch.save writes for a state_dict: pickle
// protocols 2-5, only the opcodes such a file uses, only the globals a state_dict holds
// (collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter, the typed
// storages). It never calls anything the file names: the three callables are interpreted, every
// other global is a FormatError naming it. Implemented in torch_pickle.cpp.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "descent/shape.hpp"
#include "file_dtypes.hpp"

namespace descent::nn::torch_pickle {

/// A storage named by a persistent id ('storage', torch.<T>Storage, key, location, numel): its
/// bytes are the archive entry "<prefix>/data/<key>".
struct Storage {
    std::string key;
    FileDtype dtype;
    std::int64_t numel = 0;
};

/// A tensor view of a storage, as _rebuild_tensor_v2 describes it: elements at
/// offset + Σ index_i · stride_i, all checked to lie inside the storage.
struct TensorView {
    Storage storage;
    std::int64_t offset = 0;
    Shape size = {}, stride = {};
};

/// The state_dict in data.pkl: names and tensors in the file's order. `source` names the file in
/// errors.
std::vector<std::pair<std::string, TensorView>> unpickle_state_dict(std::string_view pickle,
                                                                    std::string_view source);

}  // namespace descent::nn::torch_pickle
