// The op table: sample inputs for every primitive and every public composed op. Samples cover
// broadcasting, 0-d tensors, size-1 and (where legal) size-0 dims. Inputs keep away from kinks
// (relu at 0, clamp bounds, ties of max) where finite differences are not defined.

#include "descent/op_table.hpp"

#include <algorithm>

#include "descent/ops.hpp"
#include "descent/random.hpp"
#include "op_list.hpp"
#include "ops_internal.hpp"

namespace descent {
namespace {
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

GradcheckFn unary(std::function<Tensor(const Tensor&)> f) {
    return [f](const Inputs& in) { return Inputs{f(in[0])}; };
}
GradcheckFn binary(std::function<Tensor(const Tensor&, const Tensor&)> f) {
    return [f](const Inputs& in) { return Inputs{f(in[0], in[1])}; };
}

/// Shapes for elementwise unary ops: matrix, 0-d, size-1 dims, size-0.
std::vector<OpSample> unary_samples(std::function<Tensor(const Tensor&)> f,
                                    Tensor (Make::*data)(const Shape&), std::uint64_t seed) {
    Make m(seed);
    std::vector<OpSample> out;
    for (const Shape& s : {Shape{3, 4}, Shape{}, Shape{1, 3, 1}, Shape{0, 2}}) {
        out.push_back({shape_str(s), unary(f), {(m.*data)(s)}});
    }
    return out;
}

/// Shape pairs for broadcasting binary ops.
std::vector<OpSample> binary_samples(std::function<Tensor(const Tensor&, const Tensor&)> f,
                                     Tensor (Make::*a)(const Shape&),
                                     Tensor (Make::*b)(const Shape&), std::uint64_t seed) {
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

OpInfo elementwise(std::string name, std::function<Tensor(const Tensor&)> f,
                   Tensor (Make::*data)(const Shape&) = &Make::normal) {
    return {std::move(name), [f, data] { return unary_samples(f, data, 11); }};
}

OpInfo broadcasting(std::string name, std::function<Tensor(const Tensor&, const Tensor&)> f,
                    Tensor (Make::*a)(const Shape&) = &Make::normal,
                    Tensor (Make::*b)(const Shape&) = &Make::normal) {
    return {std::move(name), [f, a, b] { return binary_samples(f, a, b, 13); }};
}

/// Reductions: full, one dim, several dims with keepdim, negative dim, 0-d.
OpInfo reduction(std::string name, std::function<Tensor(const Tensor&, const Dims&, bool)> f,
                 Tensor (Make::*data)(const Shape&) = &Make::normal) {
    return {std::move(name), [f, data] {
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
            }};
}

std::string fmt_flags(bool ta, bool tb) {
    return std::string("batched op(a)·op(b), ") + (ta ? "aᵀ" : "a") + ", " + (tb ? "bᵀ" : "b");
}

std::vector<OpInfo> build_table() {
    using detail::matmul_t;
    std::vector<OpInfo> t;
    // --- arithmetic
    t.push_back(broadcasting("add", [](auto& a, auto& b) { return a + b; }));
    t.push_back(broadcasting("sub", [](auto& a, auto& b) { return a - b; }));
    t.push_back(broadcasting("mul", [](auto& a, auto& b) { return a * b; }));
    t.push_back(broadcasting(
        "div", [](auto& a, auto& b) { return a / b; }, &Make::normal, &Make::nonzero));
    t.push_back(elementwise("neg", [](auto& x) { return -x; }));
    t.push_back(elementwise("add_scalar", [](auto& x) { return x + 1.5; }));
    t.push_back(elementwise("mul_scalar", [](auto& x) { return x * -2.5; }));
    t.push_back(elementwise("div_scalar", [](auto& x) { return x / -1.5; }));
    t.push_back(elementwise(
        "rdiv_scalar", [](auto& x) { return 3.0 / x; }, &Make::nonzero));
    // --- elementwise functions
    t.push_back(elementwise("exp", [](auto& x) { return exp(x); }));
    t.push_back(elementwise(
        "log", [](auto& x) { return log(x); }, &Make::positive));
    t.push_back(elementwise(
        "sqrt", [](auto& x) { return sqrt(x); }, &Make::positive));
    t.push_back(elementwise(
        "abs", [](auto& x) { return abs(x); }, &Make::nonzero));
    t.push_back(elementwise("tanh", [](auto& x) { return tanh(x); }));
    t.push_back(elementwise("sigmoid", [](auto& x) { return sigmoid(x); }));
    t.push_back(elementwise("erf", [](auto& x) { return erf(x); }));
    t.push_back(elementwise(
        "relu", [](auto& x) { return relu(x); }, &Make::nonzero));
    t.push_back(elementwise(
        "leaky_relu", [](auto& x) { return leaky_relu(x, 0.2); }, &Make::nonzero));
    t.push_back({"gelu", [] {
                     Make m(19);
                     return std::vector<OpSample>{
                         {"erf [3,4]", unary([](auto& x) { return gelu(x); }), {m.normal({3, 4})}},
                         {"tanh [3,4]",
                          unary([](auto& x) { return gelu(x, GeluApproximation::tanh); }),
                          {m.normal({3, 4})}},
                         {"erf 0-d", unary([](auto& x) { return gelu(x); }), {m.normal({})}}};
                 }});
    t.push_back(
        {"softplus", [] {
             Make m(23);
             // β = 2, threshold 1: inputs beyond ±0.2 of the switch at x = 0.5
             Tensor around = tensor({-2.0, -0.3, 0.1, 0.8, 1.5, 3.0}, {2, 3},
                                    {.dtype = float64, .requires_grad = true});
             return std::vector<OpSample>{
                 {"default [3,4]", unary([](auto& x) { return softplus(x); }), {m.normal({3, 4})}},
                 {"beta 2 threshold 1",
                  unary([](auto& x) { return softplus(x, 2.0, 1.0); }),
                  {around}}};
         }});
    t.push_back({"pow_scalar", [] {
                     Make m(29);
                     std::vector<OpSample> s;
                     for (const double p : {3.0, 0.5, -1.5, 0.0, 1.0}) {
                         s.push_back({"x^" + std::to_string(p),
                                      unary([p](auto& x) { return pow(x, p); }),
                                      {m.positive({3, 2})}});
                     }
                     return s;
                 }});
    t.push_back(broadcasting(
        "pow", [](auto& a, auto& b) { return pow(a, b); }, &Make::positive));
    t.push_back(
        {"clamp", [] {
             // |x| ≥ 0.2 away from the bounds ±0.5 ... kept off the kinks by construction
             Tensor x = tensor({-1.5, -0.8, -0.2, 0.1, 0.3, 0.9}, {2, 3},
                               {.dtype = float64, .requires_grad = true});
             return std::vector<OpSample>{
                 {"both bounds", unary([](auto& v) { return clamp(v, -0.5, 0.5); }), {x}},
                 {"min only", unary([](auto& v) { return clamp(v, -0.5, std::nullopt); }), {x}},
                 {"max only", unary([](auto& v) { return clamp(v, std::nullopt, 0.5); }), {x}}};
         }});
    using Binary = Tensor (*)(const Tensor&, const Tensor&);
    for (const auto& entry : std::vector<std::pair<std::string, Binary>>{{"maximum", &maximum},
                                                                         {"minimum", &minimum}}) {
        const Binary f = entry.second;
        t.push_back({entry.first, [f] {
                         Make m(31);
                         Tensor a = m.distinct({3, 4});
                         Tensor b = (a.detach() + 0.05).requires_grad_();  // never tied with a
                         Tensor row = (m.distinct({4}).detach() + 0.05).requires_grad_();
                         return std::vector<OpSample>{
                             {"[3,4] [3,4]", binary(f), {a, b}},
                             {"[3,4] [4]", binary(f), {m.distinct({3, 4}), row}}};
                     }});
    }
    t.push_back({"where", [] {
                     Make m(37);
                     Tensor mask = gt(m.normal({3, 4}).detach(), zeros({3, 4}, {.dtype = float64}));
                     Tensor row_mask = tensor({1, 0, 1, 0}, {4}).to(boolean);
                     auto f = [](const Inputs& in) { return Inputs{where(in[0], in[1], in[2])}; };
                     return std::vector<OpSample>{
                         {"[3,4] mask", f, {mask, m.normal({3, 4}), m.normal({3, 4})}},
                         {"broadcast mask", f, {row_mask, m.normal({3, 4}), m.normal({1})}}};
                 }});
    // --- reductions
    t.push_back(reduction("sum", [](auto& x, auto& d, bool k) { return sum(x, d, k); }));
    t.push_back(reduction(
        "amax", [](auto& x, auto& d, bool k) { return max(x, d, k); }, &Make::distinct));
    t.push_back(reduction(
        "amin", [](auto& x, auto& d, bool k) { return min(x, d, k); }, &Make::distinct));
    t.push_back(reduction("mean", [](auto& x, auto& d, bool k) { return mean(x, d, k); }));
    t.push_back(reduction(
        "var", [](auto& x, auto& d, bool k) { return d.empty() ? x * 1.0 : var(x, d, true, k); }));
    t.push_back(
        reduction("var_biased", [](auto& x, auto& d, bool k) { return var(x, d, false, k); }));
    t.push_back(reduction(
        "std", [](auto& x, auto& d, bool k) { return d.empty() ? x * 1.0 : std(x, d, true, k); }));
    t.push_back(
        reduction("logsumexp", [](auto& x, auto& d, bool k) { return logsumexp(x, d, k); }));
    t.push_back({"softmax", [] {
                     Make m(41);
                     return std::vector<OpSample>{{"dim 1 of [3,4]",
                                                   unary([](auto& x) { return softmax(x, 1); }),
                                                   {m.normal({3, 4})}},
                                                  {"dim 0 of [2,3,2]",
                                                   unary([](auto& x) { return softmax(x, 0); }),
                                                   {m.normal({2, 3, 2})}}};
                 }});
    t.push_back({"log_softmax", [] {
                     Make m(43);
                     return std::vector<OpSample>{
                         {"dim -1 of [3,4]",
                          unary([](auto& x) { return log_softmax(x, -1); }),
                          {m.normal({3, 4})}},
                         {"dim 1 of [2,3,2]",
                          unary([](auto& x) { return log_softmax(x, 1); }),
                          {m.normal({2, 3, 2})}}};
                 }});
    t.push_back(
        {"sum_to", [] {
             Make m(47);
             return std::vector<OpSample>{
                 {"[2,3,4] to [3,1]",
                  unary([](auto& x) {
                      return sum_to(x, {3, 1});
                  }),
                  {m.normal({2, 3, 4})}},
                 {"[3,4] to []", unary([](auto& x) { return sum_to(x, {}); }), {m.normal({3, 4})}}};
         }});
    // --- linear algebra
    t.push_back(
        {"matmul", [] {
             Make m(53);
             auto f = binary([](auto& a, auto& b) { return matmul(a, b); });
             std::vector<OpSample> s;
             const std::vector<std::pair<Shape, Shape>> pairs = {
                 {{3, 4}, {4, 5}}, {{4}, {4}},          {{4}, {4, 2}},
                 {{3, 4}, {4}},    {{2, 3, 4}, {4, 2}}, {{2, 1, 3, 4}, {3, 4, 2}},
                 {{0, 4}, {4, 3}}, {{3, 0}, {0, 2}}};
             for (const auto& [a, b] : pairs)
                 s.push_back({shape_str(a) + " " + shape_str(b), f, {m.normal(a), m.normal(b)}});
             for (const bool ta : {false, true}) {
                 for (const bool tb : {false, true}) {
                     s.push_back(
                         {fmt_flags(ta, tb),
                          binary([ta, tb](auto& a, auto& b) { return matmul_t(a, b, ta, tb); }),
                          {m.normal(ta ? Shape{2, 4, 3} : Shape{2, 3, 4}),
                           m.normal(tb ? Shape{5, 4} : Shape{4, 5})}});
                 }
             }
             return s;
         }});
    t.push_back(
        {"linear", [] {
             Make m(59);
             auto f = [](const Inputs& in) { return Inputs{linear(in[0], in[1], in[2])}; };
             return std::vector<OpSample>{
                 {"[5,4] [3,4] [3]", f, {m.normal({5, 4}), m.normal({3, 4}), m.normal({3})}},
                 {"[4] [3,4] [3]", f, {m.normal({4}), m.normal({3, 4}), m.normal({3})}}};
         }});
    // --- shape
    t.push_back(
        {"reshape", [] {
             Make m(61);
             return std::vector<OpSample>{
                 {"[3,4] to [2,-1]",
                  unary([](auto& x) {
                      return reshape(x, {2, -1});
                  }),
                  {m.normal({3, 4})}},
                 {"squeeze/unsqueeze",
                  unary([](auto& x) { return unsqueeze(squeeze(x), 0); }),
                  {m.normal({1, 3, 1})}},
                 {"flatten", unary([](auto& x) { return flatten(x, 1); }), {m.normal({2, 3, 2})}},
                 {"0-d to [1]", unary([](auto& x) { return reshape(x, {1}); }), {m.normal({})}}};
         }});
    t.push_back({"permute", [] {
                     Make m(67);
                     return std::vector<OpSample>{
                         {"[2,3,4] (2,0,1)",
                          unary([](auto& x) {
                              return permute(x, {2, 0, 1});
                          }),
                          {m.normal({2, 3, 4})}},
                         {"transpose [3,4]",
                          unary([](auto& x) { return transpose(x, 0, 1); }),
                          {m.normal({3, 4})}}};
                 }});
    t.push_back({"expand", [] {
                     Make m(71);
                     return std::vector<OpSample>{{"[3,1] to [2,3,4]",
                                                   unary([](auto& x) {
                                                       return expand(x, {2, 3, 4});
                                                   }),
                                                   {m.normal({3, 1})}},
                                                  {"0-d to [2,2]",
                                                   unary([](auto& x) {
                                                       return expand(x, {2, 2});
                                                   }),
                                                   {m.normal({})}}};
                 }});
    // --- selection
    t.push_back(
        {"slice", [] {
             Make m(73);
             return std::vector<OpSample>{
                 {"dim 1 [1:4:2] of [3,5]",
                  unary([](auto& x) { return slice(x, 1, 1, 4, 2); }),
                  {m.normal({3, 5})}},
                 {"dim 0 [-2:] of [4,2]",
                  unary([](auto& x) { return slice(x, 0, -2, 4); }),
                  {m.normal({4, 2})}},
                 {"empty", unary([](auto& x) { return slice(x, 0, 1, 1); }), {m.normal({3, 2})}}};
         }});
    t.push_back({"slice_backward", [] {
                     Make m(79);
                     return std::vector<OpSample>{
                         {"[3,2] into [3,5] at 1::2",
                          unary([](auto& g) {
                              return detail::slice_backward(g, {3, 5}, 1, 1, 2);
                          }),
                          {m.normal({3, 2})}}};
                 }});
    const Tensor rows = int_tensor({2, 0, 2, 1}, {4});
    t.push_back({"index_select", [rows] {
                     Make m(83);
                     return std::vector<OpSample>{
                         {"dim 0 of [3,2] (repeats)",
                          unary([rows](auto& x) { return index_select(x, 0, rows); }),
                          {m.normal({3, 2})}},
                         {"dim 1 of [2,3,2]",
                          unary([rows](auto& x) { return index_select(x, 1, rows); }),
                          {m.normal({2, 3, 2})}}};
                 }});
    t.push_back({"index_add", [rows] {
                     Make m(89);
                     return std::vector<OpSample>{{"[4,2] into [3,2]",
                                                   unary([rows](auto& g) {
                                                       return detail::index_add(g, {3, 2}, 0, rows);
                                                   }),
                                                   {m.normal({4, 2})}}};
                 }});
    const Tensor picks = int_tensor({0, 2, 1, 1, 0, 0}, {2, 3});
    t.push_back({"gather", [picks] {
                     Make m(97);
                     return std::vector<OpSample>{
                         {"dim 1 of [2,4]",
                          unary([picks](auto& x) { return gather(x, 1, picks); }),
                          {m.normal({2, 4})}},
                         {"dim 0 of [3,3]",
                          unary([picks](auto& x) { return gather(x, 0, picks); }),
                          {m.normal({3, 3})}}};
                 }});
    t.push_back({"scatter_add", [picks] {
                     Make m(101);
                     return std::vector<OpSample>{
                         {"[2,3] into [2,4] along 1",
                          unary([picks](auto& g) {
                              return detail::scatter_add(g, {2, 4}, 1, picks);
                          }),
                          {m.normal({2, 3})}}};
                 }});
    t.push_back({"concat", [] {
                     Make m(103);
                     auto f = [](std::int64_t dim) {
                         return [dim](const Inputs& in) { return Inputs{concat(in, dim)}; };
                     };
                     return std::vector<OpSample>{
                         {"dim 0 of [2,3] [1,3] [0,3]",
                          f(0),
                          {m.normal({2, 3}), m.normal({1, 3}), m.normal({0, 3})}},
                         {"dim -1 of [2,1] [2,3]", f(-1), {m.normal({2, 1}), m.normal({2, 3})}}};
                 }});
    t.push_back({"stack", [] {
                     Make m(107);
                     auto f = [](const Inputs& in) { return Inputs{stack(in, 1)}; };
                     return std::vector<OpSample>{
                         {"dim 1 of two [2,3]", f, {m.normal({2, 3}), m.normal({2, 3})}}};
                 }});
    t.push_back({"split", [] {
                     Make m(109);
                     return std::vector<OpSample>{
                         {"[5,2] in 2s",
                          [](const Inputs& in) { return split(in[0], 2, 0); },
                          {m.normal({5, 2})}},
                         {"[2,5] sizes 1,4",
                          [](const Inputs& in) {
                              return split(in[0], {1, 4}, 1);
                          },
                          {m.normal({2, 5})}}};
                 }});
    // --- conversion
    t.push_back({"to_dtype", [] {
                     Make m(113);
                     // the round trip through float32 rounds to ~6e-8 relative: a wide eps keeps
                     // that rounding (÷ 2·eps) below the tolerance on a linear map
                     return std::vector<OpSample>{
                         {"float64→float32→float64",
                          unary([](auto& x) { return x.to(float32).to(float64) * 1.0; }),
                          {m.normal({3, 2})},
                          {.eps = 1e-2, .atol = 1e-4, .rtol = 1e-3}}};
                 }});
    t.push_back(elementwise("clone", [](auto& x) { return x.clone(); }));
    return t;
}
}  // namespace

const std::vector<OpInfo>& op_table() {
    static const std::vector<OpInfo> table = build_table();
    return table;
}

const std::vector<std::string_view>& primitive_op_names() {
    static const std::vector<std::string_view> names = {
#define DESCENT_OP_STRING(name) #name,
        DESCENT_PRIMITIVE_OPS(DESCENT_OP_STRING)
#undef DESCENT_OP_STRING
    };
    return names;
}

}  // namespace descent
