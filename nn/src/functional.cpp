#include "descent/nn/functional.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "batch_norm_training.hpp"
#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/random.hpp"
#include "descent/sample_keys.hpp"
#include "layer_norm_op.hpp"

namespace descent::nn::functional {

namespace {
/// Checks that a per-channel tensor (weight, bias, running statistic) is undefined or [C] of
/// x's dtype.
void check_per_channel(const Tensor& t, const Tensor& x, std::string_view op) {
    if (t.defined() && (t.shape() != Shape{x.size(1)} || t.dtype() != x.dtype())) {
        throw ShapeError(fmt::format("{}: per-channel tensor {} {} does not fit input {} {}", op,
                                     dtype_name(t.dtype()), shape_str(t.shape()),
                                     dtype_name(x.dtype()), shape_str(x.shape())));
    }
}

/// y·weight + bias with weight and bias [C] broadcast over x [N, C, ...].
Tensor affine(Tensor y, const Tensor& weight, const Tensor& bias) {
    Shape per_channel(static_cast<std::size_t>(y.dim()), 1);
    per_channel[1] = y.size(1);
    if (weight.defined()) y = y * weight.reshape(per_channel);
    if (bias.defined()) y = y + bias.reshape(per_channel);
    return y;
}
}  // namespace

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

Tensor dropout2d(const Tensor& x, double p, bool training) {
    check_option(p, closed(0, 1), "dropout2d", "p");
    if (!x.defined() || (x.dim() != 3 && x.dim() != 4)) {
        throw ShapeError(fmt::format("dropout2d: expected (N, C, H, W) or (C, H, W) input, got {}",
                                     x.defined() ? shape_str(x.shape()) : "an undefined tensor"));
    }
    if (!training || p == 0.0) return x;
    // one draw per channel (per sample and channel), broadcast over its positions
    Shape channels = x.shape();
    std::fill(channels.end() - 2, channels.end(), 1);
    SampleKeys* keys = x.dim() == 4 ? SampleKeys::active() : nullptr;
    const Tensor draws = keys ? keys->uniform(channels, Dtype::float64, "dropout2d")
                              : rand(channels, {.dtype = x.dtype()});
    const Tensor mask = p == 1.0 ? zeros(channels, {.dtype = x.dtype()})
                                 : (draws >= p).to(x.dtype()) * (1.0 / (1.0 - p));
    return x * mask;
}

Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
    if (!x.defined() || x.dim() < 2) {
        throw ShapeError(fmt::format("batch_norm: expected an (N, C, ...) input, got {}",
                                     x.defined() ? shape_str(x.shape()) : "an undefined tensor"));
    }
    check_option(momentum, closed(0, 1), "batch_norm", "momentum");
    check_option(eps, at_least(0), "batch_norm", "eps");
    const std::int64_t channels = x.size(1);
    for (const Tensor* t :
         std::array<const Tensor*, 4>{&running_mean, &running_var, &weight, &bias}) {
        check_per_channel(*t, x, "batch_norm");
    }
    Dims dims{0};  // every dim but the channels'
    Shape per_channel{1, channels};
    for (std::int64_t d = 2; d < x.dim(); ++d) {
        dims.push_back(d);
        per_channel.push_back(1);
    }
    if (training) {
        std::int64_t n = x.size(0);  // values per channel
        for (std::int64_t d = 2; d < x.dim(); ++d) n *= x.size(d);
        if (n <= 1) {
            throw ShapeError(
                fmt::format("batch_norm: training needs more than one value per "
                            "channel, got input {}",
                            shape_str(x.shape())));
        }
        const auto composed = [dims, eps](const Tensor& v, const Tensor& w, const Tensor& b) {
            return affine((v - v.mean(dims, true)) / sqrt(v.var(dims, false, true) + eps), w, b);
        };
        detail::BatchNormResult r = detail::batch_norm_training(x, weight, bias, eps, composed);
        if (running_mean.defined()) {
            const NoGradGuard no_grad;
            const double unbias = static_cast<double>(n) / static_cast<double>(n - 1);
            running_mean.mul_(1 - momentum).add_(r.mean, momentum);
            running_var.mul_(1 - momentum).add_(r.var, momentum * unbias);
        }
        return r.y;
    }
    if (!running_mean.defined()) throw Error("batch_norm: evaluation without running statistics");
    const Tensor mean = running_mean.reshape(per_channel), var = running_var.reshape(per_channel);
    return affine((x - mean) / sqrt(var + eps), weight, bias);  // x̂ = (x − μ)/√(σ² + ε)
}

Tensor group_norm(const Tensor& x, std::int64_t num_groups, const Tensor& weight,
                  const Tensor& bias, double eps) {
    check_option(eps, at_least(0), "group_norm", "eps");
    if (!x.defined() || x.dim() < 2) {
        throw ShapeError(fmt::format("group_norm: expected an (N, C, ...) input, got {}",
                                     x.defined() ? shape_str(x.shape()) : "an undefined tensor"));
    }
    if (num_groups < 1 || x.size(1) % num_groups != 0) {
        throw Error(
            fmt::format("group_norm: num_groups ({}) must be ≥ 1 and divide the {} "
                        "channels",
                        num_groups, x.size(1)));
    }
    check_per_channel(weight, x, "group_norm");
    check_per_channel(bias, x, "group_norm");
    // each sample's group of C/G channels and all their positions: x̂ = (x − μ)/√(σ² + ε)
    const Tensor g = x.reshape({x.size(0), num_groups, -1});
    const Tensor y = (g - g.mean({2}, true)) / sqrt(g.var({2}, false, true) + eps);
    return affine(y.reshape(x.shape()), weight, bias);
}

Tensor instance_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                     const Tensor& bias, bool use_input_stats, double momentum, double eps) {
    check_option(momentum, closed(0, 1), "instance_norm", "momentum");
    check_option(eps, at_least(0), "instance_norm", "eps");
    if (!x.defined() || x.dim() < 3) {
        throw ShapeError(fmt::format("instance_norm: expected an (N, C, L, ...) input, got {}",
                                     x.defined() ? shape_str(x.shape()) : "an undefined tensor"));
    }
    for (const Tensor* t :
         std::array<const Tensor*, 4>{&running_mean, &running_var, &weight, &bias}) {
        check_per_channel(*t, x, "instance_norm");
    }
    if (running_mean.defined() != running_var.defined()) {
        throw Error("instance_norm: give both running statistics or neither");
    }
    const std::int64_t n = x.size(0), c = x.size(1);
    const Tensor rows = x.reshape({n, c, -1});  // each (sample, channel) over its positions
    const std::int64_t positions = rows.size(2);
    Tensor mean, var;
    if (use_input_stats) {
        if (positions <= 1) {
            throw ShapeError(
                fmt::format("instance_norm: needs more than one value per channel "
                            "and sample, got input {}",
                            shape_str(x.shape())));
        }
        mean = rows.mean({2}, true);
        var = rows.var({2}, false, true);
        if (running_mean.defined()) {   // as torch: the batch's average of each instance's
            const NoGradGuard no_grad;  // mean and unbiased variance
            const double unbias =
                static_cast<double>(positions) / static_cast<double>(positions - 1);
            running_mean.mul_(1 - momentum).add_(mean.detach().mean({0}).reshape({c}), momentum);
            running_var.mul_(1 - momentum)
                .add_(var.detach().mean({0}).reshape({c}), momentum * unbias);
        }
    } else {
        if (!running_mean.defined()) {
            throw Error("instance_norm: evaluation without running statistics");
        }
        mean = running_mean.reshape({1, c, 1});
        var = running_var.reshape({1, c, 1});
    }
    const Tensor y = (rows - mean) / sqrt(var + eps);
    return affine(y.reshape(x.shape()), weight, bias);
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
    const auto composed = [dims, eps](const Tensor& v, const Tensor& w, const Tensor& b) {
        Tensor y = (v - v.mean(dims, true)) / sqrt(v.var(dims, false, true) + eps);
        if (w.defined()) y = y * w;
        if (b.defined()) y = y + b;
        return y;
    };
    const std::int64_t row = numel_of(normalized_shape);
    if (row == 0 || x.numel() == 0) return composed(x, weight, bias);
    return detail::layer_norm_rows(x, row, weight, bias, eps, composed);
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
