// The structure ops (cumsum cumprod sort argsort topk flip roll triu tril repeat tile masked_fill
// outer bmm baddbmm vector_norm one_hot): exact values as torch gives them (ties, NaN, negative
// dims, empty and 0-d tensors, int64 inputs), the gradients torch defines where the formula
// has a special case (zeros in cumprod, a zero norm), and refusals of hostile arguments.
// Gradients in general are certified by the op table's sweep and the torch fixtures.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <limits>

namespace dc = descent;
using V = std::vector<double>;
using I = std::vector<std::int64_t>;
using Catch::Matchers::Contains;

namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

dc::Tensor t(const V& v, dc::Shape s = {}) {
    if (s.empty() && v.size() != 1) s = {static_cast<std::int64_t>(v.size())};
    return dc::tensor(v, s, {.dtype = dc::float64});
}
dc::Tensor ints(const I& v, dc::Shape s = {}) {
    if (s.empty()) s = {static_cast<std::int64_t>(v.size())};
    return dc::int_tensor(v, s);
}
dc::Tensor bools(const V& v, dc::Shape s = {}) {
    if (s.empty()) s = {static_cast<std::int64_t>(v.size())};
    return dc::tensor(v, s, {.dtype = dc::boolean});
}
/// 0, 1, ..., n−1 as float64 in `shape`.
dc::Tensor iota(const dc::Shape& shape) {
    return dc::reshape(
        dc::arange(0, static_cast<double>(dc::numel_of(shape)), 1, {.dtype = dc::float64}), shape);
}
/// Equal values with NaN equal to NaN.
bool same(const V& a, const V& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    }
    return true;
}
}  // namespace

// --- cumulative -------------------------------------------------------------------------------

TEST_CASE("structure: cumsum and cumprod values, dims and dtypes", "[ops][structure]") {
    const dc::Tensor x = t({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(dc::cumsum(x, 1).to_vector() == V{1, 3, 6, 4, 9, 15});
    CHECK(dc::cumsum(x, -2).to_vector() == V{1, 2, 3, 5, 7, 9});
    CHECK(dc::cumprod(x, -1).to_vector() == V{1, 2, 6, 4, 20, 120});
    CHECK(dc::cumprod(x, 0).to_vector() == V{1, 2, 3, 4, 10, 18});
    // int64 stays int64, wrapping on overflow as torch; bool sums as int64
    const dc::Tensor big = ints({kInt64Max / 2 + 1, kInt64Max / 2 + 1, kInt64Max / 2 + 1});
    CHECK(dc::cumsum(big, 0).dtype() == dc::int64);
    CHECK(dc::cumsum(big, 0).to_int_vector() == I{kInt64Max / 2 + 1, kInt64Min, kInt64Min / 2});
    CHECK(dc::cumprod(ints({1LL << 40, 1LL << 40, 3}), 0).to_int_vector() == I{1LL << 40, 0, 0});
    CHECK(dc::cumprod(ints({2, -3, 4}), 0).to_int_vector() == I{2, -6, -24});
    const dc::Tensor counted = dc::cumsum(bools({1, 0, 1}), 0);
    CHECK(counted.dtype() == dc::int64);
    CHECK(counted.to_int_vector() == I{1, 1, 2});
    // 0-d: dim 0 or −1, the value itself; empty: empty
    CHECK(dc::cumsum(t({2.5}, {}), -1).item() == 2.5);
    CHECK(dc::cumprod(t({2.5}, {}), 0).shape() == dc::Shape{});
    CHECK(dc::cumsum(dc::zeros({0, 3}, {.dtype = dc::float64}), 1).shape() == dc::Shape{0, 3});
    CHECK(dc::cumprod(dc::zeros({4, 0}, {.dtype = dc::float64}), 0).shape() == dc::Shape{4, 0});
    CHECK_THROWS_AS(dc::cumsum(x, 2), dc::IndexError);
    CHECK_THROWS_WITH(dc::cumprod(x, -3), Contains("cumprod"));
    CHECK_THROWS_WITH(dc::cumsum(t({1}, {}), 1), Contains("cumsum"));
}

TEST_CASE("structure: cumsum's gradient is the reverse running sum", "[ops][structure]") {
    const dc::Tensor x = t({1, 2, 3, 4}).requires_grad_();
    (dc::cumsum(x, 0) * t({1, 10, 100, 1000})).sum().backward();
    CHECK(x.grad().to_vector() == V{1111, 1110, 1100, 1000});
}

TEST_CASE("structure: cumprod's gradients with zeros in the input are torch's",
          "[ops][structure]") {
    // torch.autograd.grad of Σ cumprod(x, 1)·w, then of Σ grad·v (the Hessian-vector product)
    const dc::Tensor x = t({2, 0, 3, 0.5, 0, 1.5, -2, 4}, {2, 4}).requires_grad_();
    const dc::Tensor w = t({1, -1, 2, 0.5, 0.5, 2, -1, 1}, {2, 4});
    const dc::Tensor v = t({1, 2, -1, 0.5, -1, 0.5, 2, 1}, {2, 4});
    const V want_grad = {1, 11.5, 0, 0, -5.5, 0, 0, 0};
    const V want_hvp = {11.5, 2.75, 9, 6, 4, 4, -4.5, 3};
    // without a graph: the exact kernel
    CHECK(dc::grad({dc::cumprod(x, 1)}, {x}, {w})[0].to_vector() == want_grad);
    // with one: the formula whose own derivative is exact too
    const dc::Tensor g = dc::grad({dc::cumprod(x, 1)}, {x}, {w}, {.create_graph = true})[0];
    CHECK(g.to_vector() == want_grad);
    const V hvp = dc::grad({g}, {x}, {v})[0].to_vector();
    for (std::size_t i = 0; i < hvp.size(); ++i) CHECK(hvp[i] == Approx(want_hvp[i]).margin(1e-12));
}

// --- ordering ---------------------------------------------------------------------------------

TEST_CASE("structure: sort is stable and puts NaN last (first descending)", "[ops][structure]") {
    const dc::Tensor x = t({3, kNan, 1, 3, kNan, -0.0, 0.0, 2});
    const auto [up, up_at] = dc::sort(x);
    CHECK(same(up.to_vector(), V{-0.0, 0.0, 1, 2, 3, 3, kNan, kNan}));
    CHECK(up_at.dtype() == dc::int64);
    CHECK(up_at.to_int_vector() == I{5, 6, 2, 7, 0, 3, 1, 4});
    const auto [down, down_at] = dc::sort(x, 0, true);
    CHECK(same(down.to_vector(), V{kNan, kNan, 3, 3, 2, 1, -0.0, 0.0}));
    CHECK(down_at.to_int_vector() == I{1, 4, 0, 3, 7, 2, 5, 6});
    CHECK(dc::argsort(x).to_int_vector() == I{5, 6, 2, 7, 0, 3, 1, 4});
    CHECK(dc::argsort(x, -1, true).to_int_vector() == I{1, 4, 0, 3, 7, 2, 5, 6});
}

TEST_CASE("structure: sort along any dim, of int64 and bool, empty and 0-d", "[ops][structure]") {
    const dc::Tensor x = t({3, 1, 2, 0, 5, 4}, {2, 3});
    CHECK(dc::sort(x, 0).values.to_vector() == V{0, 1, 2, 3, 5, 4});
    CHECK(dc::sort(x, -2).indices.to_int_vector() == I{1, 0, 0, 0, 1, 1});
    CHECK(dc::sort(x, 1, true).values.to_vector() == V{3, 2, 1, 5, 4, 0});
    const auto [iv, ii] = dc::sort(ints({4, -7, 4, 0}));
    CHECK(iv.dtype() == dc::int64);
    CHECK(iv.to_int_vector() == I{-7, 0, 4, 4});
    CHECK(ii.to_int_vector() == I{1, 3, 0, 2});
    CHECK(dc::sort(bools({1, 0, 1})).indices.to_int_vector() == I{1, 0, 2});
    const auto [ev, ei] = dc::sort(dc::zeros({0, 3}, {.dtype = dc::float64}), 0);
    CHECK(ev.shape() == dc::Shape{0, 3});
    CHECK(ei.shape() == dc::Shape{0, 3});
    const auto [sv, si] = dc::sort(t({2.5}, {}), -1);
    CHECK(sv.shape() == dc::Shape{});
    CHECK(sv.item() == 2.5);
    CHECK(si.item<std::int64_t>() == 0);
    CHECK(dc::argsort(t({2.5}, {})).shape() == dc::Shape{});
    CHECK_THROWS_AS(dc::sort(x, 2), dc::IndexError);
    CHECK_THROWS_WITH(dc::argsort(x, -3), Contains("argsort"));
    CHECK_THROWS_WITH(dc::sort(t({1}, {}), 1), Contains("sort"));
}

TEST_CASE("structure: the gradient of sort and topk goes back to the sorted positions",
          "[ops][structure]") {
    dc::Tensor x = t({0.3, -1.2, 2.5, 0.7}).requires_grad_();
    (dc::sort(x).values * t({1, 2, 3, 4})).sum().backward();
    CHECK(x.grad().to_vector() == V{2, 1, 4, 3});
    x.set_grad({});
    (dc::topk(x, 2).values * t({10, 20})).sum().backward();
    CHECK(x.grad().to_vector() == V{0, 0, 10, 20});
    CHECK_FALSE(dc::sort(x).indices.requires_grad());
}

TEST_CASE("structure: topk picks the lower index among ties", "[ops][structure]") {
    const dc::Tensor x = t({1, 2, 2, 2, 0});
    const auto [top, top_at] = dc::topk(x, 2);
    CHECK(top.to_vector() == V{2, 2});
    CHECK(top_at.to_int_vector() == I{1, 2});
    const auto [low, low_at] = dc::topk(x, 2, 0, false);
    CHECK(low.to_vector() == V{0, 1});
    CHECK(low_at.to_int_vector() == I{4, 0});
    // NaN is the largest
    CHECK(dc::topk(t({1, kNan, 3}), 2).indices.to_int_vector() == I{1, 2});
    CHECK(dc::topk(t({1, kNan, 3}), 2, 0, false).indices.to_int_vector() == I{0, 2});
    // unsorted: the chosen entries in the order they have in x
    const dc::Tensor y = t({5, 1, 4, 2, 3}, {1, 5});
    CHECK(dc::topk(y, 3, 1).indices.to_int_vector() == I{0, 2, 4});
    CHECK(dc::topk(y, 3, 1).values.to_vector() == V{5, 4, 3});
    CHECK(dc::topk(y, 3, -1, true, false).indices.to_int_vector() == I{0, 2, 4});
    CHECK(dc::topk(y, 2, 1, false, false).values.to_vector() == V{1, 2});
    CHECK(dc::topk(ints({3, 9, -1}), 1).values.to_int_vector() == I{9});
    CHECK(dc::topk(t({4, 3, 2, 1, 0, 5}, {3, 2}), 2, 0).values.to_vector() == V{4, 5, 2, 3});
}

TEST_CASE("structure: topk refuses a k outside [0, extent]", "[ops][structure]") {
    const dc::Tensor x = t({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(dc::topk(x, 0).values.shape() == dc::Shape{2, 0});
    CHECK(dc::topk(x, 3).values.shape() == dc::Shape{2, 3});
    CHECK(dc::topk(x, 2, 0).values.shape() == dc::Shape{2, 3});
    CHECK_THROWS_AS(dc::topk(x, -1), dc::IndexError);
    CHECK_THROWS_WITH(dc::topk(x, 4), Contains("topk") && Contains("4") && Contains("[2,3]"));
    CHECK_THROWS_AS(dc::topk(x, 3, 0), dc::IndexError);
    CHECK_THROWS_AS(dc::topk(x, kInt64Min), dc::IndexError);
    CHECK_THROWS_AS(dc::topk(x, 1, 2), dc::IndexError);
    // 0-d: k 0 or 1 gives the value itself, as torch
    CHECK(dc::topk(t({2.5}, {}), 1).values.item() == 2.5);
    CHECK(dc::topk(t({2.5}, {}), 0).indices.shape() == dc::Shape{});
    CHECK_THROWS_AS(dc::topk(t({2.5}, {}), 2), dc::IndexError);
}

// --- rearranging ------------------------------------------------------------------------------

TEST_CASE("structure: flip reverses the listed dims", "[ops][structure]") {
    const dc::Tensor x = iota({3, 4});
    CHECK(dc::flip(x, {0, -1}).to_vector() == V{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
    CHECK(dc::flip(x, {1}).to_vector() == V{3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8});
    CHECK(dc::flip(ints({1, 2, 3}), {0}).to_int_vector() == I{3, 2, 1});
    const dc::Tensor copy = dc::flip(x, {});
    CHECK(copy.to_vector() == x.to_vector());
    CHECK(copy.raw_data() != x.raw_data());
    CHECK(dc::flip(t({2.5}, {}), {0}).item() == 2.5);
    CHECK(dc::flip(dc::zeros({0, 3}), {0, 1}).shape() == dc::Shape{0, 3});
    CHECK_THROWS_WITH(dc::flip(x, {0, -2}), Contains("flip") && Contains("twice"));
    CHECK_THROWS_AS(dc::flip(x, {2}), dc::IndexError);
    CHECK_THROWS_AS(dc::flip(x, {kInt64Min}), dc::IndexError);
}

TEST_CASE("structure: roll shifts cyclically, flattened without dims", "[ops][structure]") {
    const dc::Tensor x = iota({3, 4});
    CHECK(dc::roll(x, {1, -2}, {0, 1}).to_vector() == V{10, 11, 8, 9, 2, 3, 0, 1, 6, 7, 4, 5});
    CHECK(dc::roll(x, {5}).to_vector() == V{7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6});
    CHECK(dc::roll(x, {kInt64Min}, {1}).to_vector() == x.to_vector());  // 2⁶³ ≡ 0 mod 4
    CHECK(dc::roll(x, {kInt64Max}, {1}).to_vector() == dc::roll(x, {3}, {1}).to_vector());
    CHECK(dc::roll(x, {1, 1}, {1, 1}).to_vector() == dc::roll(x, {2}, {1}).to_vector());
    CHECK(dc::roll(ints({1, 2, 3}), {-1}, {0}).to_int_vector() == I{2, 3, 1});
    CHECK(dc::roll(t({2.5}, {}), {3}).item() == 2.5);
    CHECK(dc::roll(dc::zeros({0, 3}), {1}, {0}).shape() == dc::Shape{0, 3});
    CHECK_THROWS_WITH(dc::roll(x, {1, 2}), Contains("roll") && Contains("[1,2]"));
    CHECK_THROWS_AS(dc::roll(x, {}), dc::ShapeError);
    CHECK_THROWS_AS(dc::roll(x, {1}, {0, 1}), dc::ShapeError);
    CHECK_THROWS_AS(dc::roll(x, {1}, {2}), dc::IndexError);
}

TEST_CASE("structure: triu and tril keep a band of the last two dims", "[ops][structure]") {
    const dc::Tensor x = iota({3, 4});
    CHECK(dc::triu(x).to_vector() == V{0, 1, 2, 3, 0, 5, 6, 7, 0, 0, 10, 11});
    CHECK(dc::triu(x, -1).to_vector() == V{0, 1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11});
    CHECK(dc::tril(x, 1).to_vector() == V{0, 1, 0, 0, 4, 5, 6, 0, 8, 9, 10, 11});
    CHECK(dc::tril(dc::ones({2, 2, 2}), -1).to_vector() == V{0, 0, 1, 0, 0, 0, 1, 0});
    CHECK(dc::triu(x, kInt64Max).to_vector() == V(12, 0.0));
    CHECK(dc::tril(x, kInt64Min).to_vector() == V(12, 0.0));
    CHECK(dc::triu(x, kInt64Min).to_vector() == x.to_vector());
    CHECK(dc::triu(ints({1, 2, 3, 4}, {2, 2})).to_int_vector() == I{1, 2, 0, 4});
    CHECK(dc::tril(dc::zeros({0, 3})).shape() == dc::Shape{0, 3});
    CHECK_THROWS_WITH(dc::triu(t({1, 2, 3})), Contains("triu") && Contains("[3]"));
    CHECK_THROWS_AS(dc::tril(t({1}, {})), dc::ShapeError);
}

TEST_CASE("structure: repeat and tile copy whole blocks", "[ops][structure]") {
    const dc::Tensor a = t({1, 2, 3, 4, 5, 6}, {2, 3});
    const dc::Tensor r = dc::repeat(a, {2, 1, 2});
    CHECK(r.shape() == dc::Shape{2, 2, 6});
    CHECK(r.to_vector() ==
          V{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
    CHECK(dc::repeat(a, {0, 2}).shape() == dc::Shape{0, 6});
    CHECK(dc::repeat(t({2.5}, {}), {}).item() == 2.5);
    CHECK(dc::repeat(ints({7, 8}), {2}).to_int_vector() == I{7, 8, 7, 8});
    CHECK(dc::tile(t({1, 2}), {2, 2}).to_vector() == V{1, 2, 1, 2, 1, 2, 1, 2});
    CHECK(dc::tile(a, {2}).shape() == dc::Shape{2, 6});  // reps padded to [1, 2]
    CHECK(dc::tile(a, {}).to_vector() == a.to_vector());
    // no element: even counts whose copies would never fit
    CHECK(dc::repeat(dc::zeros({0, 3}), {kInt64Max, 1}).shape() == dc::Shape{0, 3});
}

TEST_CASE("structure: repeat and tile refuse bad counts before allocating", "[ops][structure]") {
    const dc::Tensor a = dc::ones({2, 3});
    CHECK_THROWS_WITH(dc::repeat(a, {2}), Contains("repeat") && Contains("[2,3]"));
    CHECK_THROWS_WITH(dc::repeat(a, {1, -1}), Contains("repeat") && Contains("-1"));
    CHECK_THROWS_AS(dc::tile(a, {-2}), dc::ShapeError);
    CHECK_THROWS_WITH(dc::repeat(a, {kInt64Max, 1}), Contains("repeat"));  // extent overflows
    CHECK_THROWS_WITH(dc::repeat(a, {1LL << 40, 1LL << 40}), Contains("repeat"));  // product
    CHECK_THROWS_WITH(dc::tile(a, {1LL << 20, 1LL << 20}), Contains("tile"));      // memory
}

TEST_CASE("structure: masked_fill broadcasts, fills any dtype, and blocks the gradient",
          "[ops][structure]") {
    const dc::Tensor x = t({1, 2, 3, 4, 5, 6}, {2, 3});
    const dc::Tensor m = bools({1, 0, 1}, {3});
    CHECK(dc::masked_fill(x, m, -1).to_vector() == V{-1, 2, -1, -1, 5, -1});
    const dc::Tensor column = bools({1, 0}, {2, 1});
    const dc::Tensor wide = dc::masked_fill(t({1, 2, 3}), column, 9);  // x broadcast by the mask
    CHECK(wide.shape() == dc::Shape{2, 3});
    CHECK(wide.to_vector() == V{9, 9, 9, 1, 2, 3});
    CHECK(std::isinf(dc::masked_fill(x, m, -dc::inf).to_vector()[0]));
    CHECK(dc::masked_fill(ints({1, 2, 3}), m, 1.5).to_int_vector() == I{1, 2, 1});  // truncates
    CHECK(dc::masked_fill(bools({0, 0, 1}), m, 1).to_vector() == V{1, 0, 1});
    const dc::Tensor xg = t({1, 2, 3}).requires_grad_();
    (dc::masked_fill(xg, column, 9) * t({1, 2, 3, 4, 5, 6}, {2, 3})).sum().backward();
    CHECK(xg.grad().to_vector() == V{4, 5, 6});  // row 0 filled: no gradient from it
    CHECK_THROWS_WITH(dc::masked_fill(x, t({1, 0, 1}), 0),
                      Contains("masked_fill") && Contains("bool"));
    CHECK_THROWS_AS(dc::masked_fill(x, ints({1, 0, 1}), 0), dc::DtypeError);
    CHECK_THROWS_WITH(dc::masked_fill(x, bools({1, 0}), 0),
                      Contains("masked_fill") && Contains("[2]"));
    CHECK_THROWS_AS(dc::masked_fill(ints({1}), bools({1}), kNan), dc::Error);
    CHECK_THROWS_AS(dc::masked_fill(ints({1}), bools({1}), 1e300), dc::Error);
}

// --- products and norms -----------------------------------------------------------------------

TEST_CASE("structure: outer, bmm and baddbmm", "[ops][structure]") {
    CHECK(dc::outer(t({1, 2}), t({3, 4, 5})).to_vector() == V{3, 4, 5, 6, 8, 10});
    const dc::Tensor a = t({1, 2, 3, 4}, {1, 2, 2}), b = t({1, 0, 2, 1}, {1, 2, 2});
    CHECK(dc::bmm(a, b).to_vector() == V{5, 2, 11, 4});
    CHECK(dc::baddbmm(t({1, -1}), a, b, 0.5, 2).to_vector() == V{10.5, 3.5, 22.5, 7.5});
    // beta 0: input's values are ignored, NaN included, as torch
    CHECK(dc::baddbmm(t({kNan}, {1, 1, 1}), a, b, 0).to_vector() == V{5, 2, 11, 4});
    CHECK(dc::bmm(dc::zeros({0, 2, 3}), dc::zeros({0, 3, 4})).shape() == dc::Shape{0, 2, 4});
    CHECK_THROWS_WITH(dc::outer(t({1, 2}, {2, 1}), t({1})), Contains("outer") && Contains("[2,1]"));
    CHECK_THROWS_AS(dc::outer(t({1}), t({1}).to(dc::float32)), dc::DtypeError);
    CHECK_THROWS_AS(dc::outer(ints({1}), ints({1})), dc::DtypeError);
    // bmm does not broadcast batches, as torch
    CHECK_THROWS_WITH(dc::bmm(dc::ones({2, 1, 2}), dc::ones({1, 2, 1})),
                      Contains("bmm") && Contains("[2,1,2]") && Contains("[1,2,1]"));
    CHECK_THROWS_AS(dc::bmm(dc::ones({2, 2}), dc::ones({2, 2})), dc::ShapeError);
    CHECK_THROWS_AS(dc::bmm(dc::ones({1, 2, 3}), dc::ones({1, 2, 3})), dc::ShapeError);
    CHECK_THROWS_WITH(dc::baddbmm(t({1, 2, 3}), a, b), Contains("baddbmm") && Contains("[3]"));
    CHECK_THROWS_AS(dc::baddbmm(dc::ones({2, 1, 1}, {.dtype = dc::float64}), a, b), dc::ShapeError);
    CHECK_THROWS_AS(dc::baddbmm(dc::ones({1}), a, b), dc::DtypeError);
    CHECK_THROWS_WITH(dc::baddbmm(t({1}), a, b, kNan), Contains("baddbmm") && Contains("beta"));
}

TEST_CASE("structure: vector_norm of every ord", "[ops][structure]") {
    const dc::Tensor v = t({3, -4, 0, 1, 2, -2}, {2, 3});
    CHECK(dc::vector_norm(v).item() == Approx(5.830951894845301).epsilon(1e-15));
    CHECK(dc::vector_norm(v, 2, {1}).to_vector() == V{5, 3});
    CHECK(dc::vector_norm(v, 1).item() == 12);
    CHECK(dc::vector_norm(v, 1, {-1}, true).shape() == dc::Shape{2, 1});
    CHECK(dc::vector_norm(v, dc::inf, {1}).to_vector() == V{4, 2});
    CHECK(dc::vector_norm(v, -dc::inf).item() == 0);
    CHECK(dc::vector_norm(v, 0, {1}).to_vector() == V{2, 3});
    CHECK(dc::vector_norm(v, 3).item() == Approx(4.762203155904598).epsilon(1e-15));
    CHECK(dc::vector_norm(v, 0.5, {1}).to_vector()[1] == Approx(14.656854249492378).epsilon(1e-15));
    CHECK(dc::vector_norm(v, 2, {0, 1}, true).shape() == dc::Shape{1, 1});
    CHECK(dc::vector_norm(t({-2.5}, {})).item() == 2.5);
    CHECK(dc::vector_norm(dc::zeros({0, 3}, {.dtype = dc::float64})).item() == 0);
    CHECK(dc::vector_norm(dc::zeros({0, 3}), dc::inf, {1}).shape() == dc::Shape{0});
}

TEST_CASE("structure: vector_norm's gradient is 0 where the norm is 0, as torch",
          "[ops][structure]") {
    for (const double ord : {2.0, 3.0, 0.5, 1.0, dc::inf, -dc::inf, 0.0}) {
        INFO("ord " << ord);
        const dc::Tensor x = dc::zeros({3}, {.dtype = dc::float64, .requires_grad = true});
        CHECK(dc::grad({dc::vector_norm(x, ord)}, {x})[0].to_vector() == V{0, 0, 0});
    }
    // a zero entry of a non-zero norm: the entry's gradient is 0, the others' |x|ᵖ⁻¹/‖x‖ᵖ⁻¹
    for (const double ord : {2.0, 3.0, 0.5}) {
        INFO("ord " << ord);
        const dc::Tensor x = t({0, 0, 3}).requires_grad_();
        const V g = dc::grad({dc::vector_norm(x, ord)}, {x})[0].to_vector();
        CHECK(g[0] == 0);
        CHECK(g[1] == 0);
        CHECK(g[2] == Approx(1).epsilon(1e-15));
    }
    // the second derivative stays finite at a zero norm
    const dc::Tensor x = dc::zeros({2}, {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor g = dc::grad({dc::vector_norm(x)}, {x}, {}, {.create_graph = true})[0];
    CHECK(dc::grad({g.sum()}, {x})[0].to_vector() == V{0, 0});
}

TEST_CASE("structure: vector_norm refuses bad ords, dims and dtypes", "[ops][structure]") {
    const dc::Tensor v = dc::ones({2, 3});
    CHECK_THROWS_WITH(dc::vector_norm(v, -1), Contains("vector_norm") && Contains("-1"));
    CHECK_THROWS_AS(dc::vector_norm(v, kNan), dc::Error);
    CHECK_THROWS_WITH(dc::vector_norm(v, 2, {1, -1}), Contains("vector_norm") && Contains("twice"));
    CHECK_THROWS_AS(dc::vector_norm(v, 2, {2}), dc::IndexError);
    CHECK_THROWS_WITH(dc::vector_norm(ints({1, 2})), Contains("vector_norm") && Contains("int64"));
    CHECK_THROWS_WITH(dc::vector_norm(dc::zeros({0, 3}), dc::inf), Contains("vector_norm"));
    CHECK_THROWS_AS(dc::vector_norm(dc::zeros({0, 3}), -dc::inf, {0}), dc::ShapeError);
}

// --- encoding ---------------------------------------------------------------------------------

TEST_CASE("structure: one_hot", "[ops][structure]") {
    const dc::Tensor y = dc::one_hot(ints({0, 2}));
    CHECK(y.dtype() == dc::int64);
    CHECK(y.shape() == dc::Shape{2, 3});
    CHECK(y.to_int_vector() == I{1, 0, 0, 0, 0, 1});
    CHECK(dc::one_hot(ints({1, 0, 2, 2}, {2, 2}), 4).shape() == dc::Shape{2, 2, 4});
    CHECK(dc::one_hot(ints({1}, {}), 3).to_int_vector() == I{0, 1, 0});
    CHECK(dc::one_hot(ints({}, {0}), 3).shape() == dc::Shape{0, 3});
    CHECK(dc::one_hot(ints({}, {0}), 0).shape() == dc::Shape{0, 0});
    CHECK_THROWS_WITH(dc::one_hot(ints({0, -1})), Contains("one_hot") && Contains("-1"));
    CHECK_THROWS_WITH(dc::one_hot(ints({0, 3}), 3), Contains("one_hot") && Contains("3"));
    CHECK_THROWS_AS(dc::one_hot(ints({0}), -2), dc::Error);
    CHECK_THROWS_WITH(dc::one_hot(ints({}, {0})), Contains("one_hot") && Contains("empty"));
    CHECK_THROWS_WITH(dc::one_hot(ints({0, 1}), kInt64Max), Contains("one_hot"));
    CHECK_THROWS_WITH(dc::one_hot(ints({0}), 1LL << 50), Contains("one_hot"));  // memory
    CHECK_THROWS_AS(dc::one_hot(ints({kInt64Max})), dc::Error);
    CHECK_THROWS_WITH(dc::one_hot(t({0, 1})), Contains("one_hot") && Contains("float64"));
}

TEST_CASE("structure: undefined tensors are refused naming the op", "[ops][structure]") {
    const dc::Tensor none;
    const dc::Tensor x = dc::ones({2, 2, 2});
    CHECK_THROWS_WITH(dc::cumsum(none, 0), Contains("cumsum"));
    CHECK_THROWS_WITH(dc::cumprod(none, 0), Contains("cumprod"));
    CHECK_THROWS_WITH(dc::sort(none), Contains("sort"));
    CHECK_THROWS_WITH(dc::argsort(none), Contains("argsort"));
    CHECK_THROWS_WITH(dc::topk(none, 1), Contains("topk"));
    CHECK_THROWS_WITH(dc::flip(none, {0}), Contains("flip"));
    CHECK_THROWS_WITH(dc::roll(none, {1}), Contains("roll"));
    CHECK_THROWS_WITH(dc::triu(none), Contains("triu"));
    CHECK_THROWS_WITH(dc::tril(none), Contains("tril"));
    CHECK_THROWS_WITH(dc::repeat(none, {1}), Contains("repeat"));
    CHECK_THROWS_WITH(dc::tile(none, {1}), Contains("tile"));
    CHECK_THROWS_WITH(dc::masked_fill(none, bools({1}), 0), Contains("masked_fill"));
    CHECK_THROWS_WITH(dc::masked_fill(x, none, 0), Contains("masked_fill"));
    CHECK_THROWS_WITH(dc::outer(none, dc::ones({2})), Contains("outer"));
    CHECK_THROWS_WITH(dc::bmm(x, none), Contains("bmm"));
    CHECK_THROWS_WITH(dc::baddbmm(none, x, x), Contains("baddbmm"));
    CHECK_THROWS_WITH(dc::vector_norm(none), Contains("vector_norm"));
    CHECK_THROWS_WITH(dc::one_hot(none), Contains("one_hot"));
}
