#include "descent/optim/adabound.hpp"

#include <algorithm>
#include <cmath>

#include "update.hpp"

namespace descent::optim {

AdaBound::AdaBound(std::vector<Tensor> params, AdaBoundOptions options) : Optimizer("AdaBound") {
    add_param_group(std::move(params), options);
}

void AdaBound::add_param_group(std::vector<Tensor> params, AdaBoundOptions o) {
    if (o.lr <= 0 || o.final_lr < 0 || o.gamma < 0 || o.gamma >= 1 || o.eps < 0 ||
        o.weight_decay < 0 || o.betas[0] < 0 || o.betas[0] >= 1 || o.betas[1] < 0 ||
        o.betas[1] >= 1) {
        throw Error(
            "AdaBound: invalid options (lr > 0; final_lr, eps, weight_decay ≥ 0; gamma "
            "and betas in [0, 1))");
    }
    add_group(std::move(params), {{"lr", o.lr},
                                  {"base_lr", o.lr},
                                  {"beta1", o.betas[0]},
                                  {"beta2", o.betas[1]},
                                  {"final_lr", o.final_lr},
                                  {"gamma", o.gamma},
                                  {"eps", o.eps},
                                  {"weight_decay", o.weight_decay},
                                  {"amsbound", o.amsbound ? 1.0 : 0.0}});
}

void AdaBound::step() {
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double lr = group.lr(), wd = group.get("weight_decay"), eps = group.get("eps");
        const double beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const double gamma = group.get("gamma");
        const bool amsbound = group.get("amsbound") != 0.0;
        const auto t = static_cast<double>(++state.step);
        const double step_size = lr * std::sqrt(1 - std::pow(beta2, t)) / (1 - std::pow(beta1, t));
        const double final_lr = group.get("final_lr") * lr / group.get("base_lr");
        const double lower = final_lr * (1 - 1 / (gamma * t + 1));
        const double upper = final_lr * (1 + 1 / (gamma * t));
        Tensor& m_buf = detail::buffer(state, "exp_avg", p);
        Tensor& v_buf = detail::buffer(state, "exp_avg_sq", p);
        Tensor* vmax_buf = amsbound ? &detail::buffer(state, "max_exp_avg_sq", p) : nullptr;
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            T* __restrict m = m_buf.mutable_data<T>();
            T* __restrict v = v_buf.mutable_data<T>();
            T* __restrict vmax = vmax_buf ? vmax_buf->mutable_data<T>() : nullptr;
            for (std::int64_t i = 0; i < p.numel(); ++i) {
                const T d = g[i] + T(wd) * w[i];
                m[i] = T(beta1) * m[i] + T(1 - beta1) * d;
                v[i] = T(beta2) * v[i] + T(1 - beta2) * d * d;
                T second = v[i];
                if (vmax) second = vmax[i] = std::max(vmax[i], v[i]);
                const T rate =
                    std::clamp(T(step_size) / (std::sqrt(second) + T(eps)), T(lower), T(upper));
                w[i] -= rate * m[i];
            }
        });
    });
}

}  // namespace descent::optim
