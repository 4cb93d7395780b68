#include "descent/optim/adabound.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "driver.hpp"
#include "moments.hpp"

namespace descent::optim {
namespace {
/// AdaBound's options with the group's lr at construction, which final_lr is relative to.
struct AdaBoundGroup : AdaBoundOptions {
    double base_lr = 0.0;
};
}  // namespace

template <class F>
void visit_fields(AdaBoundGroup& o, F&& f) {
    f("lr", o.lr);
    f("base_lr", o.base_lr);
    f("beta1", o.betas[0]);
    f("beta2", o.betas[1]);
    f("final_lr", o.final_lr);
    f("gamma", o.gamma);
    f("eps", o.eps);
    f("weight_decay", o.weight_decay);
    f("amsbound", o.amsbound);
}

namespace {
/// Step t of AdaBound: the moments m and v, v̂ = max(v̂, v) with AMSBound (else v̂ = v), the
/// final rate α* = final_lr·lr/base_lr and its bounds η_l = α*(1 − 1/(γt + 1)),
/// η_u = α*(1 + 1/(γt)); then  θ ← θ − clamp(lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) / (√v̂ + ε), η_l, η_u)·m
template <class T>
struct AdaBoundRule {
    using Scalar = T;
    detail::Moments<T> moments;
    T* vmax;  // "max_exp_avg_sq" (AMSBound)
    T step_size, lower, upper, eps;

    AdaBoundRule(const AdaBoundGroup& o, const detail::Param<T>& p)
        : moments(p, o.betas), vmax(o.amsbound ? p.buffer("max_exp_avg_sq") : nullptr) {
        const auto t = static_cast<double>(p.step());
        step_size =
            T(o.lr * std::sqrt(1 - std::pow(o.betas[1], t)) / (1 - std::pow(o.betas[0], t)));
        const double final_lr = o.final_lr * o.lr / o.base_lr;
        lower = T(final_lr * (1 - 1 / (o.gamma * t + 1)));
        upper = T(final_lr * (1 + 1 / (o.gamma * t)));
        eps = T(o.eps);
    }

    std::array<bool, 1> flags() const { return {vmax != nullptr}; }

    template <bool amsbound>
    void element(std::int64_t i, T& w, T d) const {
        moments.update(i, d);
        T v = moments.v[i];
        if constexpr (amsbound) v = vmax[i] = std::max(vmax[i], v);
        w -= std::clamp(step_size / (std::sqrt(v) + eps), lower, upper) * moments.m[i];
    }
};

const std::vector<StateEntry> kAdaBoundState{
    detail::kExpAvg, detail::kExpAvgSq, {"max_exp_avg_sq", at_least(0)}};
}  // namespace

Hyperparameters hyperparameters(const AdaBoundOptions& o) {
    if (!(o.lr > 0)) throw Error(fmt::format("AdaBound: lr must be > 0, got {}", o.lr));
    AdaBoundGroup group{o};
    group.base_lr = o.lr;
    return detail::to_hyperparameters(group);
}

AdaBound::AdaBound(std::vector<Tensor> params, AdaBoundOptions options)
    : TypedOptimizer("AdaBound", std::move(params), options, kAdaBoundState) {}

Tensor AdaBound::step(const Closure& closure) {
    Tensor loss = detail::evaluate(closure);
    detail::run<AdaBoundRule, AdaBoundGroup>(*this, detail::Decay::l2);
    return loss;
}

}  // namespace descent::optim
