#include "descent/nn/layers.hpp"

#include <fmt/format.h>

#include <cmath>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/nn/init.hpp"

namespace descent::nn {

LeakyReLU::LeakyReLU(double negative_slope)
    : Lambda([negative_slope](const Tensor& x) { return leaky_relu(x, negative_slope); },
             fmt::format("negative_slope={}", negative_slope)),
      negative_slope_(negative_slope) {}

Softplus::Softplus(double beta, double threshold)
    : Lambda([beta, threshold](const Tensor& x) { return softplus(x, beta, threshold); },
             fmt::format("beta={}, threshold={}", beta, threshold)),
      beta_(beta),
      threshold_(threshold) {}

Flatten::Flatten(std::int64_t start_dim, std::int64_t end_dim)
    : Lambda([=](const Tensor& x) { return flatten(x, start_dim, end_dim); },
             fmt::format("start_dim={}, end_dim={}", start_dim, end_dim)),
      start_dim_(start_dim),
      end_dim_(end_dim) {}

Linear::Linear(std::int64_t in_features, std::int64_t out_features, bool bias) {
    if (in_features <= 0 || out_features <= 0) {
        throw ShapeError(fmt::format("Linear: features must be positive, got {} → {}", in_features,
                                     out_features));
    }
    checked_numel({out_features, in_features}, "Linear");
    weight_ = &register_parameter("weight", zeros({out_features, in_features}));
    init::kaiming_uniform_(*weight_, std::sqrt(5.0));
    if (bias) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
        bias_ = &register_parameter("bias", zeros({out_features}));
        init::uniform_(*bias_, -bound, bound);
    }
}

Tensor Linear::forward(const Tensor& x) {
    return linear(x, *weight_, bias());
}

Dropout::Dropout(double p) : p_(check_option(p, closed(0, 1), "Dropout", "p")) {}

Dropout2d::Dropout2d(double p) : p_(check_option(p, closed(0, 1), "Dropout2d", "p")) {}

BatchNorm1d::BatchNorm1d(std::string_view op, std::int64_t num_features, double eps,
                         double momentum, bool affine, bool track_running_stats,
                         std::int64_t min_rank, std::int64_t max_rank)
    : op_(op),
      min_rank_(min_rank),
      max_rank_(max_rank),
      num_features_(check_count(num_features, 0, op, "num_features")),
      eps_(check_option(eps, at_least(0), op, "eps")),
      momentum_(check_option(momentum, closed(0, 1), op, "momentum")) {
    if (affine) {
        weight_ = &register_parameter("weight", ones({num_features}));
        bias_ = &register_parameter("bias", zeros({num_features}));
    }
    if (track_running_stats) {
        running_mean_ = &register_buffer("running_mean", zeros({num_features}));
        running_var_ = &register_buffer("running_var", ones({num_features}), at_least(0));
        num_batches_tracked_ = &register_buffer("num_batches_tracked",
                                                zeros({}, {.dtype = Dtype::int64}), at_least(0));
    }
}

Tensor BatchNorm1d::forward(const Tensor& x) {
    if (x.defined() && (x.dim() < min_rank_ || x.dim() > max_rank_)) {
        throw ShapeError(fmt::format(
            "{}: expected a {}-D{} input, got {}", op_, min_rank_,
            max_rank_ > min_rank_ ? fmt::format(" or {}-D", max_rank_) : "", shape_str(x.shape())));
    }
    // without running statistics, eval mode normalises by the batch too (as torch)
    const bool use_batch = is_training() || !running_mean_;
    const Tensor rm = running_mean_ ? *running_mean_ : Tensor{};
    const Tensor rv = running_var_ ? *running_var_ : Tensor{};
    Tensor y = functional::batch_norm(x, rm, rv, weight_ ? *weight_ : Tensor{},
                                      bias_ ? *bias_ : Tensor{}, use_batch, momentum_, eps_);
    if (is_training() && num_batches_tracked_) {
        const NoGradGuard no_grad;
        ++num_batches_tracked_->mutable_data<std::int64_t>()[0];  // exact, unlike via double
    }
    return y;
}

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine, bool bias)
    : shape_(std::move(normalized_shape)),
      eps_(check_option(eps, at_least(0), "LayerNorm", "eps")) {
    if (shape_.empty()) {
        throw ShapeError("LayerNorm: normalized_shape must name at least one dim, got []");
    }
    checked_numel(shape_, "LayerNorm");
    if (elementwise_affine) {
        weight_ = &register_parameter("weight", ones(shape_));
        if (bias) bias_ = &register_parameter("bias", zeros(shape_));
    }
}

Tensor LayerNorm::forward(const Tensor& x) {
    return functional::layer_norm(x, shape_, weight_ ? *weight_ : Tensor{},
                                  bias_ ? *bias_ : Tensor{}, eps_);
}

Embedding::Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim) {
    check_count(num_embeddings, 0, "Embedding", "num_embeddings");
    check_count(embedding_dim, 0, "Embedding", "embedding_dim");
    checked_numel({num_embeddings, embedding_dim}, "Embedding");
    weight_ = &register_parameter("weight", zeros({num_embeddings, embedding_dim}));
    init::normal_(*weight_);
}

}  // namespace descent::nn

namespace descent::nn {
namespace {
const char* bool_repr(bool b) {
    return b ? "True" : "False";
}
}  // namespace

std::string Linear::extra_repr() const {
    return fmt::format("in_features={}, out_features={}, bias={}", weight_->size(1),
                       weight_->size(0), bool_repr(bias_ != nullptr));
}

std::string Dropout::extra_repr() const {
    return fmt::format("p={}", p_);
}

std::string BatchNorm1d::extra_repr() const {
    return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features_,
                       eps_, momentum_, bool_repr(weight_ != nullptr),
                       bool_repr(running_mean_ != nullptr));
}

std::string Dropout2d::extra_repr() const {
    return fmt::format("p={}", p_);
}

std::string LayerNorm::extra_repr() const {
    const std::string shape = shape_.size() == 1 ? fmt::format("({},)", shape_[0])
                                                 : fmt::format("({})", joined(shape_, ", "));
    return fmt::format("{}, eps={}, elementwise_affine={}", shape, eps_,
                       bool_repr(weight_ != nullptr));
}

std::string Embedding::extra_repr() const {
    return fmt::format("{}, {}", weight_->size(0), weight_->size(1));
}

}  // namespace descent::nn
