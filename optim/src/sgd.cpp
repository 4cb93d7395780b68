#include "descent/optim/sgd.hpp"

#include <fmt/format.h>

#include "descent/optim/sgdw.hpp"
#include "update.hpp"

namespace descent::optim {
Hyperparameters hyperparameters(const SGDOptions& o) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0)) {
        throw Error("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    }
    return {{"lr", o.lr},
            {"momentum", o.momentum},
            {"dampening", o.dampening},
            {"weight_decay", o.weight_decay},
            {"nesterov", o.nesterov ? 1.0 : 0.0}};
}

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD("SGD", std::move(params), options, false) {}

SGD::SGD(std::string name, std::vector<Tensor> params, SGDOptions options, bool decoupled)
    : TypedOptimizer(std::move(name), std::move(params), options), decoupled_(decoupled) {}

void SGD::step() {
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double lr = group.lr(), wd = group.get("weight_decay");
        const double mu = group.get("momentum"), tau = group.get("dampening");
        const bool nesterov = group.get("nesterov") != 0.0;
        const bool first = !state.buffers.contains("momentum_buffer");
        Tensor* b = mu != 0.0 ? &detail::buffer(state, "momentum_buffer", p) : nullptr;
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            const std::int64_t n = p.numel();
            T* __restrict buf = b ? b->mutable_data<T>() : nullptr;
            const auto decay = detail::weight_decay(lr, wd, decoupled_);
            const T l2 = T(decay.l2), keep = T(decay.keep);
            const T rate = T(lr), mom = T(mu), take = T(1 - tau);
            if (!buf) {
                for (std::int64_t i = 0; i < n; ++i) w[i] = keep * w[i] - rate * (g[i] + l2 * w[i]);
                return;
            }
            detail::with_flag(first, [&](auto is_first) {
                detail::with_flag(nesterov, [&](auto is_nesterov) {
                    for (std::int64_t i = 0; i < n; ++i) {
                        const T d = g[i] + l2 * w[i];  // d = g + wd·θ (L2, coupled)
                        if constexpr (is_first) {
                            buf[i] = d;  // b = d on the first step
                        } else {
                            buf[i] = mom * buf[i] + take * d;  // b = μb + (1 − τ)d
                        }
                        if constexpr (is_nesterov) {
                            w[i] = keep * w[i] - rate * (d + mom * buf[i]);  // θ ← θ − lr·(d + μb)
                        } else {
                            w[i] = keep * w[i] - rate * buf[i];  // θ ← θ − lr·b
                        }
                    }
                });
            });
        });
        ++state.step;
    });
}

SGDW::SGDW(std::vector<Tensor> params, SGDOptions options)
    : SGD("SGDW", std::move(params), options, true) {}

}  // namespace descent::optim
