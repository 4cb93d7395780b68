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
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double wd = group.get("weight_decay"), eps = group.get("eps");
        const auto t = static_cast<double>(++state.step);
        const double clr = group.lr() / (1 + (t - 1) * group.get("lr_decay"));
        Tensor& sum_buf = detail::buffer(state, "sum", p, group.get("initial_accumulator_value"));
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            T* __restrict s = sum_buf.mutable_data<T>();
            for (std::int64_t i = 0; i < p.numel(); ++i) {
                const T d = g[i] + T(wd) * w[i];
                s[i] += d * d;
                w[i] -= T(clr) * d / (std::sqrt(s[i]) + T(eps));
            }
        });
    });
}

}  // namespace descent::optim
