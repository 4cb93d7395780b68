// Forward values of the ops, with exact expectations where the arithmetic is exact.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>

namespace dc = descent;
using V = std::vector<double>;

namespace {
dc::Tensor t(V v, dc::Shape s) {
    return dc::tensor(v, s, {.dtype = dc::float64});
}
}  // namespace

TEST_CASE("broadcasting arithmetic", "[ops]") {
    const dc::Tensor a = t({1, 2, 3, 4, 5, 6}, {2, 3});
    const dc::Tensor row = t({10, 20, 30}, {3});
    const dc::Tensor col = t({100, 200}, {2, 1});
    CHECK((a + row).to_vector() == V{11, 22, 33, 14, 25, 36});
    CHECK((a + col).shape() == dc::Shape{2, 3});
    CHECK((a + col).to_vector() == V{101, 102, 103, 204, 205, 206});
    CHECK((row - col).to_vector() == V{-90, -80, -70, -190, -180, -170});
    CHECK((a * 2.0).to_vector() == V{2, 4, 6, 8, 10, 12});
    CHECK((12.0 / a).to_vector() == V{12, 6, 4, 3, 2.4, 2});
    CHECK((1.0 - a).to_vector() == V{0, -1, -2, -3, -4, -5});
    CHECK((a / row).at({1, 2}) == 0.2);
    CHECK((-a).to_vector() == V{-1, -2, -3, -4, -5, -6});
    const dc::Tensor s = dc::scalar_tensor(3.0, {.dtype = dc::float64});
    CHECK((a * s).shape() == dc::Shape{2, 3});
    CHECK((s * s).shape() == dc::Shape{});
}

TEST_CASE("elementwise functions", "[ops]") {
    const dc::Tensor x = t({-2, -0.5, 0, 1.5}, {4});
    CHECK(dc::relu(x).to_vector() == V{0, 0, 0, 1.5});
    CHECK(dc::leaky_relu(x, 0.1).to_vector() == V{-0.2, -0.05, 0, 1.5});
    CHECK(dc::abs(x).to_vector() == V{2, 0.5, 0, 1.5});
    CHECK(dc::sign(x).to_vector() == V{-1, -1, 0, 1});
    CHECK(dc::clamp(x, -1.0, 1.0).to_vector() == V{-1, -0.5, 0, 1});
    CHECK(dc::clamp(x, std::nullopt, 0.0).to_vector() == V{-2, -0.5, 0, 0});
    CHECK(dc::pow(t({2, 3}, {2}), 2.0).to_vector() == V{4, 9});
    CHECK(dc::pow(t({2, 3}, {2}), t({3, 2}, {2})).to_vector() == V{8, 9});
    CHECK(dc::sqrt(t({4, 9}, {2})).to_vector() == V{2, 3});
    CHECK(dc::maximum(x, t({0}, {1})).to_vector() == V{0, 0, 0, 1.5});
    CHECK(dc::minimum(x, t({0}, {1})).to_vector() == V{-2, -0.5, 0, 0});
    for (std::int64_t i = 0; i < 4; ++i) {
        const double v = x.at({i});
        CHECK(dc::exp(x).at({i}) == Approx(std::exp(v)).epsilon(1e-15));
        CHECK(dc::tanh(x).at({i}) == Approx(std::tanh(v)).epsilon(1e-15));
        CHECK(dc::sigmoid(x).at({i}) == Approx(1 / (1 + std::exp(-v))).epsilon(1e-15));
        CHECK(dc::erf(x).at({i}) == Approx(std::erf(v)).epsilon(1e-15));
        CHECK(dc::gelu(x).at({i}) ==
              Approx(0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))).margin(1e-15));
        CHECK(dc::softplus(x).at({i}) == Approx(std::log1p(std::exp(v))).epsilon(1e-15));
    }
}

TEST_CASE("softplus and sigmoid stay finite for large inputs in float32", "[ops]") {
    const dc::Tensor x = dc::tensor({-1e4, -50, 50, 1e4}, {4});
    const V sp = dc::softplus(x).to_vector();
    CHECK(sp[0] == 0);
    CHECK(sp[1] == Approx(std::exp(-50.0)).epsilon(1e-6));  // log(1 + e⁻⁵⁰) ≈ e⁻⁵⁰, not 0
    CHECK(sp[2] == 50);
    CHECK(sp[3] == 1e4);
    const V sg = dc::sigmoid(x).to_vector();
    CHECK(sg[0] == 0);
    CHECK(sg[1] == Approx(std::exp(-50.0)).epsilon(1e-6));
    CHECK(sg[2] == 1);
    CHECK(sg[3] == 1);
}

TEST_CASE("where and comparisons", "[ops]") {
    const dc::Tensor a = t({1, 5, 3}, {3}), b = t({2, 5, 1}, {3});
    CHECK((a < b).dtype() == dc::boolean);
    CHECK((a < b).to_vector() == V{1, 0, 0});
    CHECK((a <= b).to_vector() == V{1, 1, 0});
    CHECK((a > b).to_vector() == V{0, 0, 1});
    CHECK(dc::eq(a, b).to_vector() == V{0, 1, 0});
    CHECK(dc::ne(a, b).to_vector() == V{1, 0, 1});
    CHECK(dc::logical_not(a > b).to_vector() == V{1, 1, 0});
    CHECK(dc::where(a > b, a, b).to_vector() == V{2, 5, 3});
    CHECK(dc::eq(dc::int_tensor({1, 2}, {2}), dc::int_tensor({1, 3}, {2})).to_vector() == V{1, 0});
}

TEST_CASE("comparisons with NaN, broadcasting in either order and mismatches", "[ops]") {
    // gt and ge run as lt and le with the operands exchanged, ne as ¬eq: the same answers.
    const dc::Tensor a = t({1, NAN, 3, 2, 2, NAN}, {2, 3}), b = t({2, NAN, 1}, {3});
    CHECK(dc::lt(a, b).to_vector() == V{1, 0, 0, 0, 0, 0});
    CHECK(dc::le(a, b).to_vector() == V{1, 0, 0, 1, 0, 0});
    CHECK(dc::gt(a, b).to_vector() == V{0, 0, 1, 0, 0, 0});
    CHECK(dc::ge(a, b).to_vector() == V{0, 0, 1, 1, 0, 0});
    CHECK(dc::eq(a, b).to_vector() == V{0, 0, 0, 1, 0, 0});
    CHECK(dc::ne(a, b).to_vector() == V{1, 1, 1, 0, 1, 1});
    CHECK(dc::gt(b, a).to_vector() == dc::lt(a, b).to_vector());
    CHECK(dc::ge(b, a).to_vector() == dc::le(a, b).to_vector());
    CHECK(dc::gt(b, a).shape() == dc::Shape{2, 3});
    CHECK_THROWS_WITH(dc::gt(t({1, 2}, {2}), b),
                      "gt: shapes [2] and [3] cannot be broadcast together");
    CHECK(dc::ge(a, dc::int_tensor({1, 2, 3}, {3})).to_vector() == V{1, 0, 1, 1, 1, 0});
    CHECK_THROWS_WITH(dc::ge(a, dc::ones({3})), Catch::Contains("ge") &&
                                                    Catch::Contains("float64") &&
                                                    Catch::Contains("float32"));
}

TEST_CASE("matmul shapes follow NumPy", "[ops]") {
    const dc::Tensor a = t({1, 2, 3, 4, 5, 6}, {2, 3});
    const dc::Tensor b = t({1, 0, 0, 1, 1, 1}, {3, 2});
    CHECK(dc::matmul(a, b).to_vector() == V{4, 5, 10, 11});
    const dc::Tensor v = t({1, 1, 1}, {3});
    CHECK(dc::matmul(a, v).shape() == dc::Shape{2});
    CHECK(dc::matmul(a, v).to_vector() == V{6, 15});
    CHECK(dc::matmul(t({1, 1}, {2}), a).to_vector() == V{5, 7, 9});
    CHECK(dc::matmul(v, v).shape() == dc::Shape{});
    CHECK(dc::matmul(v, v).item() == 3);
    const dc::Tensor batch = dc::stack({a, a * 2.0});  // [2,2,3]
    CHECK(dc::matmul(batch, b).shape() == dc::Shape{2, 2, 2});
    CHECK(dc::matmul(batch, b).to_vector() == V{4, 5, 10, 11, 8, 10, 20, 22});
    CHECK(dc::matmul(dc::ones({4, 1, 2, 3}), dc::ones({5, 3, 2})).shape() == dc::Shape{4, 5, 2, 2});
    CHECK(dc::linear(a, b.t(), t({1, -1}, {2})).to_vector() == V{5, 4, 11, 10});
}

TEST_CASE("reductions", "[ops]") {
    const dc::Tensor a = t({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(a.sum().shape() == dc::Shape{});
    CHECK(a.sum().item() == 21);
    CHECK(a.sum({0}).to_vector() == V{5, 7, 9});
    CHECK(a.sum({1}, true).shape() == dc::Shape{2, 1});
    CHECK(a.sum({-1}).to_vector() == V{6, 15});
    CHECK(a.mean().item() == 3.5);
    CHECK(a.mean({1}).to_vector() == V{2, 5});
    CHECK(a.max().item() == 6);
    CHECK(a.min({0}).to_vector() == V{1, 2, 3});
    CHECK(a.var({1}).to_vector() == V{1, 1});
    CHECK(a.var({1}, false).at({0}) == Approx(2.0 / 3.0).epsilon(1e-15));
    CHECK(a.std().item() == Approx(std::sqrt(3.5)).epsilon(1e-15));
    CHECK(a.argmax().item() == 5);
    CHECK(a.argmax(0).to_vector() == V{1, 1, 1});
    CHECK(a.argmin(1, true).shape() == dc::Shape{2, 1});
    CHECK(a.argmax(0).dtype() == dc::int64);
    CHECK(dc::logsumexp(a, {1}).at({0}) ==
          Approx(std::log(std::exp(1) + std::exp(2) + std::exp(3))).epsilon(1e-15));
    const dc::Tensor sm = dc::softmax(a, 1);
    CHECK(sm.sum({1}).to_vector()[0] == Approx(1.0).epsilon(1e-15));
    CHECK(dc::sum_to(dc::ones({2, 3, 4}), {3, 1}).to_vector() == V{8, 8, 8});
    CHECK(dc::sum(dc::zeros({0, 3})).item() == 0);
}

TEST_CASE("logsumexp and softmax are stable for large and infinite inputs", "[ops]") {
    const dc::Tensor x = dc::tensor({1e4, 1e4, -1e4}, {3});
    CHECK(dc::logsumexp(x, {0}).item() == Approx(1e4 + std::log(2.0)));
    CHECK(dc::softmax(x, 0).to_vector() == V{0.5, 0.5, 0});
    const dc::Tensor inf = dc::tensor({-INFINITY, -INFINITY}, {2});
    CHECK(dc::logsumexp(inf, {0}).item() == -INFINITY);
}

TEST_CASE("shape ops", "[ops]") {
    const dc::Tensor a = t({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(a.reshape({3, -1}).shape() == dc::Shape{3, 2});
    CHECK(a.t().to_vector() == V{1, 4, 2, 5, 3, 6});
    CHECK(a.unsqueeze(0).shape() == dc::Shape{1, 2, 3});
    CHECK(a.unsqueeze(-1).shape() == dc::Shape{2, 3, 1});
    CHECK(a.unsqueeze(0).squeeze().shape() == dc::Shape{2, 3});
    CHECK(dc::ones({2, 1, 3, 1}).squeeze(1).shape() == dc::Shape{2, 3, 1});
    CHECK(dc::ones({2, 3, 4}).flatten(1).shape() == dc::Shape{2, 12});
    CHECK(dc::ones({2, 3, 4}).permute({2, 0, 1}).shape() == dc::Shape{4, 2, 3});
    CHECK(t({1, 2, 3, 4, 5, 6}, {1, 2, 3}).permute({2, 1, 0}).to_vector() == V{1, 4, 2, 5, 3, 6});
    CHECK(t({1, 2}, {2, 1}).expand({2, 3}).to_vector() == V{1, 1, 1, 2, 2, 2});
    CHECK(t({1, 2}, {2, 1}).expand({-1, 2}).shape() == dc::Shape{2, 2});
}

TEST_CASE("reshape shares storage and versions", "[ops]") {
    dc::Tensor a = t({1, 2, 3, 4}, {2, 2});
    dc::Tensor r = a.reshape({4});
    r.mul_(2.0);
    CHECK(a.to_vector() == V{2, 4, 6, 8});
    CHECK(a.version() == 1);
}

TEST_CASE("selection and joining", "[ops]") {
    const dc::Tensor a = t({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {2, 5});
    CHECK(a.slice(1, 1, 5, 2).to_vector() == V{1, 3, 6, 8});
    CHECK(a.slice(1, -2, 5).to_vector() == V{3, 4, 8, 9});
    CHECK(a.slice(0, 1, 1).shape() == dc::Shape{0, 5});
    CHECK(a.index_select(1, dc::int_tensor({4, 0, 4}, {3})).to_vector() == V{4, 0, 4, 9, 5, 9});
    CHECK(a.gather(1, dc::int_tensor({2, 0, 1, 1}, {2, 2})).to_vector() == V{2, 0, 6, 6});
    CHECK(dc::concat({a, a.slice(0, 0, 1)}, 0).shape() == dc::Shape{3, 5});
    CHECK(dc::concat({t({1}, {1, 1}), t({2, 3}, {1, 2})}, 1).to_vector() == V{1, 2, 3});
    CHECK(dc::stack({t({1, 2}, {2}), t({3, 4}, {2})}, 1).to_vector() == V{1, 3, 2, 4});
    const auto pieces = dc::split(a, 2, 1);
    REQUIRE(pieces.size() == 3);
    CHECK(pieces[2].to_vector() == V{4, 9});
    CHECK(dc::split(a, {1, 4}, 1)[1].shape() == dc::Shape{2, 4});
}

TEST_CASE("in-place ops", "[ops]") {
    dc::Tensor a = t({1, 2, 3, 4}, {2, 2});
    a.add_(t({10, 20}, {2}));
    CHECK(a.to_vector() == V{11, 22, 13, 24});
    a.sub_(t({1, 2, 3, 4}, {2, 2}), 2.0);
    CHECK(a.to_vector() == V{9, 18, 7, 16});
    a.div_(t({1, 2}, {2}));
    CHECK(a.to_vector() == V{9, 9, 7, 8});
    a.mul_(0.5).add_(1.0);
    CHECK(a.to_vector() == V{5.5, 5.5, 4.5, 5});
    a.clamp_(5.0, std::nullopt);
    CHECK(a.to_vector() == V{5.5, 5.5, 5, 5});
    a.addcmul_(t({1, 1, 1, 1}, {2, 2}), t({2, 2, 2, 2}, {2, 2}), 0.5);
    CHECK(a.to_vector() == V{6.5, 6.5, 6, 6});
    a.addcdiv_(t({1, 1, 1, 1}, {2, 2}), t({2, 2, 2, 2}, {2, 2}), 2.0);
    CHECK(a.to_vector() == V{7.5, 7.5, 7, 7});
    a.copy_(t({1, 2}, {2}));
    CHECK(a.to_vector() == V{1, 2, 1, 2});
    a.zero_();
    CHECK(a.to_vector() == V{0, 0, 0, 0});
    CHECK(a.version() == 10);
    CHECK_THROWS_AS(a.add_(dc::ones({3}, {.dtype = dc::float64})), dc::ShapeError);
}
