#pragma once
// Convolution's one-pass kernels: per sample, the windows are copied into columns [C·k, L]
// (im2col, reading and writing rows of the image) and each group is one matrix product, so no
// tensor of every sample's windows is ever made.
//   forward:  y_n,g = W_g · cols_n,g (+ b)          [O_g, L]
//   ∂x:       x_n  += col2im(W_gᵀ · ∂y_n,g)
//   ∂W:       ∂W_g  = Σ_n ∂y_n,g · cols_n,gᵀ

#include <cstdint>

#include "descent/tensor.hpp"
#include "patches.hpp"

namespace descent::kernel {

/// y [N, O, out_h, out_w] of x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] or
/// undefined, over `windows` (pad value 0).
Tensor conv_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const detail::Windows& windows, std::int64_t groups);

/// ∂x [x_shape] for the output gradient g [N, O, out_h, out_w].
Tensor conv_input_grad(const Tensor& g, const Tensor& weight, const Shape& x_shape,
                       const detail::Windows& windows, std::int64_t groups);

/// ∂weight [weight_shape] for the output gradient g and the input x.
Tensor conv_weight_grad(const Tensor& g, const Tensor& x, const Shape& weight_shape,
                        const detail::Windows& windows, std::int64_t groups);

}  // namespace descent::kernel
