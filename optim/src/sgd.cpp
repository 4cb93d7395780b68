#include "descent/optim/sgd.hpp"

#include "descent/optim/sgdw.hpp"
#include "driver.hpp"

namespace descent::optim {

template <class F>
void visit_fields(SGDOptions& o, F&& f) {
    f("lr", o.lr);
    f("momentum", o.momentum);
    f("dampening", o.dampening);
    f("weight_decay", o.weight_decay);
    f("nesterov", o.nesterov);
}

namespace {
/// A step of SGD on d (the gradient, with L2 decay):
///   μ = 0:  θ ← θ − lr·d
///   else:   b = d on the first step, then b = μb + (1 − τ)d;  θ ← θ − lr·b,
///           or with Nesterov θ ← θ − lr·(d + μb)
template <class T>
struct SGDRule {
    using Scalar = T;
    T* b;  // "momentum_buffer" (μ > 0)
    bool first;
    bool nesterov;
    T rate, mu, take;  // lr, μ, 1 − τ

    SGDRule(const SGDOptions& o, const detail::Param<T>& p)
        : b(nullptr),
          first(!p.has("momentum_buffer")),
          nesterov(o.nesterov),
          rate(T(o.lr)),
          mu(T(o.momentum)),
          take(T(1 - o.dampening)) {
        if (o.momentum != 0.0) b = p.buffer("momentum_buffer");
    }

    std::array<bool, 3> flags() const { return {b != nullptr, first, nesterov}; }

    template <bool momentum, bool is_first, bool is_nesterov>
    void element(std::int64_t i, T& w, T d) const {
        if constexpr (!momentum) {
            w -= rate * d;
        } else {
            if constexpr (is_first) {
                b[i] = d;
            } else {
                b[i] = mu * b[i] + take * d;
            }
            if constexpr (is_nesterov) {
                w -= rate * (d + mu * b[i]);
            } else {
                w -= rate * b[i];
            }
        }
    }
};

const std::vector<StateEntry> kSGDState{{"momentum_buffer", finite()}};
}  // namespace

Hyperparameters hyperparameters(const SGDOptions& o) {
    if (o.nesterov && !(o.momentum > 0 && o.dampening == 0)) {
        throw Error("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    }
    return detail::to_hyperparameters(o);
}

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD("SGD", std::move(params), options, false) {}

SGD::SGD(std::string name, std::vector<Tensor> params, SGDOptions options, bool decoupled)
    : TypedOptimizer(std::move(name), std::move(params), options, kSGDState),
      decoupled_(decoupled) {}

Tensor SGD::step(const Closure& closure) {
    Tensor loss = detail::evaluate(closure);
    detail::run<SGDRule, SGDOptions>(*this,
                                     decoupled_ ? detail::Decay::decoupled : detail::Decay::l2);
    return loss;
}

SGDW::SGDW(std::vector<Tensor> params, SGDOptions options)
    : SGD("SGDW", std::move(params), options, true) {}

}  // namespace descent::optim
