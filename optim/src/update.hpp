#pragma once
// What every update rule shares: typed access to a parameter, its gradient and its state
// buffers, so that each rule is one fused loop over the elements (no temporary tensors per
// step), written next to its formula.

#include <fmt/format.h>

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "descent/error.hpp"
#include "descent/optim/optimizer.hpp"

namespace descent::optim::detail {

/// The state buffer `name` of p's shape and dtype, created holding `fill` on first use.
Tensor& buffer(ParamState& state, std::string_view name, const Tensor& like, double fill = 0.0);

/// f(T{}) with T the parameter's element type (float or double).
template <class F>
void with_dtype(const Tensor& p, std::string_view op, F&& f) {
    if (p.grad().dtype() != p.dtype()) {
        throw DtypeError(fmt::format("{}: gradient is {} but the parameter {} is {}", op,
                                     dtype_name(p.grad().dtype()), shape_str(p.shape()),
                                     dtype_name(p.dtype())));
    }
    switch (p.dtype()) {
        case Dtype::float32:
            f(float{});
            break;
        case Dtype::float64:
            f(double{});
            break;
        default:
            throw DtypeError(fmt::format("{}: parameters must be float32 or float64, got {}", op,
                                         dtype_name(p.dtype())));
    }
}

/// f(std::true_type{}) or f(std::false_type{}): a runtime flag made a compile-time one, so an
/// update loop written with `if constexpr` has no branch inside and vectorizes.
template <class F>
decltype(auto) with_flag(bool flag, F&& f) {
    return flag ? f(std::true_type{}) : f(std::false_type{});
}

/// Adam's two moving averages of the gradient d — momentum's first moment and RMSProp's
/// second: m = β₁m + (1 − β₁)d,  v = β₂v + (1 − β₂)d², kept in the parameter's "exp_avg" and
/// "exp_avg_sq" buffers. Adam, NAdam, RAdam, AdaBound and SWATS all start from them.
template <class T>
struct Moments {
    Moments(ParamState& state, const Tensor& p, double beta1, double beta2)
        : m(buffer(state, "exp_avg", p).template mutable_data<T>()),
          v(buffer(state, "exp_avg_sq", p).template mutable_data<T>()),
          b1(T(beta1)),
          c1(T(1 - beta1)),
          b2(T(beta2)),
          c2(T(1 - beta2)) {}
    void update(std::int64_t i, T d) const {
        m[i] = b1 * m[i] + c1 * d;
        v[i] = b2 * v[i] + c2 * d * d;
    }
    T* __restrict m;
    T* __restrict v;
    T b1, c1, b2, c2;
};

/// Weight decay in its two forms. L2 regularisation (coupled) adds wd·θ to the gradient:
/// d = g + l2·θ. Decoupled decay (Loshchilov & Hutter; SGDW, AdamW) shrinks the weights
/// directly, θ ← θ·(1 − lr·wd), before the step on the plain gradient: θ ← keep·θ − step.
struct WeightDecay {
    double l2;
    double keep;
};

inline WeightDecay weight_decay(double lr, double wd, bool decoupled) {
    return decoupled ? WeightDecay{0.0, 1.0 - lr * wd} : WeightDecay{wd, 1.0};
}

}  // namespace descent::optim::detail
