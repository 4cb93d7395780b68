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
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double lr = group.lr(), wd = group.get("weight_decay"), eps = group.get("eps");
        const double beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const double gamma = group.get("gamma");
        const bool amsbound = group.get("amsbound") != 0.0;
        const auto t = static_cast<double>(++state.step);
        const double step_size = lr * std::sqrt(1 - std::pow(beta2, t)) / (1 - std::pow(beta1, t));
        const double final_lr = group.get("final_lr") * lr / group.get("base_lr");
        const double lower = final_lr * (1 - 1 / (gamma * t + 1));
        const double upper = final_lr * (1 + 1 / (gamma * t));
        Tensor* vmax_buf = amsbound ? &detail::buffer(state, "max_exp_avg_sq", p) : nullptr;
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            const detail::Moments<T> moments(state, p, beta1, beta2);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            T* __restrict vmax = vmax_buf ? vmax_buf->mutable_data<T>() : nullptr;
            for (std::int64_t i = 0; i < p.numel(); ++i) {
                const T d = g[i] + T(wd) * w[i];
                moments.update(i, d);
                T second = moments.v[i];
                if (vmax) second = vmax[i] = std::max(vmax[i], moments.v[i]);
                const T rate =
                    std::clamp(T(step_size) / (std::sqrt(second) + T(eps)), T(lower), T(upper));
                w[i] -= rate * moments.m[i];
            }
        });
    });
}

}  // namespace descent::optim
