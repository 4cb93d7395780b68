#include "descent/optim/adagrad.hpp"

#include <cmath>

#include "driver.hpp"

namespace descent::optim {

template <class F>
void visit_fields(AdagradOptions& o, F&& f) {
    f("lr", o.lr);
    f("lr_decay", o.lr_decay);
    f("weight_decay", o.weight_decay);
    f("initial_accumulator_value", o.initial_accumulator_value);
    f("eps", o.eps);
}

namespace {
/// Step t of Adagrad:  s = s + d²;  θ ← θ − lr/(1 + (t − 1)·lr_decay) · d/(√s + ε)
template <class T>
struct AdagradRule {
    using Scalar = T;
    T* s;   // "sum": Σ d² (from initial_accumulator_value)
    T clr;  // lr/(1 + (t − 1)·lr_decay)
    T eps;

    AdagradRule(const AdagradOptions& o, const detail::Param<T>& p)
        : s(p.buffer("sum", o.initial_accumulator_value)),
          clr(T(o.lr / (1 + static_cast<double>(p.step() - 1) * o.lr_decay))),
          eps(T(o.eps)) {}

    std::array<bool, 0> flags() const { return {}; }

    template <bool...>
    void element(std::int64_t i, T& w, T d) const {
        s[i] += d * d;
        w -= detail::quotient(clr * d, std::sqrt(s[i]) + eps);
    }
};

const std::vector<StateEntry> kAdagradState{{"sum", at_least(0)}};
}  // namespace

Hyperparameters hyperparameters(const AdagradOptions& o) {
    return detail::to_hyperparameters(o);
}

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : TypedOptimizer("Adagrad", std::move(params), options, kAdagradState) {}

Tensor Adagrad::step(const Closure& closure) {
    Tensor loss = detail::evaluate(closure);
    detail::run<AdagradRule, AdagradOptions>(*this, detail::Decay::l2);
    return loss;
}

}  // namespace descent::optim
