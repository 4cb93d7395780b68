#include "descent/optim/rmsprop.hpp"

#include <cmath>

#include "update.hpp"

namespace descent::optim {

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : TypedOptimizer("RMSprop", std::move(params), options) {}

Hyperparameters hyperparameters(const RMSpropOptions& o) {
    return {{"lr", o.lr},
            {"alpha", o.alpha},
            {"eps", o.eps},
            {"weight_decay", o.weight_decay},
            {"momentum", o.momentum},
            {"centered", o.centered ? 1.0 : 0.0}};
}

void RMSprop::step() {
    update_each([&](const ParamGroup& group, auto u) {
        using T = typename decltype(u)::Scalar;
        const T lr = T(group.lr()), eps = T(group.get("eps")), wd = T(group.get("weight_decay"));
        const T keep = T(group.get("alpha")), take = T(1 - group.get("alpha"));
        const T mu = T(group.get("momentum"));
        ++u.state.step;
        T* __restrict a = u.buffer("square_avg");
        T* __restrict c = group.get("centered") != 0.0 ? u.buffer("grad_avg") : nullptr;
        T* __restrict b = mu > 0 ? u.buffer("momentum_buffer") : nullptr;
        for (std::int64_t i = 0; i < u.n; ++i) {
            const T d = u.g[i] + wd * u.w[i];
            a[i] = keep * a[i] + take * d * d;  // a = αa + (1 − α)d²
            T r;
            if (c) {
                c[i] = keep * c[i] + take * d;  // centered: r = √(a − c²), c = αc + (1 − α)d
                r = std::sqrt(a[i] - c[i] * c[i]);
            } else {
                r = std::sqrt(a[i]);
            }
            r += eps;
            if (b) {
                b[i] = mu * b[i] + d / r;  // b = μb + d/r;  θ ← θ − lr·b
                u.w[i] -= lr * b[i];
            } else {
                u.w[i] -= lr * d / r;  // θ ← θ − lr·d/r
            }
        }
    });
}

}  // namespace descent::optim
