#include "descent/optim/nadam.hpp"

#include <cmath>

#include "driver.hpp"
#include "moments.hpp"

namespace descent::optim {

template <class F>
void visit_fields(NAdamOptions& o, F&& f) {
    f("lr", o.lr);
    f("beta1", o.betas[0]);
    f("beta2", o.betas[1]);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
    f("momentum_decay", o.momentum_decay);
}

namespace {
/// Step t of NAdam: μₜ = β₁(1 − ½·0.96^(tψ)), P = Πμ (the scalar "mu_product"), the moments
/// m and v, r = √v/√(1 − β₂ᵗ) + ε, then
///   θ ← θ − lr(1 − μₜ)/(1 − P) · d/r − lr·μₜ₊₁/(1 − P·μₜ₊₁) · m/r
template <class T>
struct NAdamRule {
    using Scalar = T;
    detail::Moments<T> moments;
    T grad_step;      // lr(1 − μₜ)/(1 − P)
    T momentum_step;  // lr·μₜ₊₁/(1 − P·μₜ₊₁)
    T bias2;          // √(1 − β₂ᵗ)
    T eps;

    NAdamRule(const NAdamOptions& o, const detail::Param<T>& p) : moments(p, o.betas) {
        const auto t = static_cast<double>(p.step());
        const double beta1 = o.betas[0], psi = o.momentum_decay;
        const double mu = beta1 * (1 - 0.5 * std::pow(0.96, t * psi));
        const double mu_next = beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * psi));
        const double product = p.scalar("mu_product", 1.0) *= mu;
        grad_step = T(o.lr * (1 - mu) / (1 - product));
        momentum_step = T(o.lr * mu_next / (1 - product * mu_next));
        bias2 = T(std::sqrt(1 - std::pow(o.betas[1], t)));
        eps = T(o.eps);
    }

    std::array<bool, 0> flags() const { return {}; }

    template <bool...>
    void element(std::int64_t i, T& w, T d) const {
        moments.update(i, d);
        const T r = std::sqrt(moments.v[i]) / bias2 + eps;
        w -= detail::quotient(grad_step * d, r);
        w -= detail::quotient(momentum_step * moments.m[i], r);
    }
};

const std::vector<StateEntry> kNAdamState{
    detail::kExpAvg, detail::kExpAvgSq, {"mu_product", closed(0, 1), true}};
}  // namespace

Hyperparameters hyperparameters(const NAdamOptions& o) {
    return detail::to_hyperparameters(o);
}

NAdam::NAdam(std::vector<Tensor> params, NAdamOptions options)
    : TypedOptimizer("NAdam", std::move(params), options, kNAdamState) {}

Tensor NAdam::step(const Closure& closure) {
    Tensor loss = detail::evaluate(closure);
    detail::run<NAdamRule, NAdamOptions>(*this, detail::Decay::l2);
    return loss;
}

}  // namespace descent::optim
