#include "descent/optim/adagrad.hpp"

#include <cmath>

#include "update.hpp"

namespace descent::optim {

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : TypedOptimizer("Adagrad", std::move(params), options) {}

Hyperparameters hyperparameters(const AdagradOptions& o) {
    return {{"lr", o.lr},
            {"lr_decay", o.lr_decay},
            {"weight_decay", o.weight_decay},
            {"initial_accumulator_value", o.initial_accumulator_value},
            {"eps", o.eps}};
}

void Adagrad::step() {
    update_each([&](const ParamGroup& group, auto u) {
        using T = typename decltype(u)::Scalar;
        const auto t = static_cast<double>(++u.state.step);
        const T clr =
            T(group.lr() / (1 + (t - 1) * group.get("lr_decay")));  // lr/(1 + (t−1)·decay)
        const T wd = T(group.get("weight_decay")), eps = T(group.get("eps"));
        T* __restrict s = u.buffer("sum", group.get("initial_accumulator_value"));
        for (std::int64_t i = 0; i < u.n; ++i) {
            const T d = u.g[i] + wd * u.w[i];
            s[i] += d * d;                                // s = s + d²
            u.w[i] -= clr * d / (std::sqrt(s[i]) + eps);  // θ ← θ − clr·d/(√s + ε)
        }
    });
}

}  // namespace descent::optim
