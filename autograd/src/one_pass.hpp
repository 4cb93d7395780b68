#pragma once
// One-pass kernels of formulas a training step repeats, which the rules of relu and
// softmax_cross_entropy call. A backward kernel runs in one pass when no graph is being
// recorded; with grad mode on (create_graph) it is the composition of differentiable ops its
// comment states, with the same values, so gradients of gradients work.

#include "descent/tensor.hpp"

namespace descent::kernel {

/// g·[y > 0] elementwise (NaN in y gives g·0): relu's gradient from its output y.
Tensor relu_backward(const Tensor& g, const Tensor& y);

/// Σᵢ wᵢ·(log Σ_c e^{zᵢc} − zᵢ,yᵢ) / divisor for logits z [N, C], targets y [N] and row weights
/// w [N] (checked by the caller), summed in double: softmax cross-entropy's value, a 0-d
/// tensor of z's dtype.
Tensor softmax_cross_entropy_loss(const Tensor& z, const Tensor& y, const Tensor& w,
                                  double divisor);
/// (softmax(z) − onehot(y)) ⊙ wᵢ·g / divisor by row: softmax cross-entropy's gradient for the
/// upstream gradient g (0-d).
Tensor softmax_cross_entropy_backward(const Tensor& z, const Tensor& y, const Tensor& w,
                                      const Tensor& g, double divisor);

}  // namespace descent::kernel
