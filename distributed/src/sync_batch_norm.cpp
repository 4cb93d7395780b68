#include "descent/distributed/sync_batch_norm.hpp"

#include <fmt/format.h>

#include <array>

#include "descent/check.hpp"
#include "descent/distributed/functional.hpp"
#include "descent/grad_mode.hpp"
#include "descent/nn/functional.hpp"

namespace descent::distributed {
namespace {

/// (N, C) or (N, C, L) with C = num_features, in the dtype of the module's tensors (if any).
void check_input(const Tensor& x, std::int64_t num_features,
                 const std::array<const Tensor*, 4>& per_channel) {
    if (!x.defined() || (x.dim() != 2 && x.dim() != 3)) {
        throw ShapeError(fmt::format("SyncBatchNorm: expected (N, C) or (N, C, L) input, got {}",
                                     x.defined() ? shape_str(x.shape()) : "an undefined tensor"));
    }
    if (x.size(1) != num_features) {
        throw ShapeError(fmt::format("SyncBatchNorm: input {} has {} channels, expected {}",
                                     shape_str(x.shape()), x.size(1), num_features));
    }
    if (!is_floating(x.dtype())) {
        throw DtypeError(
            fmt::format("SyncBatchNorm: expected a float32 or float64 input, got {} {}",
                        dtype_name(x.dtype()), shape_str(x.shape())));
    }
    for (const Tensor* t : per_channel) {
        if (t && t->dtype() != x.dtype()) {
            throw DtypeError(
                fmt::format("SyncBatchNorm: input {} {} does not match the module's {} "
                            "parameters and buffers",
                            dtype_name(x.dtype()), shape_str(x.shape()), dtype_name(t->dtype())));
        }
    }
}

}  // namespace

SyncBatchNorm::SyncBatchNorm(Communicator& world, std::int64_t num_features, double eps,
                             double momentum, bool affine, bool track_running_stats)
    : BatchNorm1d("SyncBatchNorm", num_features, eps, momentum, affine, track_running_stats),
      world_(world, "SyncBatchNorm", "the communicator it was given") {}

Tensor SyncBatchNorm::forward(const Tensor& x) {
    check_input(x, num_features_, {weight_, bias_, running_mean_, running_var_});
    const Tensor weight = weight_ ? *weight_ : Tensor{};
    const Tensor bias = bias_ ? *bias_ : Tensor{};
    // eval with running statistics: x̂ = (x − r_μ)/√(r_σ² + ε) as BatchNorm1d, no communication;
    // without them, eval normalises by the global batch too (as BatchNorm1d by its batch)
    if (!is_training() && running_mean_) {
        return nn::functional::batch_norm(x, *running_mean_, *running_var_, weight, bias, false,
                                          momentum_, eps_);
    }
    Communicator& world = world_.get();
    const std::int64_t values = x.size(0) * (x.dim() == 3 ? x.size(2) : 1);  // rows·L here
    // N = Σ_r rows_r·L_r, the values per channel in the global batch (exact below 2⁵³); the
    // same on every rank, so every rank throws if it is too small
    const double n = world.sum(static_cast<double>(values));
    if (n <= 1) {
        throw ShapeError(fmt::format(
            "SyncBatchNorm: training needs more than one value per channel in the global batch, "
            "got {} over {} ranks (input {} on rank {})",
            static_cast<std::int64_t>(n), world.size(), shape_str(x.shape()), world.rank()));
    }
    const Dims dims = x.dim() == 2 ? Dims{0} : Dims{0, 2};
    const Shape per_channel = x.dim() == 2 ? Shape{1, num_features_} : Shape{1, num_features_, 1};
    // μ = Σ_r Σ_i x_ri / N
    const Tensor mean = all_sum(world, x.sum(dims, true)) / n;
    // σ² = Σ_r Σ_i (x_ri − μ)² / N (biased), a second pass around μ for accuracy
    const Tensor centered = x - mean;
    const Tensor var = all_sum(world, (centered * centered).sum(dims, true)) / n;
    if (is_training() && running_mean_) {
        const NoGradGuard no_grad;
        // r ← (1 − momentum)·r + momentum·batch, with the unbiased variance σ²·N/(N − 1):
        // the same values on every rank, as μ and σ² are
        const double unbias = n / (n - 1);
        running_mean_->mul_(1 - momentum_).add_(mean.detach().reshape({num_features_}), momentum_);
        running_var_->mul_(1 - momentum_)
            .add_(var.detach().reshape({num_features_}), momentum_ * unbias);
        ++num_batches_tracked_->mutable_data<std::int64_t>()[0];  // exact, unlike via double
    }
    Tensor y = centered / sqrt(var + eps_);            // x̂ = (x − μ)/√(σ² + ε)
    if (weight_) y = y * weight.reshape(per_channel);  // y = x̂·γ + β
    if (bias_) y = y + bias.reshape(per_channel);
    return y;
}

}  // namespace descent::distributed
