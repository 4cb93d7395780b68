#pragma once
// The layers as functions (torch.nn.functional): what the modules call, usable directly.

#include <cstdint>
#include <vector>

#include "descent/ops.hpp"
#include "descent/tensor.hpp"

namespace descent::nn::functional {

using descent::gelu;
using descent::leaky_relu;
using descent::linear;
using descent::log_softmax;
using descent::relu;
using descent::sigmoid;
using descent::softmax;
using descent::softplus;
using descent::tanh;

/// Inverted dropout: in training, each element is zeroed with probability p and the survivors
/// are scaled by 1/(1 − p) (masks from the global generator); otherwise the identity.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);

/// Batch normalisation over (N, C) or (N, C, L). In training: normalise by the batch mean and
/// biased variance, and (if running_mean is defined) update the running estimates with the
/// unbiased variance: r ← (1 − momentum)·r + momentum·batch. Otherwise use the running ones.
/// weight/bias [C] may be undefined (no affine transform).
Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);

/// Layer normalisation over the trailing dims `normalized_shape` (biased variance);
/// weight/bias of that shape may be undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

/// Rows of weight [num, dim] at the int64 indices (any shape): result indices.shape + [dim].
Tensor embedding(const Tensor& indices, const Tensor& weight);

}  // namespace descent::nn::functional
