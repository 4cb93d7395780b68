#include "descent/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include "descent/optim/adamw.hpp"
#include "driver.hpp"
#include "moments.hpp"

namespace descent::optim {

template <class F>
void visit_fields(AdamOptions& o, F&& f) {
    f("lr", o.lr);
    f("beta1", o.betas[0]);
    f("beta2", o.betas[1]);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
    f("amsgrad", o.amsgrad);
}

namespace {
/// Step t of Adam: the moments m and v, v̂ = max(v̂, v) with AMSGrad (else v̂ = v), then
///   θ ← θ − lr/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
template <class T>
struct AdamRule {
    using Scalar = T;
    detail::Moments<T> moments;
    T* vmax;  // "max_exp_avg_sq": the largest v so far (AMSGrad)
    T rate;   // lr/(1 − β₁ᵗ)
    T bias2;  // √(1 − β₂ᵗ)
    T eps;

    AdamRule(const AdamOptions& o, const detail::Param<T>& p)
        : moments(p, o.betas),
          vmax(o.amsgrad ? p.buffer("max_exp_avg_sq") : nullptr),
          rate(T(o.lr / (1 - std::pow(o.betas[0], static_cast<double>(p.step()))))),
          bias2(T(std::sqrt(1 - std::pow(o.betas[1], static_cast<double>(p.step()))))),
          eps(T(o.eps)) {}

    std::array<bool, 1> flags() const { return {vmax != nullptr}; }

    template <bool amsgrad>
    void element(std::int64_t i, T& w, T d) const {
        moments.update(i, d);
        T v = moments.v[i];
        if constexpr (amsgrad) v = vmax[i] = std::max(vmax[i], v);
        w -= detail::quotient(rate * moments.m[i], std::sqrt(v) / bias2 + eps);
    }
};

const std::vector<StateEntry> kAdamState{
    detail::kExpAvg, detail::kExpAvgSq, {"max_exp_avg_sq", at_least(0)}};

AdamOptions as_adam(const AdamWOptions& o) {
    return {.lr = o.lr,
            .betas = o.betas,
            .eps = o.eps,
            .weight_decay = o.weight_decay,
            .amsgrad = o.amsgrad};
}
}  // namespace

Hyperparameters hyperparameters(const AdamOptions& o) {
    return detail::to_hyperparameters(o);
}

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam("Adam", std::move(params), options, false) {}

Adam::Adam(std::string name, std::vector<Tensor> params, AdamOptions options, bool decoupled)
    : TypedOptimizer(std::move(name), std::move(params), options, kAdamState),
      decoupled_(decoupled) {}

Tensor Adam::step(const Closure& closure) {
    Tensor loss = detail::evaluate(closure);
    detail::run<AdamRule, AdamOptions>(*this,
                                       decoupled_ ? detail::Decay::decoupled : detail::Decay::l2);
    return loss;
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Adam("AdamW", std::move(params), as_adam(options), true) {}

void AdamW::add_param_group(std::vector<Tensor> params, AdamWOptions options) {
    Adam::add_param_group(std::move(params), as_adam(options));
}

}  // namespace descent::optim
