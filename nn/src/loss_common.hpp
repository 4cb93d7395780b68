#pragma once
// What the loss functions share: reducing per-element losses, and checking the weight tensors
// a user hands them (dtype, shape, finite and non-negative values), each Error naming the loss.

#include <string_view>

#include "descent/nn/loss.hpp"
#include "descent/tensor.hpp"

namespace descent::nn::detail {

/// mean, sum or the losses themselves.
Tensor reduce(const Tensor& losses, Reduction reduction);

/// input and target defined, of one shape and one floating dtype.
void check_same_shape(const Tensor& input, const Tensor& target, std::string_view op);

/// `weight` (named `name`) has `like`'s floating dtype and finite entries ≥ 0; its shape is
/// checked by the caller.
void check_weight_values(const Tensor& weight, const Tensor& like, std::string_view op,
                         std::string_view name);

/// `weight` is undefined, or checked as above and broadcasts to `shape` without growing it.
void check_broadcast_weight(const Tensor& weight, const Tensor& input, std::string_view op,
                            std::string_view name);

}  // namespace descent::nn::detail
