#pragma once
// Layer normalisation as one recorded op (a custom Function): x as rows of D values (the
// normalized dims), each row's statistics and y = x̂·w + b, x̂ = (x − μ)/√(σ² + ε), in one
// pass per row; its backward per row, and the weight's and bias's gradients summed over the
// rows in row order (the same bits at any thread count):
//   g = dy·w,   dx = (g − mean(g) − x̂·mean(g·x̂))/√(σ² + ε),   dw = Σ_rows dy·x̂,   db = Σ_rows dy.
// A create_graph pass differentiates the composed formula instead (composed_backward.hpp).

#include <functional>

#include "descent/tensor.hpp"

namespace descent::nn::detail {

/// The same formula composed of differentiable ops: (x, weight, bias) → y.
using ComposedLayerNorm = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>;

/// x normalised over its last dims, which hold `row` values together; weight and bias of those
/// dims or undefined.
Tensor layer_norm_rows(const Tensor& x, std::int64_t row, const Tensor& weight, const Tensor& bias,
                       double eps, ComposedLayerNorm composed);

}  // namespace descent::nn::detail
