#pragma once
// Convolution's float32 kernels on oneDNN (Debian's libdnnl): kernels generated for this CPU
// that read the image in oneDNN's blocked layout, so no columns are copied and nothing is packed.
// The samples are split into fixed ranges; each range is one single-threaded oneDNN call on one
// of descent's threads, so results do not depend on the thread count and no OpenMP team starts.
// Each function returns nothing when oneDNN does not implement the configuration (the caller
// then uses the column kernels).

#include <cstdint>
#include <optional>

#include "descent/tensor.hpp"
#include "patches.hpp"

namespace descent::kernel::onednn {

/// y [N, O, out_h, out_w] = conv(x, weight) + bias (bias may be undefined), as conv_forward.
std::optional<Tensor> conv_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                   const detail::Windows& windows, std::int64_t groups);

/// ∂x [x_shape] for the output gradient g, as conv_input_grad.
std::optional<Tensor> conv_input_grad(const Tensor& g, const Tensor& weight, const Shape& x_shape,
                                      const detail::Windows& windows, std::int64_t groups);

/// ∂weight [weight_shape] for the output gradient g and the input x, as conv_weight_grad: a
/// partial sum per fixed range of samples, added in range order.
std::optional<Tensor> conv_weight_grad(const Tensor& g, const Tensor& x, const Shape& weight_shape,
                                       const detail::Windows& windows, std::int64_t groups);

}  // namespace descent::kernel::onednn
