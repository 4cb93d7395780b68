#include "descent/optim/rmsprop.hpp"

#include <cmath>

#include "driver.hpp"

namespace descent::optim {

template <class F>
void visit_fields(RMSpropOptions& o, F&& f) {
    f("lr", o.lr);
    f("alpha", o.alpha);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
    f("momentum", o.momentum);
    f("centered", o.centered);
}

namespace {
/// A step of RMSprop:  a = αa + (1 − α)d²;  r = √a, or centered c = αc + (1 − α)d, r = √(a − c²)
///   μ > 0:  b = μb + d/(r + ε),  θ ← θ − lr·b;   else θ ← θ − lr·d/(r + ε)
template <class T>
struct RMSpropRule {
    using Scalar = T;
    T* a;                       // "square_avg"
    T* c;                       // "grad_avg" (centered)
    T* b;                       // "momentum_buffer" (μ > 0)
    T lr, keep, take, mu, eps;  // lr, α, 1 − α, μ, ε

    RMSpropRule(const RMSpropOptions& o, const detail::Param<T>& p)
        : a(p.buffer("square_avg")),
          c(o.centered ? p.buffer("grad_avg") : nullptr),
          b(o.momentum > 0 ? p.buffer("momentum_buffer") : nullptr),
          lr(T(o.lr)),
          keep(T(o.alpha)),
          take(T(1 - o.alpha)),
          mu(T(o.momentum)),
          eps(T(o.eps)) {}

    std::array<bool, 2> flags() const { return {c != nullptr, b != nullptr}; }

    template <bool centered, bool momentum>
    void element(std::int64_t i, T& w, T d) const {
        a[i] = keep * a[i] + take * d * d;
        T r;
        if constexpr (centered) {
            c[i] = keep * c[i] + take * d;
            r = std::sqrt(a[i] - c[i] * c[i]);
        } else {
            r = std::sqrt(a[i]);
        }
        r += eps;
        if constexpr (momentum) {
            b[i] = mu * b[i] + detail::quotient(d, r);
            w -= lr * b[i];
        } else {
            w -= detail::quotient(lr * d, r);
        }
    }
};

const std::vector<StateEntry> kRMSpropState{
    {"square_avg", at_least(0)}, {"grad_avg", finite()}, {"momentum_buffer", finite()}};
}  // namespace

Hyperparameters hyperparameters(const RMSpropOptions& o) {
    return detail::to_hyperparameters(o);
}

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : TypedOptimizer("RMSprop", std::move(params), options, kRMSpropState) {}

Tensor RMSprop::step(const Closure& closure) {
    Tensor loss = detail::evaluate(closure);
    detail::run<RMSpropRule, RMSpropOptions>(*this, detail::Decay::l2);
    return loss;
}

}  // namespace descent::optim
