#pragma once
// Batch normalisation in training mode as one recorded op (a custom Function): the batch
// statistics per channel, then y = x̂·w + b with x̂ = (x − μ)/√(σ² + ε), each in one pass over
// x [N, C, ...]; its backward in two passes per channel (sums over N and the positions, M values):
//   g = dy·w,   dx = (g − mean(g) − x̂·mean(g·x̂))/√(σ² + ε),   dw = Σ dy·x̂,   db = Σ dy.
// A create_graph pass differentiates the composed formula instead (composed_backward.hpp).

#include <functional>

#include "descent/tensor.hpp"

namespace descent::nn::detail {

/// y and the batch's mean and biased variance per channel [C] (for the running estimates).
struct BatchNormResult {
    Tensor y;
    Tensor mean;
    Tensor var;
};

/// The same formula composed of differentiable ops: (x, weight, bias) → y, with weight and
/// bias undefined when absent.
using ComposedBatchNorm = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>;

/// x [N, C, ...] (floating, at least 2 values per channel) normalised with its batch
/// statistics; weight and bias [C] or undefined.
BatchNormResult batch_norm_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    double eps, ComposedBatchNorm composed);

}  // namespace descent::nn::detail
