#include "descent/optim/adam.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "descent/optim/adamw.hpp"
#include "update.hpp"

namespace descent::optim {
namespace {
AdamOptions as_adam(const AdamWOptions& o) {
    return {.lr = o.lr,
            .betas = o.betas,
            .eps = o.eps,
            .weight_decay = o.weight_decay,
            .amsgrad = o.amsgrad};
}
}  // namespace

Hyperparameters hyperparameters(const AdamOptions& o) {
    return {{"lr", o.lr},
            {"beta1", o.betas[0]},
            {"beta2", o.betas[1]},
            {"eps", o.eps},
            {"weight_decay", o.weight_decay},
            {"amsgrad", o.amsgrad ? 1.0 : 0.0}};
}

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam("Adam", std::move(params), options, false) {}

Adam::Adam(std::string name, std::vector<Tensor> params, AdamOptions options, bool decoupled)
    : TypedOptimizer(std::move(name), std::move(params), options), decoupled_(decoupled) {}

void Adam::step() {
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double lr = group.lr(), wd = group.get("weight_decay"), eps = group.get("eps");
        const double beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const bool amsgrad = group.get("amsgrad") != 0.0;
        const auto t = static_cast<double>(++state.step);
        const double step_size = lr / (1 - std::pow(beta1, t));
        const double bias2_sqrt = std::sqrt(1 - std::pow(beta2, t));
        Tensor* vmax_buf = amsgrad ? &detail::buffer(state, "max_exp_avg_sq", p) : nullptr;
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            T* __restrict vmax = vmax_buf ? vmax_buf->mutable_data<T>() : nullptr;
            const std::int64_t n = p.numel();
            const auto decay = detail::weight_decay(lr, wd, decoupled_);
            const T l2 = T(decay.l2), keep = T(decay.keep);
            const detail::Moments<T> moments(state, p, beta1, beta2);
            const T rate = T(step_size), bias2 = T(bias2_sqrt), e = T(eps);
            detail::with_flag(amsgrad, [&](auto keep_max) {
                for (std::int64_t i = 0; i < n; ++i) {
                    const T d = g[i] + l2 * w[i];
                    moments.update(i, d);
                    T second = moments.v[i];
                    if constexpr (keep_max) second = vmax[i] = std::max(vmax[i], moments.v[i]);
                    w[i] = keep * w[i] - rate * moments.m[i] / (std::sqrt(second) / bias2 + e);
                }
            });
        });
    });
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Adam("AdamW", std::move(params), as_adam(options), true) {}

void AdamW::add_param_group(std::vector<Tensor> params, AdamWOptions options) {
    Adam::add_param_group(std::move(params), as_adam(options));
}

}  // namespace descent::optim
