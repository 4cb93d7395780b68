#include "descent/optim/swats.hpp"

#include <cmath>

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
    ++steps_;
    if (switched()) {
        sgd_step();
    } else {
        adam_step();
    }
}

void SWATS::adam_step() {
    const auto k = static_cast<double>(steps_);
    double pp = 0.0, pd = 0.0;  // pᵀp and pᵀd over every parameter
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double lr = group.lr(), wd = group.get("weight_decay"), eps = group.get("eps");
        const double beta1 = group.get("beta1"), beta2 = group.get("beta2");
        const double scale = -lr * std::sqrt(1 - std::pow(beta2, k)) / (1 - std::pow(beta1, k));
        ++state.step;
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            const detail::Moments<T> moments(state, p, beta1, beta2);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            for (std::int64_t i = 0; i < p.numel(); ++i) {
                const T d = g[i] + T(wd) * w[i];
                moments.update(i, d);
                const T step = T(scale) * moments.m[i] / (std::sqrt(moments.v[i]) + T(eps));
                w[i] += step;
                pp += static_cast<double>(step) * static_cast<double>(step);
                pd += static_cast<double>(step) * static_cast<double>(d);
            }
        });
    });
    if (pd == 0.0) return;
    const double beta2 = param_groups().front().get("beta2");
    const double gamma = pp / -pd;
    lambda_ = beta2 * lambda_ + (1 - beta2) * gamma;
    const double corrected = lambda_ / (1 - std::pow(beta2, k));
    if (steps_ > 1 && std::abs(corrected - gamma) < param_groups().front().get("eps_switch")) {
        switch_step_ = steps_;
        sgd_lr_ = corrected;
    }
}

void SWATS::sgd_step() {
    for_each_param([&](const ParamGroup& group, ParamState& state, Tensor& p) {
        const double wd = group.get("weight_decay"), beta1 = group.get("beta1");
        ++state.step;
        Tensor& b_buf = detail::buffer(state, "momentum_buffer", p);
        detail::with_dtype(p, name(), [&](auto tag) {
            using T = decltype(tag);
            T* __restrict w = p.mutable_data<T>();
            const T* __restrict g = p.grad().data<T>();
            T* __restrict b = b_buf.mutable_data<T>();
            for (std::int64_t i = 0; i < p.numel(); ++i) {
                const T d = g[i] + T(wd) * w[i];
                b[i] = T(beta1) * b[i] + d;
                w[i] -= T((1 - beta1) * sgd_lr_) * b[i];
            }
        });
    });
}

void SWATS::save_extra(StateDict& out) const {
    auto scalar = [](double v) { return scalar_tensor(v, {.dtype = Dtype::float64}); };
    out["swats.steps"] = scalar_tensor(static_cast<double>(steps_), {.dtype = Dtype::int64});
    out["swats.lambda"] = scalar(lambda_);
    out["swats.switch_step"] =
        scalar_tensor(static_cast<double>(switch_step_), {.dtype = Dtype::int64});
    out["swats.sgd_lr"] = scalar(sgd_lr_);
}

void SWATS::load_extra(const StateDict& in) {
    auto get = [&](const char* key) {
        const auto it = in.find(key);
        if (it == in.end()) throw Error(std::string("SWATS.load_state_dict: no entry ") + key);
        return it->second;
    };
    const auto steps = get("swats.steps").item<std::int64_t>();
    const double lambda = get("swats.lambda").item();
    const auto switch_step = get("swats.switch_step").item<std::int64_t>();
    sgd_lr_ = get("swats.sgd_lr").item();
    steps_ = steps;
    lambda_ = lambda;
    switch_step_ = switch_step;
}

}  // namespace descent::optim
