#include "descent/optim/adabound.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "update.hpp"

namespace descent::optim {

AdaBound::AdaBound(std::vector<Tensor> params, AdaBoundOptions options)
    : TypedOptimizer("AdaBound", std::move(params), options) {}

Hyperparameters hyperparameters(const AdaBoundOptions& o) {
    if (!(o.lr > 0)) throw Error(fmt::format("AdaBound: lr must be > 0, got {}", o.lr));
    return {{"lr", o.lr},
            {"base_lr", o.lr},
            {"beta1", o.betas[0]},
            {"beta2", o.betas[1]},
            {"final_lr", o.final_lr},
            {"gamma", o.gamma},
            {"eps", o.eps},
            {"weight_decay", o.weight_decay},
            {"amsbound", o.amsbound ? 1.0 : 0.0}};
}

void AdaBound::step() {
    update_each([&](const ParamGroup& group, auto u) {
        using T = typename decltype(u)::Scalar;
        const double lr = group.lr(), beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const double gamma = group.get("gamma");
        const auto t = static_cast<double>(++u.state.step);
        const double step_size = lr * std::sqrt(1 - std::pow(beta2, t)) / (1 - std::pow(beta1, t));
        const double final_lr = group.get("final_lr") * lr / group.get("base_lr");
        const T lower = T(final_lr * (1 - 1 / (gamma * t + 1)));  // η_l = η*(1 − 1/(γt + 1))
        const T upper = T(final_lr * (1 + 1 / (gamma * t)));      // η_u = η*(1 + 1/(γt))
        const T wd = T(group.get("weight_decay")), eps = T(group.get("eps"));
        const detail::Moments<T> moments(u, beta1, beta2);
        T* __restrict vmax = group.get("amsbound") != 0.0 ? u.buffer("max_exp_avg_sq") : nullptr;
        for (std::int64_t i = 0; i < u.n; ++i) {
            const T d = u.g[i] + wd * u.w[i];
            moments.update(i, d);
            T second = moments.v[i];
            if (vmax) second = vmax[i] = std::max(vmax[i], moments.v[i]);
            // θ ← θ − clip(α/(√v + ε), η_l, η_u)·m
            const T rate = std::clamp(T(step_size) / (std::sqrt(second) + eps), lower, upper);
            u.w[i] -= rate * moments.m[i];
        }
    });
}

}  // namespace descent::optim
