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
    update_each([&](const ParamGroup& group, auto u) {
        using T = typename decltype(u)::Scalar;
        const double lr = group.lr(), beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const auto t = static_cast<double>(++u.state.step);
        const auto decay = detail::weight_decay(lr, group.get("weight_decay"), decoupled_);
        const T l2 = T(decay.l2), keep = T(decay.keep), e = T(group.get("eps"));
        const T rate = T(lr / (1 - std::pow(beta1, t)));       // lr/(1 − β₁ᵗ)
        const T bias2 = T(std::sqrt(1 - std::pow(beta2, t)));  // √(1 − β₂ᵗ)
        const detail::Moments<T> moments(u, beta1, beta2);
        T* __restrict vmax = group.get("amsgrad") != 0.0 ? u.buffer("max_exp_avg_sq") : nullptr;
        detail::with_flag(vmax != nullptr, [&](auto keep_max) {
            detail::for_ranges(u, [=](auto r) {
                const detail::Moments<T> mo = moments.from(r.begin);
                T* __restrict vm = r.at(vmax);
                for (std::int64_t i = 0; i < r.n; ++i) {
                    const T d = r.g[i] + l2 * r.w[i];
                    mo.update(i, d);
                    T second = mo.v[i];
                    if constexpr (keep_max) second = vm[i] = std::max(vm[i], mo.v[i]);
                    r.w[i] = keep * r.w[i] - rate * mo.m[i] / (std::sqrt(second) / bias2 + e);
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
