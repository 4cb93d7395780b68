#include "descent/optim/sgd.hpp"

#include <fmt/format.h>

#include "descent/optim/sgdw.hpp"
#include "update.hpp"

namespace descent::optim {
Hyperparameters hyperparameters(const SGDOptions& o) {
    if (o.nesterov && !(o.momentum > 0 && o.dampening == 0)) {
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
    update_each([&](const ParamGroup& group, auto u) {
        using T = typename decltype(u)::Scalar;
        const double lr = group.lr(), mu = group.get("momentum");
        const auto decay = detail::weight_decay(lr, group.get("weight_decay"), decoupled_);
        const T l2 = T(decay.l2), keep = T(decay.keep), rate = T(lr), mom = T(mu);
        const T take = T(1 - group.get("dampening"));
        const bool first = !u.state.buffers.contains("momentum_buffer");
        ++u.state.step;
        if (mu == 0.0) {
            detail::for_ranges(u, [=](auto r) {
                for (std::int64_t i = 0; i < r.n; ++i)  // θ ← θ − lr·(g + wd·θ)
                    r.w[i] = keep * r.w[i] - rate * (r.g[i] + l2 * r.w[i]);
            });
            return;
        }
        T* const buffer = u.buffer("momentum_buffer");
        detail::with_flag(first, [&](auto is_first) {
            detail::with_flag(group.get("nesterov") != 0.0, [&](auto is_nesterov) {
                detail::for_ranges(u, [=](auto r) {
                    T* __restrict b = r.at(buffer);
                    for (std::int64_t i = 0; i < r.n; ++i) {
                        const T d = r.g[i] + l2 * r.w[i];  // d = g + wd·θ (L2, coupled)
                        if constexpr (is_first) {
                            b[i] = d;  // b = d on the first step
                        } else {
                            b[i] = mom * b[i] + take * d;  // b = μb + (1 − τ)d
                        }
                        if constexpr (is_nesterov) {
                            r.w[i] =
                                keep * r.w[i] - rate * (d + mom * b[i]);  // θ ← θ − lr·(d + μb)
                        } else {
                            r.w[i] = keep * r.w[i] - rate * b[i];  // θ ← θ − lr·b
                        }
                    }
                });
            });
        });
    });
}

SGDW::SGDW(std::vector<Tensor> params, SGDOptions options)
    : SGD("SGDW", std::move(params), options, true) {}

}  // namespace descent::optim
