#pragma once
// The pieces op table entries are made of: deterministic float64 sample data, and the sample
// generators shared by whole families of ops (elementwise, broadcasting, reductions). Inputs
// keep away from kinks (relu at 0, clamp bounds, ties of max) where finite differences are not
// defined.

#include <cstdint>
#include <functional>
#include <vector>

#include "descent/ops.hpp"
#include "descent/random.hpp"
#include "descent/testing/op_table.hpp"

namespace descent::samples {

using Inputs = std::vector<Tensor>;

/// Deterministic float64 sample data (a private generator per table entry).
class Make {
  public:
    explicit Make(std::uint64_t seed) : gen_(seed) {}
    /// Standard normal values.
    Tensor normal(const Shape& s) {
        return fill(s, [this] { return gen_.normal(); });
    }
    /// Uniform in [0.5, 2): safe for log, sqrt, division, pow.
    Tensor positive(const Shape& s) {
        return fill(s, [this] { return 0.5 + 1.5 * gen_.uniform(); });
    }
    /// Uniform in (−0.9, 0.9): inside the domain of asin and acos, away from tan's poles.
    Tensor unit(const Shape& s) {
        return fill(s, [this] { return 1.8 * gen_.uniform() - 0.9; });
    }
    /// |x| in [0.2, 1.2): keeps away from the kink at 0.
    Tensor nonzero(const Shape& s) {
        return fill(s, [this] {
            const double m = 0.2 + gen_.uniform();
            return gen_.uniform() < 0.5 ? -m : m;
        });
    }
    /// Distinct values at least 0.1 apart, shuffled: no ties for max/min.
    Tensor distinct(const Shape& s) {
        std::vector<double> v(static_cast<std::size_t>(numel_of(s)));
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1 * static_cast<double>(i) - 1.0;
        for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen_.below(i)]);
        return tensor(v, s, {.dtype = float64, .requires_grad = true});
    }

  private:
    template <class Draw>
    Tensor fill(const Shape& s, Draw draw) {
        std::vector<double> v(static_cast<std::size_t>(numel_of(s)));
        for (auto& x : v) x = draw();
        return tensor(v, s, {.dtype = float64, .requires_grad = true});
    }
    Generator gen_;
};

/// A way to make sample data of a shape (Make::normal, Make::positive, ...).
using Data = Tensor (Make::*)(const Shape&);
/// What makes an op's samples.
using SampleFn = std::function<std::vector<OpSample>()>;

inline GradcheckFn unary(std::function<Tensor(const Tensor&)> f) {
    return [f](const Inputs& in) { return Inputs{f(in[0])}; };
}
inline GradcheckFn binary(std::function<Tensor(const Tensor&, const Tensor&)> f) {
    return [f](const Inputs& in) { return Inputs{f(in[0], in[1])}; };
}

/// Shapes for elementwise unary ops: matrix, 0-d, size-1 dims, size-0.
inline std::vector<OpSample> unary_samples(std::function<Tensor(const Tensor&)> f, Data data,
                                           std::uint64_t seed) {
    Make m(seed);
    std::vector<OpSample> out;
    for (const Shape& s : {Shape{3, 4}, Shape{}, Shape{1, 3, 1}, Shape{0, 2}}) {
        out.push_back({shape_str(s), unary(f), {(m.*data)(s)}});
    }
    return out;
}

/// Shape pairs for broadcasting binary ops.
inline std::vector<OpSample> binary_samples(std::function<Tensor(const Tensor&, const Tensor&)> f,
                                            Data a, Data b, std::uint64_t seed) {
    Make m(seed);
    std::vector<OpSample> out;
    const std::vector<std::pair<Shape, Shape>> pairs = {{{3, 4}, {3, 4}},    {{3, 4}, {4}},
                                                        {{2, 1, 3}, {4, 1}}, {{}, {3}},
                                                        {{2, 3}, {}},        {{0, 3}, {3}}};
    for (const auto& [sa, sb] : pairs) {
        out.push_back({shape_str(sa) + " " + shape_str(sb), binary(f), {(m.*a)(sa), (m.*b)(sb)}});
    }
    return out;
}

/// The samples of an elementwise op of one tensor.
inline SampleFn elementwise(std::function<Tensor(const Tensor&)> f, Data data = &Make::normal) {
    return [f, data] { return unary_samples(f, data, 11); };
}

/// The samples of a broadcasting op of two tensors.
inline SampleFn broadcasting(std::function<Tensor(const Tensor&, const Tensor&)> f,
                             Data a = &Make::normal, Data b = &Make::normal) {
    return [f, a, b] { return binary_samples(f, a, b, 13); };
}

/// Reductions: full, one dim, several dims with keepdim, negative dim, 0-d.
inline SampleFn reduction(std::function<Tensor(const Tensor&, const Dims&, bool)> f,
                          Data data = &Make::normal) {
    return [f, data] {
        Make m(17);
        auto over = [f](Dims d, bool keep) {
            return unary([f, d, keep](const Tensor& x) { return f(x, d, keep); });
        };
        return std::vector<OpSample>{
            {"all of [3,4]", over({0, 1}, false), {(m.*data)({3, 4})}},
            {"dim 1 of [3,4]", over({1}, false), {(m.*data)({3, 4})}},
            {"dims 0,2 keepdim of [2,3,4]", over({0, 2}, true), {(m.*data)({2, 3, 4})}},
            {"dim -1 of [2,1,3]", over({-1}, false), {(m.*data)({2, 1, 3})}},
            {"0-d", over({}, false), {(m.*data)({})}},
        };
    };
}

}  // namespace descent::samples
