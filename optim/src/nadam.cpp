#include "descent/optim/nadam.hpp"

#include <cmath>

#include "update.hpp"

namespace descent::optim {

NAdam::NAdam(std::vector<Tensor> params, NAdamOptions options)
    : TypedOptimizer("NAdam", std::move(params), options) {}

Hyperparameters hyperparameters(const NAdamOptions& o) {
    return {{"lr", o.lr},
            {"beta1", o.betas[0]},
            {"beta2", o.betas[1]},
            {"eps", o.eps},
            {"weight_decay", o.weight_decay},
            {"momentum_decay", o.momentum_decay}};
}

void NAdam::step() {
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double lr = group.lr(), wd = group.get("weight_decay"), eps = group.get("eps");
        const double beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const double psi = group.get("momentum_decay");
        const auto t = static_cast<double>(++state.step);
        const double mu = beta1 * (1 - 0.5 * std::pow(0.96, t * psi));
        const double mu_next = beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * psi));
        auto [it, fresh] = state.scalars.try_emplace("mu_product", 1.0);
        const double product = it->second *= mu;
        const double grad_step = lr * (1 - mu) / (1 - product);
        const double momentum_step = lr * mu_next / (1 - product * mu_next);
        const double bias2_sqrt = std::sqrt(1 - std::pow(beta2, t));
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            const detail::Moments<T> moments(state, p, beta1, beta2);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            for (std::int64_t i = 0; i < p.numel(); ++i) {
                const T d = g[i] + T(wd) * w[i];
                moments.update(i, d);
                const T r = std::sqrt(moments.v[i]) / T(bias2_sqrt) + T(eps);
                w[i] -= T(grad_step) * d / r;
                w[i] -= T(momentum_step) * moments.m[i] / r;
            }
        });
    });
}

}  // namespace descent::optim
