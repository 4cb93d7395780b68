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
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double lr = group.lr(), alpha = group.get("alpha"), eps = group.get("eps");
        const double wd = group.get("weight_decay"), mu = group.get("momentum");
        const bool centered = group.get("centered") != 0.0;
        ++state.step;
        Tensor& a_buf = detail::buffer(state, "square_avg", p);
        Tensor* c_buf = centered ? &detail::buffer(state, "grad_avg", p) : nullptr;
        Tensor* b_buf = mu > 0 ? &detail::buffer(state, "momentum_buffer", p) : nullptr;
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            T* __restrict a = a_buf.mutable_data<T>();
            T* __restrict c = c_buf ? c_buf->mutable_data<T>() : nullptr;
            T* __restrict b = b_buf ? b_buf->mutable_data<T>() : nullptr;
            const T keep = T(alpha), take = T(1 - alpha);
            for (std::int64_t i = 0; i < p.numel(); ++i) {
                const T d = g[i] + T(wd) * w[i];
                a[i] = keep * a[i] + take * d * d;
                T r;
                if (c) {
                    c[i] = keep * c[i] + take * d;
                    r = std::sqrt(a[i] - c[i] * c[i]);
                } else {
                    r = std::sqrt(a[i]);
                }
                r += T(eps);
                if (b) {
                    b[i] = T(mu) * b[i] + d / r;
                    w[i] -= T(lr) * b[i];
                } else {
                    w[i] -= T(lr) * d / r;
                }
            }
        });
    });
}

}  // namespace descent::optim
