#pragma once
// The layers as functions (torch.nn.functional): what the modules call, usable directly.

#include <cstdint>
#include <vector>

#include "descent/ops.hpp"
#include "descent/spatial.hpp"
#include "descent/tensor.hpp"

namespace descent::nn::functional {

using descent::adaptive_avg_pool1d;
using descent::adaptive_avg_pool2d;
using descent::adaptive_max_pool1d;
using descent::adaptive_max_pool2d;
using descent::avg_pool1d;
using descent::avg_pool2d;
using descent::conv1d;
using descent::conv2d;
using descent::conv_transpose1d;
using descent::conv_transpose2d;
using descent::fold;
using descent::gelu;
using descent::leaky_relu;
using descent::linear;
using descent::log_softmax;
using descent::max_pool1d;
using descent::max_pool2d;
using descent::pad;
using descent::relu;
using descent::sigmoid;
using descent::softmax;
using descent::softplus;
using descent::tanh;
using descent::unfold;

/// Inverted dropout: in training, each element is zeroed with probability p and the survivors
/// are scaled by 1/(1 − p) (masks from the global generator); otherwise the identity.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);

/// Channel dropout (torch.nn.functional.dropout2d): in training, each channel of x [N, C, H, W]
/// (or [C, H, W]) is zeroed whole with probability p and the others scaled by 1/(1 − p).
Tensor dropout2d(const Tensor& x, double p = 0.5, bool training = true);

/// Batch normalisation over (N, C, ...): each channel over the batch and every position. In
/// training: normalise by the batch mean and biased variance, and (if running_mean is defined)
/// update the running estimates with the unbiased variance: r ← (1 − momentum)·r +
/// momentum·batch. Otherwise use the running ones. weight/bias [C] may be undefined.
Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);

/// Group normalisation: x [N, C, ...] in num_groups groups of C/num_groups channels, each
/// sample's group normalised over its channels and positions (biased variance); weight/bias [C]
/// or undefined.
Tensor group_norm(const Tensor& x, std::int64_t num_groups, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

/// Instance normalisation: each sample's channel of x [N, C, L, ...] over its positions. With
/// running statistics and use_input_stats, they move toward the batch's average of each
/// instance's mean and unbiased variance (as torch); without use_input_stats they normalise.
Tensor instance_norm(const Tensor& x, Tensor running_mean = {}, Tensor running_var = {},
                     const Tensor& weight = {}, const Tensor& bias = {},
                     bool use_input_stats = true, double momentum = 0.1, double eps = 1e-5);

/// Layer normalisation over the trailing dims `normalized_shape` (biased variance);
/// weight/bias of that shape may be undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

/// Rows of weight [num, dim] at the int64 indices (any shape): result indices.shape + [dim].
Tensor embedding(const Tensor& indices, const Tensor& weight);

}  // namespace descent::nn::functional
