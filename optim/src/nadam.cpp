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
    update_each([&](const ParamGroup& group, auto u) {
        using T = typename decltype(u)::Scalar;
        const double lr = group.lr(), beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const double psi = group.get("momentum_decay");
        const auto t = static_cast<double>(++u.state.step);
        const double mu = beta1 * (1 - 0.5 * std::pow(0.96, t * psi));  // μₜ = β₁(1 − ½·0.96^(tψ))
        const double mu_next = beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * psi));
        const double product = u.state.scalars.try_emplace("mu_product", 1.0).first->second *= mu;
        const T grad_step = T(lr * (1 - mu) / (1 - product));  // lr(1 − μₜ)/(1 − Πμ)
        const T momentum_step = T(lr * mu_next / (1 - product * mu_next));  // lr·μₜ₊₁/(1 − Πμ·μₜ₊₁)
        const T bias2 = T(std::sqrt(1 - std::pow(beta2, t)));
        const T wd = T(group.get("weight_decay")), eps = T(group.get("eps"));
        const detail::Moments<T> moments(u, beta1, beta2);
        for (std::int64_t i = 0; i < u.n; ++i) {
            const T d = u.g[i] + wd * u.w[i];
            moments.update(i, d);
            const T r = std::sqrt(moments.v[i]) / bias2 + eps;  // √v̂ + ε
            u.w[i] -= grad_step * d / r;
            u.w[i] -= momentum_step * moments.m[i] / r;
        }
    });
}

}  // namespace descent::optim
