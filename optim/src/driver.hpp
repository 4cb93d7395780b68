#pragma once
// The driver every first-order update rule runs through. It owns what the rules share: the
// checks before anything changes (groups.hpp), the options read once per step into the
// algorithm's typed struct, the scalar type (float or double, as the parameter), weight decay
// in both forms, runtime flags made compile-time ones, and the threads. A rule is a class
// template over T that supplies the rest — its per-step scalars (the constructor), its flags
// and its element body — so that it reads as its formula:
//
//   template <class T> struct AdagradRule {
//       T* s;            // Σ d², the "sum" buffer
//       T rate, eps;
//       AdagradRule(const AdagradOptions& o, const Param<T>& p) : ... {}
//       std::array<bool, 0> flags() const { return {}; }
//       template <bool...> void element(std::int64_t i, T& w, T d) const {
//           s[i] += d * d;                        // s = s + d²
//           w -= rate * d / (std::sqrt(s[i]) + eps);
//       }
//   };
//
// element gets the weight w (already decayed, for decoupled decay) and d = g + wd·w (L2) or g.

#include <array>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include "descent/grad_mode.hpp"
#include "descent/threads.hpp"
#include "groups.hpp"
#include "options.hpp"

namespace descent::optim::detail {

/// Parameters of at least this many elements are updated by get_num_threads() threads: an
/// update of 2²⁰ floats moves 20–28 MB (~1 ms), far more than a fork/join costs, and on 2 cores
/// a 10M-float Adam step went from 10.4 to 7.1–8.7 ms, SGD-momentum from 7.2 to 5.6 ms
/// (bench/compare, bench/README.md).
inline constexpr std::int64_t kSplitUpdate = std::int64_t{1} << 20;

/// Sums over the elements that a rule reports (SWATS's pᵀp and pᵀd) are formed per chunk of
/// this many elements and the chunks added in order: the same bits at any thread count.
inline constexpr std::int64_t kSumChunk = std::int64_t{1} << 14;

/// One parameter in one step, as a rule's constructor sees it.
template <class T>
class Param {
  public:
    Param(ParamState& state, const Tensor& param) : state_(state), param_(param) {}
    /// This step's number: 1 at the first update.
    std::int64_t step() const { return state_.step; }
    /// The buffer `name`, shaped like the parameter, created holding `fill` on first use.
    T* buffer(std::string_view name, double fill = 0.0) const {
        auto it = state_.buffers.find(name);
        if (it == state_.buffers.end()) {
            it = state_.buffers.emplace(std::string(name), full_like(param_, fill)).first;
        }
        return it->second.template mutable_data<T>();
    }
    bool has(std::string_view name) const { return state_.buffers.contains(name); }
    /// The scalar `name`, created holding `initial` on first use.
    double& scalar(std::string_view name, double initial) const {
        return state_.scalars.try_emplace(std::string(name), initial).first->second;
    }

  private:
    ParamState& state_;
    const Tensor& param_;
};

/// num/den, or 0 where den is 0: an adaptive step's quotient, which with eps = 0 meets 0/0 for a
/// weight whose gradients so far were all 0 (its step is then 0, not NaN). Divided first and
/// chosen after, so that the element loops stay branch-free and vectorize.
template <class T>
T quotient(T num, T den) {
    const T q = num / den;
    return den != T(0) ? q : T(0);
}

/// Weight decay in its two forms. L2 regularisation (coupled) adds wd·θ to the gradient:
/// d = g + wd·θ. Decoupled decay (Loshchilov & Hutter; SGDW, AdamW) shrinks the weights
/// directly before the step on the plain gradient: θ ← (1 − lr·wd)·θ.
enum class Decay { l2, decoupled };

/// How many sums a rule reports (0 unless it declares kSums).
template <class R>
constexpr std::size_t sums_of() {
    if constexpr (requires { R::kSums; }) {
        return R::kSums;
    } else {
        return 0;
    }
}

/// f(std::bool_constant<flags[0]>{}, std::bool_constant<flags[1]>{}, ...): runtime flags made
/// compile-time ones, so that an element body written with `if constexpr` has no branch inside.
template <std::size_t I = 0, std::size_t N, class F, class... Done>
void with_flags(const std::array<bool, N>& flags, F&& f, Done... done) {
    if constexpr (I == N) {
        f(done...);
    } else if (flags[I]) {
        with_flags<I + 1>(flags, f, done..., std::true_type{});
    } else {
        with_flags<I + 1>(flags, f, done..., std::false_type{});
    }
}

/// Updates elements [begin, end) of one parameter, adding its sums into `part`.
using RangeUpdate = void (*)(const void* context, std::int64_t begin, std::int64_t end,
                             double* part);

/// update(context, begin, end, part) over [0, n): for n ≥ kSplitUpdate split over
/// get_num_threads() threads, else on this one. With `sums` > 0 the ranges are chunks of
/// kSumChunk elements, each summing into its own part, and `total` receives the parts added in
/// order. Not a template (groups.cpp), so the threading is compiled once.
void for_ranges(std::int64_t n, std::size_t sums, RangeUpdate update, const void* context,
                double* total);

/// The closure's loss, computed with grad mode on (undefined without a closure).
inline Tensor evaluate(const Optimizer::Closure& closure) {
    if (!closure) return {};
    const GradModeGuard grad_mode(true);
    return closure();
}

/// What the element loop of one parameter's update reads.
template <class R>
struct RangeContext {
    const R* rule;
    typename R::Scalar* w;
    const typename R::Scalar* g;
    typename R::Scalar l2, keep;  // d = g + l2·θ;  θ ← keep·θ first
};

/// The element loop of rule R with its flags fixed, over elements [begin, end).
template <class R, bool... flags>
void update_range(const void* context, std::int64_t begin, std::int64_t end, double* part) {
    using T = typename R::Scalar;
    const auto& c = *static_cast<const RangeContext<R>*>(context);
    // copies of the range's own, so that the scalars stay in registers
    const R r = *c.rule;
    T* __restrict const w = c.w;
    const T* __restrict const g = c.g;
    const T l2 = c.l2, keep = c.keep;
    constexpr std::size_t S = sums_of<R>();
    std::array<double, S> acc{};  // this range's sums
    // Element i of every array is read and written by iteration i alone, and arrays either
    // are one (a gradient that is the parameter) or do not overlap (tensors are contiguous,
    // views share their start): no iteration depends on another, which the compiler cannot
    // prove through the rule's buffer pointers.
#pragma GCC ivdep
    for (std::int64_t i = begin; i < end; ++i) {
        const T d = g[i] + l2 * w[i];
        T wi = keep * w[i];
        if constexpr (S > 0) {
            r.template element<flags...>(i, wi, d, acc);
        } else {
            r.template element<flags...>(i, wi, d);
        }
        w[i] = wi;
    }
    for (std::size_t s = 0; s < S; ++s) part[s] = acc[s];
}

/// One parameter's update by rule R (R::Scalar = T): its step count advanced, the rule's
/// per-step scalars, then the element loop with weight decay.
template <class R, class Options, class... Args>
std::array<double, sums_of<R>()> update_parameter(const Options& o, const Target& target,
                                                  Decay decay, const Args&... args) {
    using T = typename R::Scalar;
    Tensor& p = *target.param;
    const Tensor grad = p.grad();
    ++target.state->step;
    const R rule(o, Param<T>(*target.state, p), args...);
    const RangeContext<R> context{
        .rule = &rule,
        .w = p.mutable_data<T>(),
        .g = grad.data<T>(),
        .l2 = decay == Decay::l2 ? T(o.weight_decay) : T(0),                       // d = g + wd·θ
        .keep = decay == Decay::decoupled ? T(1 - o.lr * o.weight_decay) : T(1)};  // θ·(1 − lr·wd)
    std::array<double, sums_of<R>()> sums{};
    with_flags(rule.flags(), [&](auto... flag) {
        for_ranges(p.numel(), sums.size(), &update_range<R, decltype(flag)::value...>, &context,
                   sums.data());
    });
    return sums;
}

/// One step of the rule Rule<T> with options struct Options over every parameter of
/// `optimizer` that has a gradient (the rule made from the options, the parameter and
/// `args`); returns the rule's sums over all of them, added in parameter order.
template <template <class> class Rule, class Options, class... Args>
std::array<double, sums_of<Rule<float>>()> run(GroupOptimizer& optimizer, Decay decay,
                                               const Args&... args) {
    Groups& groups = optimizer.groups();
    const std::vector<Target> targets = groups.prepare_step();
    std::vector<Options> records;
    records.reserve(groups.list().size());
    for (const ParamGroup& group : groups.list()) {
        records.push_back(read_options<Options>(group.options));
    }
    constexpr std::size_t S = sums_of<Rule<float>>();
    std::vector<std::array<double, S>> sums(targets.size());
    const NoGradGuard no_grad;
    Groups::for_each(targets, [&](const Target& t) {
        const Options& o = records[t.group];
        const auto at = static_cast<std::size_t>(&t - targets.data());
        if (t.param->dtype() == Dtype::float32) {
            sums[at] = update_parameter<Rule<float>>(o, t, decay, args...);
        } else {
            sums[at] = update_parameter<Rule<double>>(o, t, decay, args...);
        }
    });
    std::array<double, S> total{};
    for (const auto& part : sums) {
        for (std::size_t s = 0; s < S; ++s) total[s] += part[s];
    }
    return total;
}

}  // namespace descent::optim::detail
