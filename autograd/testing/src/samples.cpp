// The sample generators of the op table entries that need their own: ops with non-tensor
// arguments, several inputs, or inputs that must keep off a kink. Each is named after its op.

#include "samples.hpp"

#include <string>

#include "ops_internal.hpp"

namespace descent::samples {
namespace {

std::string fmt_flags(bool ta, bool tb) {
    return std::string("batched op(a)·op(b), ") + (ta ? "aᵀ" : "a") + ", " + (tb ? "bᵀ" : "b");
}
}  // namespace

std::vector<OpSample> gelu_samples() {
    Make m(19);
    return std::vector<OpSample>{
        {"erf [3,4]", unary([](auto& x) { return gelu(x); }), {m.normal({3, 4})}},
        {"tanh [3,4]",
         unary([](auto& x) { return gelu(x, GeluApproximation::tanh); }),
         {m.normal({3, 4})}},
        {"erf 0-d", unary([](auto& x) { return gelu(x); }), {m.normal({})}}};
}

std::vector<OpSample> softplus_samples() {
    Make m(23);
    // β = 2, threshold 1: inputs beyond ±0.2 of the switch at x = 0.5
    Tensor around =
        tensor({-2.0, -0.3, 0.1, 0.8, 1.5, 3.0}, {2, 3}, {.dtype = float64, .requires_grad = true});
    return std::vector<OpSample>{
        {"default [3,4]", unary([](auto& x) { return softplus(x); }), {m.normal({3, 4})}},
        {"beta 2 threshold 1", unary([](auto& x) { return softplus(x, 2.0, 1.0); }), {around}}};
}

std::vector<OpSample> pow_scalar_samples() {
    Make m(29);
    std::vector<OpSample> s;
    for (const double p : {3.0, 0.5, -1.5, 0.0, 1.0}) {
        s.push_back({"x^" + std::to_string(p),
                     unary([p](auto& x) { return pow(x, p); }),
                     {m.positive({3, 2})}});
    }
    return s;
}

std::vector<OpSample> clamp_samples() {
    // |x| ≥ 0.2 away from the bounds ±0.5 ... kept off the kinks by construction
    Tensor x = tensor({-1.5, -0.8, -0.2, 0.1, 0.3, 0.9}, {2, 3},
                      {.dtype = float64, .requires_grad = true});
    return std::vector<OpSample>{
        {"both bounds", unary([](auto& v) { return clamp(v, -0.5, 0.5); }), {x}},
        {"min only", unary([](auto& v) { return clamp(v, -0.5, std::nullopt); }), {x}},
        {"max only", unary([](auto& v) { return clamp(v, std::nullopt, 0.5); }), {x}}};
}

std::vector<OpSample> where_samples() {
    Make m(37);
    Tensor mask = gt(m.normal({3, 4}).detach(), zeros({3, 4}, {.dtype = float64}));
    Tensor row_mask = tensor({1, 0, 1, 0}, {4}).to(boolean);
    auto f = [](const Inputs& in) { return Inputs{where(in[0], in[1], in[2])}; };
    return std::vector<OpSample>{
        {"[3,4] mask", f, {mask, m.normal({3, 4}), m.normal({3, 4})}},
        {"broadcast mask", f, {row_mask, m.normal({3, 4}), m.normal({1})}}};
}

std::vector<OpSample> softmax_samples() {
    Make m(41);
    return std::vector<OpSample>{
        {"dim 1 of [3,4]", unary([](auto& x) { return softmax(x, 1); }), {m.normal({3, 4})}},
        {"dim 0 of [2,3,2]", unary([](auto& x) { return softmax(x, 0); }), {m.normal({2, 3, 2})}},
        // rows longer than a packet: whole packets, then the rest one by one
        {"dim -1 of [2,19]", unary([](auto& x) { return softmax(x, -1); }), {m.normal({2, 19})}},
        {"dim 1 of [2,3,19]", unary([](auto& x) { return softmax(x, 1); }), {m.normal({2, 3, 19})}},
        {"0-d", unary([](auto& x) { return softmax(x, 0); }), {m.normal({})}}};
}

std::vector<OpSample> log_softmax_samples() {
    Make m(43);
    return std::vector<OpSample>{
        {"dim -1 of [3,4]", unary([](auto& x) { return log_softmax(x, -1); }), {m.normal({3, 4})}},
        {"dim 1 of [2,3,2]",
         unary([](auto& x) { return log_softmax(x, 1); }),
         {m.normal({2, 3, 2})}}};
}

std::vector<OpSample> sum_to_samples() {
    Make m(47);
    return std::vector<OpSample>{
        {"[2,3,4] to [3,1]",
         unary([](auto& x) {
             return sum_to(x, {3, 1});
         }),
         {m.normal({2, 3, 4})}},
        {"[3,4] to []", unary([](auto& x) { return sum_to(x, {}); }), {m.normal({3, 4})}}};
}

std::vector<OpSample> squared_error_samples() {
    Make m(59);
    std::vector<OpSample> s;
    for (const bool mean : {true, false}) {
        const std::string how = mean ? "mean " : "sum ";
        auto f = binary([mean](auto& a, auto& b) { return squared_error(a, b, mean); });
        s.push_back({how + "[3,4]", f, {m.normal({3, 4}), m.normal({3, 4})}});
        s.push_back({how + "0-d", f, {m.normal({}), m.normal({})}});
        s.push_back({how + "[2,3,2]", f, {m.normal({2, 3, 2}), m.normal({2, 3, 2})}});
    }
    return s;
}

std::vector<OpSample> softmax_cross_entropy_samples() {
    Make m(61);
    const Tensor y4 = int_tensor({2, 0, 1, 2}, {4});
    const Tensor ones4 = tensor({1, 1, 1, 1}, {4}, {.dtype = float64});
    const Tensor ignore_one = tensor({1, 0, 1, 1}, {4}, {.dtype = float64});
    auto loss = [](Tensor y, Tensor w, double divisor) {
        return unary([y, w, divisor](auto& z) { return softmax_cross_entropy(z, y, w, divisor); });
    };
    return std::vector<OpSample>{
        {"mean [4,3]", loss(y4, ones4, 4.0), {m.normal({4, 3})}},
        {"sum, a row ignored", loss(y4, ignore_one, 1.0), {m.normal({4, 3})}},
        {"one row of 5",
         loss(int_tensor({4}, {1}), tensor({1}, {1}, {.dtype = float64}), 1.0),
         {m.normal({1, 5})}}};
}

std::vector<OpSample> matmul_samples() {
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
            s.push_back({fmt_flags(ta, tb),
                         binary([ta, tb](auto& a, auto& b) { return matmul(a, b, ta, tb); }),
                         {m.normal(ta ? Shape{2, 4, 3} : Shape{2, 3, 4}),
                          m.normal(tb ? Shape{5, 4} : Shape{4, 5})}});
        }
    }
    return s;
}

std::vector<OpSample> linear_samples() {
    Make m(59);
    auto f = [](const Inputs& in) { return Inputs{linear(in[0], in[1], in[2])}; };
    return std::vector<OpSample>{
        {"[5,4] [3,4] [3]", f, {m.normal({5, 4}), m.normal({3, 4}), m.normal({3})}},
        {"[1,4] [3,4] [3]", f, {m.normal({1, 4}), m.normal({3, 4}), m.normal({3})}},
        {"[0,4] [3,4] [3]", f, {m.normal({0, 4}), m.normal({3, 4}), m.normal({3})}},
        {"[2,3,4] [3,4] [3]", f, {m.normal({2, 3, 4}), m.normal({3, 4}), m.normal({3})}},
        {"[4] [3,4] [3]", f, {m.normal({4}), m.normal({3, 4}), m.normal({3})}}};
}

std::vector<OpSample> reshape_samples() {
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
}

std::vector<OpSample> permute_samples() {
    Make m(67);
    return std::vector<OpSample>{
        {"[2,3,4] (2,0,1)",
         unary([](auto& x) {
             return permute(x, {2, 0, 1});
         }),
         {m.normal({2, 3, 4})}},
        {"transpose [3,4]", unary([](auto& x) { return transpose(x, 0, 1); }), {m.normal({3, 4})}}};
}

std::vector<OpSample> expand_samples() {
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
}

std::vector<OpSample> slice_samples() {
    Make m(73);
    return std::vector<OpSample>{
        {"dim 1 [1:4:2] of [3,5]",
         unary([](auto& x) { return slice(x, 1, 1, 4, 2); }),
         {m.normal({3, 5})}},
        {"dim 0 [-2:] of [4,2]",
         unary([](auto& x) { return slice(x, 0, -2, 4); }),
         {m.normal({4, 2})}},
        {"empty", unary([](auto& x) { return slice(x, 0, 1, 1); }), {m.normal({3, 2})}}};
}

std::vector<OpSample> slice_backward_samples() {
    Make m(79);
    return std::vector<OpSample>{{"[3,2] into [3,5] at 1::2",
                                  unary([](auto& g) {
                                      return detail::slice_backward(g, {3, 5}, 1, 1, 2);
                                  }),
                                  {m.normal({3, 2})}}};
}

std::vector<OpSample> index_select_samples() {
    const Tensor rows = int_tensor({2, 0, 2, 1}, {4});

    Make m(83);
    return std::vector<OpSample>{{"dim 0 of [3,2] (repeats)",
                                  unary([rows](auto& x) { return index_select(x, 0, rows); }),
                                  {m.normal({3, 2})}},
                                 {"dim 1 of [2,3,2]",
                                  unary([rows](auto& x) { return index_select(x, 1, rows); }),
                                  {m.normal({2, 3, 2})}}};
}

std::vector<OpSample> index_add_samples() {
    const Tensor rows = int_tensor({2, 0, 2, 1}, {4});

    Make m(89);
    return std::vector<OpSample>{{"[4,2] into [3,2]",
                                  unary([rows](auto& g) {
                                      return detail::index_add(g, {3, 2}, 0, rows);
                                  }),
                                  {m.normal({4, 2})}}};
}

std::vector<OpSample> gather_samples() {
    const Tensor picks = int_tensor({0, 2, 1, 1, 0, 0}, {2, 3});

    Make m(97);
    return std::vector<OpSample>{{"dim 1 of [2,4]",
                                  unary([picks](auto& x) { return gather(x, 1, picks); }),
                                  {m.normal({2, 4})}},
                                 {"dim 0 of [3,3]",
                                  unary([picks](auto& x) { return gather(x, 0, picks); }),
                                  {m.normal({3, 3})}}};
}

std::vector<OpSample> scatter_add_samples() {
    const Tensor picks = int_tensor({0, 2, 1, 1, 0, 0}, {2, 3});

    Make m(101);
    return std::vector<OpSample>{{"[2,3] into [2,4] along 1",
                                  unary([picks](auto& g) {
                                      return detail::scatter_add(g, {2, 4}, 1, picks);
                                  }),
                                  {m.normal({2, 3})}}};
}

std::vector<OpSample> concat_samples() {
    Make m(103);
    auto f = [](std::int64_t dim) {
        return [dim](const Inputs& in) { return Inputs{concat(in, dim)}; };
    };
    return std::vector<OpSample>{
        {"dim 0 of [2,3] [1,3] [0,3]",
         f(0),
         {m.normal({2, 3}), m.normal({1, 3}), m.normal({0, 3})}},
        {"dim -1 of [2,1] [2,3]", f(-1), {m.normal({2, 1}), m.normal({2, 3})}}};
}

std::vector<OpSample> stack_samples() {
    Make m(107);
    auto f = [](const Inputs& in) { return Inputs{stack(in, 1)}; };
    return std::vector<OpSample>{{"dim 1 of two [2,3]", f, {m.normal({2, 3}), m.normal({2, 3})}}};
}

std::vector<OpSample> split_samples() {
    Make m(109);
    return std::vector<OpSample>{
        {"[5,2] in 2s", [](const Inputs& in) { return split(in[0], 2, 0); }, {m.normal({5, 2})}},
        {"[2,5] sizes 1,4",
         [](const Inputs& in) {
             return split(in[0], {1, 4}, 1);
         },
         {m.normal({2, 5})}}};
}

std::vector<OpSample> to_dtype_samples() {
    Make m(113);
    // the round trip through float32 rounds to ~6e-8 relative: a wide eps keeps
    // that rounding (÷ 2·eps) below the tolerance on a linear map
    return std::vector<OpSample>{{"float64→float32→float64",
                                  unary([](auto& x) { return x.to(float32).to(float64) * 1.0; }),
                                  {m.normal({3, 2})},
                                  {.eps = 1e-2, .atol = 1e-4, .rtol = 1e-3}}};
}

/// maximum/minimum: operands never tied (the derivative splits there).
std::vector<OpSample> extremum_samples(Tensor (*f)(const Tensor&, const Tensor&)) {
    Make m(31);
    Tensor a = m.distinct({3, 4});
    Tensor b = (a.detach() + 0.05).requires_grad_();
    Tensor row = (m.distinct({4}).detach() + 0.05).requires_grad_();
    return std::vector<OpSample>{{"[3,4] [3,4]", binary(f), {a, b}},
                                 {"[3,4] [4]", binary(f), {m.distinct({3, 4}), row}}};
}

std::vector<OpSample> maximum_samples() {
    return extremum_samples(&maximum);
}

std::vector<OpSample> minimum_samples() {
    return extremum_samples(&minimum);
}

}  // namespace descent::samples
