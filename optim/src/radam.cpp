#include "descent/optim/radam.hpp"

#include <cmath>

#include "update.hpp"

namespace descent::optim {

RAdam::RAdam(std::vector<Tensor> params, RAdamOptions options)
    : TypedOptimizer("RAdam", std::move(params), options) {}

Hyperparameters hyperparameters(const RAdamOptions& o) {
    return {{"lr", o.lr},
            {"beta1", o.betas[0]},
            {"beta2", o.betas[1]},
            {"eps", o.eps},
            {"weight_decay", o.weight_decay}};
}

void RAdam::step() {
    update_each([&](const ParamGroup& group, auto u) {
        using T = typename decltype(u)::Scalar;
        const double lr = group.lr(), beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const auto t = static_cast<double>(++u.state.step);
        const double bias1 = 1 - std::pow(beta1, t), bias2 = 1 - std::pow(beta2, t);
        const double rho_inf = 2 / (1 - beta2) - 1;  // ρ∞ = 2/(1 − β₂) − 1
        const double rho_t =
            rho_inf - 2 * t * std::pow(beta2, t) / bias2;  // ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)
        const bool rectify = rho_t > 5;
        // r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
        const double rect = rectify ? std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                                                ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                                    : 0.0;
        const T wd = T(group.get("weight_decay")), eps = T(group.get("eps"));
        const detail::Moments<T> moments(u, beta1, beta2);
        for (std::int64_t i = 0; i < u.n; ++i) {
            const T d = u.g[i] + wd * u.w[i];
            moments.update(i, d);
            const T m_hat = moments.m[i] / T(bias1);
            if (rectify) {  // θ ← θ − lr·m̂·r·√(1 − β₂ᵗ)/(√v + ε)
                const T adaptive = T(std::sqrt(bias2)) / (std::sqrt(moments.v[i]) + eps);
                u.w[i] -= m_hat * T(lr) * adaptive * T(rect);
            } else {  // θ ← θ − lr·m̂ (SGD with momentum while the variance is untractable)
                u.w[i] -= m_hat * T(lr);
            }
        }
    });
}

}  // namespace descent::optim
