#pragma once
// The update driver's typed side: what an algorithm's step sees of one parameter, and the
// pieces every update rule shares, so that each rule is one fused loop over the elements (no
// temporary tensors per step) written next to its formula.

#include <cstdint>
#include <string_view>
#include <type_traits>

#include <omp.h>

#include "descent/grad_mode.hpp"
#include "descent/optim/optimizer.hpp"
#include "descent/threads.hpp"

namespace descent::optim::detail {

/// The state buffer `name` of p's shape and dtype, created holding `fill` on first use.
Tensor& buffer(ParamState& state, std::string_view name, const Tensor& like, double fill = 0.0);

/// One parameter during an update, typed: weights w and gradient g of n elements, its state.
template <class T>
struct ParamUpdate {
    using Scalar = T;
    T* __restrict w;
    const T* __restrict g;
    std::int64_t n;
    ParamState& state;
    const Tensor& param;

    /// The state buffer `name` (created holding `fill`), as T*.
    T* buffer(std::string_view name, double fill = 0.0) const {
        return detail::buffer(state, name, param, fill).template mutable_data<T>();
    }
};

/// Parameters of at least this many elements are updated by get_num_threads() threads: an
/// update of 2²⁰ floats moves 20–28 MB (~1 ms), far more than a fork/join costs, and on 2 cores
/// a 10M-float Adam step went from 10.4 to 7.1–8.7 ms, SGD-momentum from 7.2 to 5.6 ms
/// (bench/compare, bench/README.md).
inline constexpr std::int64_t kParallelUpdate = std::int64_t{1} << 20;

/// Elements [begin, begin + n) of a parameter: its weights and gradient from there on.
template <class T>
struct Range {
    std::int64_t begin, n;
    T* __restrict w;
    const T* __restrict g;
    /// A state buffer of the parameter (from ParamUpdate::buffer), from `begin` on.
    T* at(T* buffer) const { return buffer ? buffer + begin : nullptr; }
};

/// body(Range) over u's elements: for u.n ≥ kParallelUpdate one contiguous range per thread
/// (get_num_threads()), else one call with them all. Each element is updated by exactly one
/// thread with the same arithmetic, so the result does not depend on the thread count.
template <class T, class Body>
void for_ranges(const ParamUpdate<T>& u, Body&& body) {
    const int threads = u.n >= kParallelUpdate ? get_num_threads() : 1;
    if (threads <= 1) {
        body(Range<T>{0, u.n, u.w, u.g});
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        const std::int64_t t = omp_get_thread_num(), k = omp_get_num_threads();
        const std::int64_t begin = u.n * t / k, end = u.n * (t + 1) / k;
        body(Range<T>{begin, end - begin, u.w + begin, u.g + begin});
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
    Moments(const ParamUpdate<T>& u, double beta1, double beta2)
        : m(u.buffer("exp_avg")),
          v(u.buffer("exp_avg_sq")),
          b1(T(beta1)),
          c1(T(1 - beta1)),
          b2(T(beta2)),
          c2(T(1 - beta2)) {}
    void update(std::int64_t i, T d) const {
        m[i] = b1 * m[i] + c1 * d;
        v[i] = b2 * v[i] + c2 * d * d;
    }
    /// The same moments from element `begin` on (for a Range).
    Moments from(std::int64_t begin) const {
        Moments part = *this;
        part.m += begin;
        part.v += begin;
        return part;
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

namespace descent::optim {

template <class F>
void GroupOptimizer::update_each(F&& update, Spread spread) {
    const std::vector<Target> targets = prepare_step();
    const NoGradGuard no_grad;
    auto update_one = [&update](const Target& t) {
        Tensor& p = *t.param;
        const Tensor grad = p.grad();
        if (p.dtype() == Dtype::float32) {
            update(*t.group, detail::ParamUpdate<float>{p.mutable_data<float>(), grad.data<float>(),
                                                        p.numel(), *t.state, p});
        } else {
            update(*t.group,
                   detail::ParamUpdate<double>{p.mutable_data<double>(), grad.data<double>(),
                                               p.numel(), *t.state, p});
        }
    };
    update_targets(targets, spread, update_one);
}

}  // namespace descent::optim
