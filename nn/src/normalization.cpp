#include "descent/nn/normalization.hpp"

#include <fmt/format.h>

#include "descent/check.hpp"
#include "descent/nn/functional.hpp"

namespace descent::nn {
namespace {
const char* py_bool(bool b) {
    return b ? "True" : "False";
}
}  // namespace

GroupNorm::GroupNorm(std::int64_t num_groups, std::int64_t num_channels, double eps, bool affine)
    : num_groups_(check_count(num_groups, 1, "GroupNorm", "num_groups")),
      num_channels_(check_count(num_channels, 1, "GroupNorm", "num_channels")),
      eps_(check_option(eps, at_least(0), "GroupNorm", "eps")) {
    if (num_channels % num_groups != 0) {
        throw Error(fmt::format("GroupNorm: num_groups ({}) must divide num_channels ({})",
                                num_groups, num_channels));
    }
    if (affine) {
        weight_ = &register_parameter("weight", ones({num_channels}));
        bias_ = &register_parameter("bias", zeros({num_channels}));
    }
}

Tensor GroupNorm::forward(const Tensor& x) {
    if (x.defined() && (x.dim() < 2 || x.size(1) != num_channels_)) {
        throw ShapeError(fmt::format("GroupNorm: expected (N, {}, ...) input, got {}",
                                     num_channels_, shape_str(x.shape())));
    }
    return functional::group_norm(x, num_groups_, weight_ ? *weight_ : Tensor{},
                                  bias_ ? *bias_ : Tensor{}, eps_);
}

std::string GroupNorm::extra_repr() const {
    return fmt::format("{}, {}, eps={}, affine={}", num_groups_, num_channels_, eps_,
                       py_bool(weight_ != nullptr));
}

InstanceNormNd::InstanceNormNd(std::string_view op, std::int64_t rank, std::int64_t num_features,
                               double eps, double momentum, bool affine, bool track_running_stats)
    : op_(op),
      rank_(rank),
      num_features_(check_count(num_features, 1, op, "num_features")),
      eps_(check_option(eps, at_least(0), op, "eps")),
      momentum_(check_option(momentum, closed(0, 1), op, "momentum")) {
    if (affine) {
        weight_ = &register_parameter("weight", ones({num_features}));
        bias_ = &register_parameter("bias", zeros({num_features}));
    }
    if (track_running_stats) {
        running_mean_ = &register_buffer("running_mean", zeros({num_features}));
        running_var_ = &register_buffer("running_var", ones({num_features}), at_least(0));
        register_buffer("num_batches_tracked", zeros({}, {.dtype = Dtype::int64}), at_least(0));
    }
}

Tensor InstanceNormNd::forward(const Tensor& x) {
    if (!x.defined() || (x.dim() != rank_ + 1 && x.dim() != rank_ + 2)) {
        throw ShapeError(fmt::format("{}: expected a {}-D or {}-D input, got {}", op_, rank_ + 1,
                                     rank_ + 2, x.defined() ? shape_str(x.shape()) : "undefined"));
    }
    const bool batched = x.dim() == rank_ + 2;
    const Tensor input = batched ? x : unsqueeze(x, 0);
    if (input.size(1) != num_features_) {
        throw ShapeError(fmt::format("{}: expected {} channels, got input {}", op_, num_features_,
                                     shape_str(x.shape())));
    }
    const bool use_input_stats = is_training() || !running_mean_;
    const Tensor y = functional::instance_norm(
        input, running_mean_ ? *running_mean_ : Tensor{}, running_var_ ? *running_var_ : Tensor{},
        weight_ ? *weight_ : Tensor{}, bias_ ? *bias_ : Tensor{}, use_input_stats, momentum_, eps_);
    return batched ? y : squeeze(y, 0);
}

std::string InstanceNormNd::extra_repr() const {
    return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features_,
                       eps_, momentum_, py_bool(weight_ != nullptr),
                       py_bool(running_mean_ != nullptr));
}

}  // namespace descent::nn
