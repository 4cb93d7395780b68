#pragma once
// What every update rule shares: typed access to a parameter, its gradient and its state
// buffers, so that each rule is one fused loop over the elements (no temporary tensors per
// step), written next to its formula.

#include <fmt/format.h>

#include <cstdint>
#include <string_view>

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

/// θ ← θ·(1 − lr·wd): decoupled weight decay (Loshchilov & Hutter), applied before the step
/// on the plain gradient. L2 regularisation instead adds wd·θ to the gradient (coupled).
template <class T>
void decay_weights(T* w, std::int64_t n, double lr, double weight_decay) {
    const T keep = static_cast<T>(1.0 - lr * weight_decay);
    for (std::int64_t i = 0; i < n; ++i) w[i] *= keep;
}

}  // namespace descent::optim::detail
