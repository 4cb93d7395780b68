#pragma once
// The check that every augmentation makes of its input.

#include <fmt/format.h>

#include <string_view>

#include "descent/error.hpp"
#include "descent/tensor.hpp"

namespace descent::data::detail {

/// A ShapeError naming op unless batch is a defined [N, C, H, W] tensor.
inline void check_image_batch(const Tensor& batch, std::string_view op) {
    if (!batch.defined()) throw ShapeError(fmt::format("{}: the batch is an undefined tensor", op));
    if (batch.dim() != 4) {
        throw ShapeError(fmt::format("{}: expected a batch of images [N, C, H, W], got {} {}{}", op,
                                     dtype_name(batch.dtype()), shape_str(batch.shape()),
                                     batch.dim() == 3 ? " (one image? unsqueeze(0))" : ""));
    }
}

}  // namespace descent::data::detail
