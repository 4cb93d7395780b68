#pragma once
// Checks the recurrent cells and layers share: sizes that must not overflow and inputs whose
// dtype must match the parameters'.

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <string_view>

#include "descent/error.hpp"
#include "descent/tensor.hpp"

namespace descent::nn::detail {

/// gates · hidden, the rows of weight_ih, or an Error when the product overflows int64.
inline std::int64_t checked_gate_rows(std::int64_t gates, std::int64_t hidden,
                                      std::string_view layer) {
    if (hidden > std::numeric_limits<std::int64_t>::max() / gates) {
        throw Error(fmt::format("{}: hidden_size {} is too large ({} gates of it overflow int64)",
                                layer, hidden, gates));
    }
    return gates * hidden;
}

/// x must be defined, floating and of the parameters' dtype.
inline void check_input_dtype(const Tensor& x, const Tensor& parameter, std::string_view layer) {
    if (!x.defined()) throw Error(fmt::format("{}: the input is undefined", layer));
    if (x.dtype() != parameter.dtype()) {
        throw DtypeError(fmt::format("{}: the input is {} but the parameters are {}", layer,
                                     dtype_name(x.dtype()), dtype_name(parameter.dtype())));
    }
}

}  // namespace descent::nn::detail
