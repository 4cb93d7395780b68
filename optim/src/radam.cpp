#include "descent/optim/radam.hpp"

#include <cmath>

#include "driver.hpp"
#include "moments.hpp"

namespace descent::optim {

template <class F>
void visit_fields(RAdamOptions& o, F&& f) {
    f("lr", o.lr);
    f("beta1", o.betas[0]);
    f("beta2", o.betas[1]);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
}

namespace {
/// Step t of RAdam: the moments m and v, m̂ = m/(1 − β₁ᵗ), ρ∞ = 2/(1 − β₂) − 1,
/// ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ); while ρₜ ≤ 5 θ ← θ − lr·m̂ (SGD with momentum), after that
///   r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)),  θ ← θ − lr·m̂·r·√(1 − β₂ᵗ)/(√v + ε)
template <class T>
struct RAdamRule {
    using Scalar = T;
    detail::Moments<T> moments;
    bool rectify;  // ρₜ > 5
    T lr, bias1, bias2_root, rect, eps;

    RAdamRule(const RAdamOptions& o, const detail::Param<T>& p) : moments(p, o.betas) {
        const auto t = static_cast<double>(p.step());
        const double beta2 = o.betas[1];
        const double b1 = 1 - std::pow(o.betas[0], t), b2 = 1 - std::pow(beta2, t);
        const double rho_inf = 2 / (1 - beta2) - 1;
        const double rho_t = rho_inf - 2 * t * std::pow(beta2, t) / b2;
        rectify = rho_t > 5;
        rect = rectify ? T(std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                                     ((rho_inf - 4) * (rho_inf - 2) * rho_t)))
                       : T(0);
        lr = T(o.lr);
        bias1 = T(b1);
        bias2_root = T(std::sqrt(b2));
        eps = T(o.eps);
    }

    std::array<bool, 1> flags() const { return {rectify}; }

    template <bool rectified>
    void element(std::int64_t i, T& w, T d) const {
        moments.update(i, d);
        const T m_hat = moments.m[i] / bias1;
        if constexpr (rectified) {
            const T adaptive = detail::quotient(bias2_root, std::sqrt(moments.v[i]) + eps);
            w -= m_hat * lr * adaptive * rect;
        } else {
            w -= m_hat * lr;
        }
    }
};

const std::vector<StateEntry> kRAdamState{detail::kExpAvg, detail::kExpAvgSq};
}  // namespace

Hyperparameters hyperparameters(const RAdamOptions& o) {
    return detail::to_hyperparameters(o);
}

RAdam::RAdam(std::vector<Tensor> params, RAdamOptions options)
    : TypedOptimizer("RAdam", std::move(params), options, kRAdamState) {}

Tensor RAdam::step(const Closure& closure) {
    Tensor loss = detail::evaluate(closure);
    detail::run<RAdamRule, RAdamOptions>(*this, detail::Decay::l2);
    return loss;
}

}  // namespace descent::optim
