#pragma once
// Softmax along one dim in one pass per row, and its backward:
//   y = e^(x − m) / Σ e^(x − m)      (m the row's largest element, 0 when that is not finite)
//   ∂x = y ⊙ (g − Σ g ⊙ y)
// The sums are formed in double. With grad mode on (create_graph) the backward is that formula
// in differentiable ops, so softmax differentiates any number of times.

#include <cstdint>

#include "descent/tensor.hpp"

namespace descent::kernel {

/// softmax(x) along dim (wrapped, x floating: checked by the caller).
Tensor softmax_forward(const Tensor& x, std::int64_t dim);

/// ∂x for the output y = softmax(x) along dim and its gradient g (of y's shape and dtype).
Tensor softmax_backward(const Tensor& g, const Tensor& y, std::int64_t dim);

}  // namespace descent::kernel
