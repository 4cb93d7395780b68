#pragma once
// The update driver's typed side: what an algorithm's step sees of one parameter, and the
// pieces every update rule shares, so that each rule is one fused loop over the elements (no
// temporary tensors per step) written next to its formula.

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

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
namespace detail {

/// Parameters below kParallelUpdate elements are spread over the threads, whole parameters
/// to each, when they hold at least this many elements together: an Adam update of 2¹⁶ floats
/// takes about 30 µs, several fork/joins' worth.
inline constexpr std::int64_t kSpreadUpdates = std::int64_t{1} << 16;

/// True when no two of these byte ranges overlap: parameters updated at once must not write
/// memory another one reads or writes (two leaves may share storage, a gradient may be
/// another parameter).
using ByteRange = std::pair<std::uintptr_t, std::uintptr_t>;
bool disjoint(std::vector<ByteRange> ranges);

/// The bytes of each target's parameter and gradient.
template <class Target>
std::vector<ByteRange> byte_ranges(const std::vector<Target>& targets) {
    std::vector<ByteRange> ranges;
    ranges.reserve(2 * targets.size());
    for (const Target& t : targets) {
        for (const Tensor& x : {*t.param, t.param->grad()}) {
            const auto begin = reinterpret_cast<std::uintptr_t>(x.raw_data());
            ranges.emplace_back(begin, begin + x.numel() * dtype_size(x.dtype()));
        }
    }
    return ranges;
}

}  // namespace detail

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
    // A large parameter is split over the threads by its own update (for_ranges); the small
    // ones, when enough, are dealt out to the threads in shares of about equal size, if no
    // parameter shares memory with another (then the order of the updates cannot matter).
    std::size_t small_count = 0;
    std::int64_t small_elements = 0;
    for (const Target& t : targets) {
        if (t.param->numel() < detail::kParallelUpdate) {
            ++small_count;
            small_elements += t.param->numel();
        }
    }
    const bool worth = small_count > 1 && small_elements >= detail::kSpreadUpdates;
    const int threads =
        spread == Spread::threads && worth
            ? static_cast<int>(std::min<std::size_t>(get_num_threads(), small_count))
            : 1;
    if (threads <= 1 || !detail::disjoint(detail::byte_ranges(targets))) {
        for (const Target& t : targets) update_one(t);
        return;
    }
    // The small parameters in order; parameter i goes to the thread whose share of their
    // elements holds its first element.
    std::vector<const Target*> small;
    std::vector<std::int64_t> first{0};
    small.reserve(small_count);
    first.reserve(small_count + 1);
    for (const Target& t : targets) {
        if (t.param->numel() >= detail::kParallelUpdate) {
            update_one(t);
        } else {
            small.push_back(&t);
            first.push_back(first.back() + t.param->numel());
        }
    }
    std::exception_ptr failure;
#pragma omp parallel num_threads(threads)
    {
        const NoGradGuard no_grad_here;  // grad mode is per thread
        const std::int64_t k = omp_get_num_threads(), me = omp_get_thread_num();
        try {
            for (std::size_t i = 0; i < small.size(); ++i) {
                if (first[i] * k / small_elements == me) update_one(*small[i]);
            }
        } catch (...) {
#pragma omp critical(descent_update_failure)
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
}

}  // namespace descent::optim
