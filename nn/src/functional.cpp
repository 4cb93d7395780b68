#include "descent/nn/functional.hpp"

#include <fmt/format.h>

#include <array>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/random.hpp"
#include "descent/sample_keys.hpp"

namespace descent::nn::functional {

Tensor dropout(const Tensor& x, double p, bool training) {
    check_option(p, closed(0, 1), "dropout", "p");
    if (!training || p == 0.0) return x;
    if (p == 1.0) return x * zeros_like(x);
    // keep with probability 1 − p, scaled by 1/(1 − p) so the expectation is unchanged; the
    // draws are keyed by sample under a SampleKeys guard (compared in double, so a sample's
    // mask is the same in every dtype), else from the thread's generator
    SampleKeys* keys = SampleKeys::active();
    const Tensor draws = keys ? keys->uniform(x.shape(), Dtype::float64, "dropout")
                              : rand(x.shape(), {.dtype = x.dtype()});
    const Tensor mask = (draws >= p).to(x.dtype()) * (1.0 / (1.0 - p));
    return x * mask;
}

Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
    if (!x.defined() || (x.dim() != 2 && x.dim() != 3)) {
        throw ShapeError(fmt::format("batch_norm: expected (N, C) or (N, C, L) input, got {}",
                                     x.defined() ? shape_str(x.shape()) : "an undefined tensor"));
    }
    check_option(momentum, closed(0, 1), "batch_norm", "momentum");
    check_option(eps, at_least(0), "batch_norm", "eps");
    const std::int64_t channels = x.size(1);
    const std::array<const Tensor*, 4> per_channel_inputs{&running_mean, &running_var, &weight,
                                                          &bias};
    for (const Tensor* t : per_channel_inputs) {
        if (t->defined() && (t->shape() != Shape{channels} || t->dtype() != x.dtype())) {
            throw ShapeError(
                fmt::format("batch_norm: per-channel tensor {} {} does not fit input "
                            "{} {}",
                            dtype_name(t->dtype()), shape_str(t->shape()), dtype_name(x.dtype()),
                            shape_str(x.shape())));
        }
    }
    const Dims dims = x.dim() == 2 ? Dims{0} : Dims{0, 2};
    const Shape per_channel = x.dim() == 2 ? Shape{1, channels} : Shape{1, channels, 1};
    Tensor mean, var;
    if (training) {
        const std::int64_t n = x.size(0) * (x.dim() == 3 ? x.size(2) : 1);  // values per channel
        if (n <= 1) {
            throw ShapeError(
                fmt::format("batch_norm: training needs more than one value per "
                            "channel, got input {}",
                            shape_str(x.shape())));
        }
        mean = x.mean(dims, true);
        var = x.var(dims, false, true);
        if (running_mean.defined()) {
            const NoGradGuard no_grad;
            const double unbias = static_cast<double>(n) / static_cast<double>(n - 1);
            running_mean.mul_(1 - momentum).add_(mean.detach().reshape({channels}), momentum);
            running_var.mul_(1 - momentum)
                .add_(var.detach().reshape({channels}), momentum * unbias);
        }
    } else {
        if (!running_mean.defined()) {
            throw Error("batch_norm: evaluation without running statistics");
        }
        mean = running_mean.reshape(per_channel);
        var = running_var.reshape(per_channel);
    }
    Tensor y = (x - mean) / sqrt(var + eps);  // x̂ = (x − μ)/√(σ² + ε)
    if (weight.defined()) y = y * weight.reshape(per_channel);
    if (bias.defined()) y = y + bias.reshape(per_channel);
    return y;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
    check_option(eps, at_least(0), "layer_norm", "eps");
    if (normalized_shape.empty()) {
        throw ShapeError("layer_norm: normalized_shape must name at least one dim, got []");
    }
    const auto k = static_cast<std::int64_t>(normalized_shape.size());
    const bool fits =
        k <= x.dim() && Shape(x.shape().end() - k, x.shape().end()) == normalized_shape;
    if (!fits) {
        throw ShapeError(fmt::format("layer_norm: normalized_shape {} does not end input {}",
                                     shape_str(normalized_shape), shape_str(x.shape())));
    }
    for (const Tensor* t : std::array<const Tensor*, 2>{&weight, &bias}) {
        if (t->defined() && (t->shape() != normalized_shape || t->dtype() != x.dtype())) {
            throw ShapeError(
                fmt::format("layer_norm: affine tensor {} {} does not fit "
                            "normalized_shape {} of {} input",
                            dtype_name(t->dtype()), shape_str(t->shape()),
                            shape_str(normalized_shape), dtype_name(x.dtype())));
        }
    }
    Dims dims;
    for (std::int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
    const Tensor mean = x.mean(dims, true);
    Tensor y = (x - mean) / sqrt(x.var(dims, false, true) + eps);
    if (weight.defined()) y = y * weight;
    if (bias.defined()) y = y + bias;
    return y;
}

Tensor embedding(const Tensor& indices, const Tensor& weight) {
    if (weight.dim() != 2) {
        throw ShapeError(
            fmt::format("embedding: weight must be [num, dim], got {}", shape_str(weight.shape())));
    }
    if (indices.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format("embedding: indices must be int64, got {} {}",
                                     dtype_name(indices.dtype()), shape_str(indices.shape())));
    }
    const std::int64_t rows = weight.size(0);
    const auto* idx = indices.data<std::int64_t>();
    for (std::int64_t i = 0; i < indices.numel(); ++i) {
        if (idx[i] < 0 || idx[i] >= rows) {
            throw IndexError(
                fmt::format("embedding: index {} out of range for {} embeddings", idx[i], rows));
        }
    }
    Shape shape = indices.shape();
    shape.push_back(weight.size(1));
    return index_select(weight, 0, indices.reshape({-1})).reshape(shape);
}

}  // namespace descent::nn::functional
