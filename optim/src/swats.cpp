#include "descent/optim/swats.hpp"

#include <cmath>

#include "driver.hpp"
#include "moments.hpp"

namespace descent::optim {

template <class F>
void visit_fields(SWATSOptions& o, F&& f) {
    f("lr", o.lr);
    f("beta1", o.betas[0]);
    f("beta2", o.betas[1]);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
    f("eps_switch", o.eps_switch);
}

namespace {
/// Step k of SWATS's Adam phase: the moments m and v, then
///   p = −lr·√(1 − β₂ᵏ)/(1 − β₁ᵏ) · m/(√v + ε);  θ ← θ + p
/// summing pᵀp and pᵀd for the switch (k counts the optimizer's steps).
template <class T>
struct AdamPhaseRule {
    using Scalar = T;
    static constexpr std::size_t kSums = 2;  // pᵀp, pᵀd
    detail::Moments<T> moments;
    T scale;  // −lr·√(1 − β₂ᵏ)/(1 − β₁ᵏ)
    T eps;

    AdamPhaseRule(const SWATSOptions& o, const detail::Param<T>& p, double k)
        : moments(p, o.betas),
          scale(T(-o.lr * std::sqrt(1 - std::pow(o.betas[1], k)) / (1 - std::pow(o.betas[0], k)))),
          eps(T(o.eps)) {}

    std::array<bool, 0> flags() const { return {}; }

    template <bool...>
    void element(std::int64_t i, T& w, T d, std::array<double, kSums>& sums) const {
        moments.update(i, d);
        const T step = detail::quotient(scale * moments.m[i], std::sqrt(moments.v[i]) + eps);
        w += step;
        sums[0] += static_cast<double>(step) * static_cast<double>(step);
        sums[1] += static_cast<double>(step) * static_cast<double>(d);
    }
};

/// A step of SWATS's SGD phase at the rate Λ it switched with:
///   b = β₁b + d;  θ ← θ − (1 − β₁)Λ·b
template <class T>
struct SGDPhaseRule {
    using Scalar = T;
    T* b;  // "momentum_buffer"
    T beta1, rate;

    SGDPhaseRule(const SWATSOptions& o, const detail::Param<T>& p, double sgd_lr)
        : b(p.buffer("momentum_buffer")),
          beta1(T(o.betas[0])),
          rate(T((1 - o.betas[0]) * sgd_lr)) {}

    std::array<bool, 0> flags() const { return {}; }

    template <bool...>
    void element(std::int64_t i, T& w, T d) const {
        b[i] = beta1 * b[i] + d;
        w -= rate * b[i];
    }
};

const std::vector<StateEntry> kSWATSState{
    detail::kExpAvg, detail::kExpAvgSq, {"momentum_buffer", finite()}};
}  // namespace

Hyperparameters hyperparameters(const SWATSOptions& o) {
    return detail::to_hyperparameters(o);
}

SWATS::SWATS(std::vector<Tensor> params, SWATSOptions options)
    : TypedOptimizer("SWATS", std::move(params), options, kSWATSState) {}

Tensor SWATS::step(const Closure& closure) {
    Tensor loss = detail::evaluate(closure);
    if (switched()) {
        detail::run<SGDPhaseRule, SWATSOptions>(*this, detail::Decay::l2, sgd_lr_);
    } else {
        adam_step();
    }
    ++steps_;  // only once the step has happened: a refused step changes nothing
    return loss;
}

void SWATS::adam_step() {
    const auto k = static_cast<double>(steps_ + 1);  // this step's number
    const auto [pp, pd] = detail::run<AdamPhaseRule, SWATSOptions>(*this, detail::Decay::l2, k);
    if (pd == 0.0) return;
    const double beta2 = param_groups().front().get("beta2");
    const double gamma = pp / -pd;                    // γ_k = pᵀp / (−pᵀd)
    lambda_ = beta2 * lambda_ + (1 - beta2) * gamma;  // λ = β₂λ + (1 − β₂)γ_k
    const double corrected = lambda_ / (1 - std::pow(beta2, k));
    if (k > 1 && std::abs(corrected - gamma) < param_groups().front().get("eps_switch")) {
        switch_step_ = steps_ + 1;
        sgd_lr_ = corrected;  // Λ
    }
}

void SWATS::save_extra(StateDict& out) const {
    out.emplace_back("swats.steps", int_tensor({steps_}, {}));
    out.emplace_back("swats.lambda", scalar_tensor(lambda_, {.dtype = Dtype::float64}));
    out.emplace_back("swats.switch_step", int_tensor({switch_step_}, {}));
    out.emplace_back("swats.sgd_lr", scalar_tensor(sgd_lr_, {.dtype = Dtype::float64}));
}

StagedLoad SWATS::stage_extra(StateReader& in) {
    const std::int64_t steps = in.count("swats.steps");
    const double lambda = in.real("swats.lambda");
    const std::int64_t switch_step = in.count("swats.switch_step", 0, steps);
    const double sgd_lr = in.real("swats.sgd_lr", at_least(0));
    return [=, this] {
        steps_ = steps;
        lambda_ = lambda;
        switch_step_ = switch_step;
        sgd_lr_ = sgd_lr;
    };
}

}  // namespace descent::optim
