#include "descent/optim/swats.hpp"

#include <cmath>

#include "state_io.hpp"
#include "update.hpp"

namespace descent::optim {

SWATS::SWATS(std::vector<Tensor> params, SWATSOptions options)
    : TypedOptimizer("SWATS", std::move(params), options) {}

Hyperparameters hyperparameters(const SWATSOptions& o) {
    return {{"lr", o.lr},
            {"beta1", o.betas[0]},
            {"beta2", o.betas[1]},
            {"eps", o.eps},
            {"weight_decay", o.weight_decay},
            {"eps_switch", o.eps_switch}};
}

void SWATS::step() {
    if (switched()) {
        sgd_step();
    } else {
        adam_step();
    }
    ++steps_;  // only once the step has happened: a refused step changes nothing
}

void SWATS::adam_step() {
    const auto k = static_cast<double>(steps_ + 1);  // this step's number
    double pp = 0.0, pd = 0.0;                       // pᵀp and pᵀd over every parameter
    update_each(
        [&](const ParamGroup& group, auto u) {
            using T = typename decltype(u)::Scalar;
            const double lr = group.lr(), beta1 = group.get("beta1"), beta2 = group.get("beta2");
            // p_k = −lr·√(1 − β₂ᵏ)/(1 − β₁ᵏ) · m/(√v + ε)
            const T scale = T(-lr * std::sqrt(1 - std::pow(beta2, k)) / (1 - std::pow(beta1, k)));
            const T wd = T(group.get("weight_decay")), eps = T(group.get("eps"));
            ++u.state.step;
            const detail::Moments<T> moments(u, beta1, beta2);
            for (std::int64_t i = 0; i < u.n; ++i) {
                const T d = u.g[i] + wd * u.w[i];
                moments.update(i, d);
                const T step = scale * moments.m[i] / (std::sqrt(moments.v[i]) + eps);
                u.w[i] += step;
                pp += static_cast<double>(step) * static_cast<double>(step);
                pd += static_cast<double>(step) * static_cast<double>(d);
            }
        },
        Spread::in_order);  // pp and pd sum over every parameter
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

void SWATS::sgd_step() {
    update_each([&](const ParamGroup& group, auto u) {
        using T = typename decltype(u)::Scalar;
        const T wd = T(group.get("weight_decay")), beta1 = T(group.get("beta1"));
        const T rate = T((1 - group.get("beta1")) * sgd_lr_);
        ++u.state.step;
        T* __restrict b = u.buffer("momentum_buffer");
        for (std::int64_t i = 0; i < u.n; ++i) {
            const T d = u.g[i] + wd * u.w[i];
            b[i] = beta1 * b[i] + d;  // b = β₁b + d
            u.w[i] -= rate * b[i];    // θ ← θ − (1 − β₁)Λ·b
        }
    });
}

void SWATS::save_extra(StateDict& out) const {
    out["swats.steps"] = detail::count_tensor(steps_);
    out["swats.lambda"] = detail::real_tensor(lambda_);
    out["swats.switch_step"] = detail::count_tensor(switch_step_);
    out["swats.sgd_lr"] = detail::real_tensor(sgd_lr_);
}

Optimizer::StagedLoad SWATS::stage_extra(const StateDict& in) {
    detail::StateReader reader(in, "SWATS.load_state_dict");
    const std::int64_t steps = reader.count("swats.steps");
    const double lambda = reader.real("swats.lambda");
    const std::int64_t switch_step = reader.count("swats.switch_step");
    const double sgd_lr = reader.real("swats.sgd_lr", at_least(0));
    reader.reject_unread({"swats."});
    return [=, this] {
        steps_ = steps;
        lambda_ = lambda;
        switch_step_ = switch_step;
        sgd_lr_ = sgd_lr;
    };
}

}  // namespace descent::optim
