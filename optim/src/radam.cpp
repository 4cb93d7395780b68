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
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double lr = group.lr(), wd = group.get("weight_decay"), eps = group.get("eps");
        const double beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const auto t = static_cast<double>(++state.step);
        const double bias1 = 1 - std::pow(beta1, t), bias2 = 1 - std::pow(beta2, t);
        const double rho_inf = 2 / (1 - beta2) - 1;
        const double rho_t = rho_inf - 2 * t * std::pow(beta2, t) / bias2;
        const bool rectify = rho_t > 5;
        const double rect = rectify ? std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                                                ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                                    : 0.0;
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            const detail::Moments<T> moments(state, p, beta1, beta2);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            for (std::int64_t i = 0; i < p.numel(); ++i) {
                const T d = g[i] + T(wd) * w[i];
                moments.update(i, d);
                const T m_hat = moments.m[i] / T(bias1);
                if (rectify) {
                    const T adaptive = T(std::sqrt(bias2)) / (std::sqrt(moments.v[i]) + T(eps));
                    w[i] -= m_hat * T(lr) * adaptive * T(rect);
                } else {
                    w[i] -= m_hat * T(lr);
                }
            }
        });
    });
}

}  // namespace descent::optim
