// The samples of the structure ops (cumulative, ordering, rearranging, products, norms). Inputs
// keep off ties where an order or an extreme picks entries, and off the kinks of |x|.

#include <string>

#include "samples.hpp"

namespace descent::samples {
namespace {

Tensor float64_input(std::vector<double> values, const Shape& shape) {
    return tensor(values, shape, {.dtype = float64, .requires_grad = true});
}

/// Values whose magnitudes are distinct and at least 0.1 apart, of both signs: no ties of |x|.
Tensor distinct_magnitudes(Make& m, const Shape& s) {
    const Tensor magnitudes = m.distinct(s).detach() + 2.0;
    Tensor signs = ones(s, {.dtype = float64});
    double* p = signs.mutable_data<double>();
    for (std::int64_t i = 0; i < signs.numel(); i += 2) p[i] = -1.0;
    return (magnitudes * signs).requires_grad_();
}
}  // namespace

std::vector<OpSample> cumsum_samples() {
    Make m(127);
    return std::vector<OpSample>{
        {"dim 1 of [3,4]", unary([](auto& x) { return cumsum(x, 1); }), {m.normal({3, 4})}},
        {"dim 0 of [2,3,2]", unary([](auto& x) { return cumsum(x, 0); }), {m.normal({2, 3, 2})}},
        {"0-d", unary([](auto& x) { return cumsum(x, -1); }), {m.normal({})}},
        {"dim 1 of [0,3]", unary([](auto& x) { return cumsum(x, 1); }), {m.normal({0, 3})}}};
}

std::vector<OpSample> cumprod_samples() {
    Make m(131);
    // zeros: first, repeated and last along the dim (the exact kernel, and under
    // gradgradcheck the quadratic formula)
    const Tensor zeros_in_rows =
        float64_input({0.0, 1.3, -0.8, 1.1, 0.9, 0.0, -1.2, 0.0, 1.4, -0.6, 0.7, 0.0}, {3, 4});
    return std::vector<OpSample>{
        {"dim 1 of [3,4]", unary([](auto& x) { return cumprod(x, 1); }), {m.nonzero({3, 4})}},
        {"dim -3 of [3,2,2]",
         unary([](auto& x) { return cumprod(x, -3); }),
         {m.positive({3, 2, 2})}},
        {"zeros, dim 1", unary([](auto& x) { return cumprod(x, 1); }), {zeros_in_rows}},
        {"zeros, dim 0", unary([](auto& x) { return cumprod(x, 0); }), {zeros_in_rows}},
        {"0-d", unary([](auto& x) { return cumprod(x, 0); }), {m.normal({})}}};
}

std::vector<OpSample> sort_samples() {
    Make m(137);
    return std::vector<OpSample>{
        {"dim 1 of [3,4]", unary([](auto& x) { return sort(x, 1).values; }), {m.distinct({3, 4})}},
        {"dim 0 descending",
         unary([](auto& x) { return sort(x, 0, true).values; }),
         {m.distinct({3, 4})}},
        {"dim -1 of [2,3,2], squared",
         unary([](auto& x) { return sort(x * x).values; }),
         {(m.distinct({2, 3, 2}).detach() + 3.0).requires_grad_()}},
        {"0-d", unary([](auto& x) { return sort(x).values; }), {m.normal({})}}};
}

std::vector<OpSample> topk_samples() {
    Make m(139);
    return std::vector<OpSample>{{"k 2 largest, dim 1 of [3,5]",
                                  unary([](auto& x) { return topk(x, 2, 1).values; }),
                                  {m.distinct({3, 5})}},
                                 {"k 3 smallest unsorted, dim 0 of [4,2]",
                                  unary([](auto& x) { return topk(x, 3, 0, false, false).values; }),
                                  {m.distinct({4, 2})}},
                                 {"k 4 of 4, times x",
                                  unary([](auto& x) { return topk(x, 4).values * x; }),
                                  {m.distinct({4})}}};
}

std::vector<OpSample> flip_samples() {
    Make m(149);
    return std::vector<OpSample>{
        {"dims 0,2 of [2,3,4]",
         unary([](auto& x) {
             return flip(x, {0, 2});
         }),
         {m.normal({2, 3, 4})}},
        {"dim -1 of [3,4]", unary([](auto& x) { return flip(x, {-1}); }), {m.normal({3, 4})}},
        {"no dims", unary([](auto& x) { return flip(x, {}); }), {m.normal({2, 2})}}};
}

std::vector<OpSample> roll_samples() {
    Make m(151);
    return std::vector<OpSample>{
        {"shifts 1,-2 of [3,4]",
         unary([](auto& x) {
             return roll(x, {1, -2}, {0, 1});
         }),
         {m.normal({3, 4})}},
        {"flattened by 5", unary([](auto& x) { return roll(x, {5}); }), {m.normal({2, 3})}},
        {"same dim twice",
         unary([](auto& x) {
             return roll(x, {2, 7}, {-1, 1});
         }),
         {m.normal({2, 3})}},
        {"0-d", unary([](auto& x) { return roll(x, {3}); }), {m.normal({})}}};
}

std::vector<OpSample> masked_fill_samples() {
    Make m(157);
    const Tensor mask = m.normal({3, 4}).detach() > 0.0;
    const Tensor row_mask = tensor({1, 0, 0, 1}, {4}).to(boolean);
    return std::vector<OpSample>{
        {"[3,4] mask",
         unary([mask](auto& x) { return masked_fill(x, mask, 2.5); }),
         {m.normal({3, 4})}},
        {"mask [4] over [3,4]",
         unary([row_mask](auto& x) { return masked_fill(x, row_mask, -1.0); }),
         {m.normal({3, 4})}},
        {"x [4] broadcast by mask [3,4]",
         unary([mask](auto& x) { return masked_fill(x, mask, 0.0) * x; }),
         {m.normal({4})}}};
}

std::vector<OpSample> triu_samples() {
    Make m(163);
    return std::vector<OpSample>{
        {"[4,3]", unary([](auto& x) { return triu(x); }), {m.normal({4, 3})}},
        {"[2,3,3] diagonal 1", unary([](auto& x) { return triu(x, 1); }), {m.normal({2, 3, 3})}},
        {"[3,4] diagonal -1", unary([](auto& x) { return triu(x, -1) * x; }), {m.normal({3, 4})}}};
}

std::vector<OpSample> tril_samples() {
    Make m(167);
    return std::vector<OpSample>{
        {"[4,3]", unary([](auto& x) { return tril(x); }), {m.normal({4, 3})}},
        {"[2,3,3] diagonal -1", unary([](auto& x) { return tril(x, -1); }), {m.normal({2, 3, 3})}},
        {"[3,4] diagonal 2", unary([](auto& x) { return tril(x, 2) * x; }), {m.normal({3, 4})}}};
}

std::vector<OpSample> repeat_samples() {
    Make m(173);
    return std::vector<OpSample>{
        {"[2,3] by 2,1,2",
         unary([](auto& x) {
             return repeat(x, {2, 1, 2});
         }),
         {m.normal({2, 3})}},
        {"0-d by 3,2",
         unary([](auto& x) {
             return repeat(x, {3, 2});
         }),
         {m.normal({})}},
        {"[2] by 0", unary([](auto& x) { return repeat(x, {0}); }), {m.normal({2})}},
        {"[3,1] by 1,4, times itself",
         unary([](auto& x) {
             const Tensor r = repeat(x, {1, 4});
             return r * r;
         }),
         {m.normal({3, 1})}}};
}

std::vector<OpSample> tile_samples() {
    Make m(179);
    return std::vector<OpSample>{
        {"[2,3] by 2", unary([](auto& x) { return tile(x, {2}); }), {m.normal({2, 3})}},
        {"[3] by 2,2",
         unary([](auto& x) {
             return tile(x, {2, 2});
         }),
         {m.normal({3})}}};
}

std::vector<OpSample> outer_samples() {
    Make m(181);
    return std::vector<OpSample>{{"[3] [4]",
                                  binary([](auto& a, auto& b) { return outer(a, b); }),
                                  {m.normal({3}), m.normal({4})}},
                                 {"[0] [2]",
                                  binary([](auto& a, auto& b) { return outer(a, b); }),
                                  {m.normal({0}), m.normal({2})}}};
}

std::vector<OpSample> bmm_samples() {
    Make m(191);
    auto f = binary([](auto& a, auto& b) { return bmm(a, b); });
    return std::vector<OpSample>{
        {"[2,3,4] [2,4,2]", f, {m.normal({2, 3, 4}), m.normal({2, 4, 2})}},
        {"[1,1,3] [1,3,1]", f, {m.normal({1, 1, 3}), m.normal({1, 3, 1})}}};
}

std::vector<OpSample> baddbmm_samples() {
    Make m(193);
    auto with = [](double beta, double alpha) {
        return [beta, alpha](const Inputs& in) {
            return Inputs{baddbmm(in[0], in[1], in[2], beta, alpha)};
        };
    };
    return std::vector<OpSample>{
        {"input [2,3,2]",
         with(1.0, 1.0),
         {m.normal({2, 3, 2}), m.normal({2, 3, 4}), m.normal({2, 4, 2})}},
        {"input [2] broadcast, beta 0.5, alpha -1.5",
         with(0.5, -1.5),
         {m.normal({2}), m.normal({2, 3, 4}), m.normal({2, 4, 2})}},
        {"beta 0", with(0.0, 2.0), {m.normal({1, 2}), m.normal({2, 3, 4}), m.normal({2, 4, 2})}}};
}

std::vector<OpSample> vector_norm_samples() {
    Make m(197);
    auto norm = [](double ord, Dims dims, bool keepdim) {
        return unary([=](auto& x) { return vector_norm(x, ord, dims, keepdim); });
    };
    // a zero entry (not a zero norm): smooth for p = 2 and p = 3
    const Tensor with_zero = float64_input({0.7, 0.0, -1.3, 0.4, 2.1, -0.9}, {2, 3});
    return std::vector<OpSample>{
        {"ord 2, all of [3,4]", norm(2, {}, false), {m.normal({3, 4})}},
        {"ord 2, dim 1 keepdim", norm(2, {1}, true), {m.normal({3, 4})}},
        {"ord 2 with a zero entry", norm(2, {-1}, false), {with_zero}},
        {"ord 3 with a zero entry", norm(3, {0}, false), {with_zero}},
        {"ord 0.5, dims 0,2", norm(0.5, {0, 2}, false), {m.nonzero({2, 3, 2})}},
        {"ord 1.5", norm(1.5, {}, false), {m.nonzero({4})}},
        {"ord 1, dim 0", norm(1, {0}, false), {m.nonzero({3, 4})}},
        {"ord inf, dim -1", norm(inf, {-1}, true), {distinct_magnitudes(m, {3, 4})}},
        {"ord -inf, all", norm(-inf, {}, false), {distinct_magnitudes(m, {3, 4})}},
        {"ord 2, 0-d", norm(2, {}, false), {m.nonzero({})}}};
}

}  // namespace descent::samples
