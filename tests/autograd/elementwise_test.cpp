// The trigonometric, logarithmic, rounding and remainder functions: values where torch's are
// exact (rounding ties, remainder signs, log2 of powers of two), accuracy where the naive
// formula loses it, zero gradients of the step functions, and refusals of integer dtypes.
// Gradients are certified by the op table's sweep and the torch fixtures.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <limits>

namespace dc = descent;
using V = std::vector<double>;
using Catch::Matchers::Contains;

namespace {
dc::Tensor t(V v, dc::Shape s = {}) {
    if (s.empty() && v.size() != 1) s = {static_cast<std::int64_t>(v.size())};
    return dc::tensor(v, s, {.dtype = dc::float64});
}
}  // namespace

TEST_CASE("elementwise: round ties to even, as torch", "[ops][elementwise]") {
    const dc::Tensor x = t({-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.7, -3.7});
    CHECK(dc::round(x).to_vector() == V{-2, -2, -0, 0, 2, 2, 4, -4});
    CHECK(std::signbit(dc::round(x).to_vector()[2]));  // −0.5 rounds to −0, as torch
    // decimals d: nearest multiple of 10⁻ᵈ (computed as torch computes it, by scaling)
    CHECK(dc::round(t({1.25, 1.75, -0.051}), 1).to_vector() == V{1.2, 1.8, -0.1});
    CHECK(dc::round(t({1250, 1350, -51}), -2).to_vector() == V{1200, 1400, -100});
    // 10ᵈ must be finite in the dtype: a clear error, not NaN (or an overflow negating d)
    CHECK(dc::round(t({1.5, -2e300, 0.25}), 308).to_vector() == V{1.5, -2e300, 0.25});
    CHECK(dc::round(t({1.5}).to(dc::float32), 30).item() == 1.5);
    CHECK_THROWS_WITH(dc::round(t({1.5}), 309), Contains("round") && Contains("309"));
    CHECK_THROWS_WITH(dc::round(t({1.5}).to(dc::float32), -39),
                      Contains("round") && Contains("float32") && Contains("-39"));
    CHECK_THROWS_AS(dc::round(t({1.5}), std::numeric_limits<std::int64_t>::min()), dc::Error);
}

TEST_CASE("elementwise: floor, ceil and trunc", "[ops][elementwise]") {
    const dc::Tensor x = t({-1.5, -0.2, 0.0, 0.7, 2.0});
    CHECK(dc::floor(x).to_vector() == V{-2, -1, 0, 0, 2});
    CHECK(dc::ceil(x).to_vector() == V{-1, -0, 0, 1, 2});
    CHECK(dc::trunc(x).to_vector() == V{-1, -0, 0, 0, 2});
    const double inf = std::numeric_limits<double>::infinity();
    CHECK(dc::floor(t({inf, -inf})).to_vector() == V{inf, -inf});
    CHECK(std::isnan(dc::ceil(t({std::nan("")})).item()));
}

TEST_CASE("elementwise: the step functions have zero gradient, as in torch", "[ops][elementwise]") {
    const dc::Tensor x = t({-1.3, 0.4, 2.6}).requires_grad_();
    const dc::Tensor y = dc::floor(x) + dc::ceil(x) + dc::round(x) + dc::trunc(x) + dc::round(x, 1);
    CHECK(y.requires_grad());
    y.sum().backward();
    CHECK(x.grad().to_vector() == V{0, 0, 0});
}

TEST_CASE("elementwise: fmod keeps the dividend's sign, remainder the divisor's",
          "[ops][elementwise]") {
    const dc::Tensor a = t({-3, 3, -3, 3, 5.5, -7.25});
    const dc::Tensor b = t({2, -2, -2, 2, 2, 2});
    CHECK(dc::fmod(a, b).to_vector() == V{-1, 1, -1, 1, 1.5, -1.25});
    CHECK(dc::remainder(a, b).to_vector() == V{1, -1, -1, 1, 1.5, 0.75});
    CHECK(dc::fmod(a, 2.0).to_vector() == V{-1, 1, -1, 1, 1.5, -1.25});
    CHECK(dc::remainder(a, -2.0).to_vector() == V{-1, -1, -1, -1, -0.5, -1.25});
    // exact for large quotients, where a − b·⌊a/b⌋ would lose every digit
    CHECK(dc::remainder(t({1e17 + 16}), 10.0).item() == 6.0);
    // by zero: NaN, as C and torch
    CHECK(std::isnan(dc::fmod(t({1.0}), 0.0).item()));
    CHECK(std::isnan(dc::remainder(t({1.0}), 0.0).item()));
}

TEST_CASE("elementwise: remainder's gradients, ∂a = 1 and ∂b = −⌊a/b⌋", "[ops][elementwise]") {
    const dc::Tensor a = t({7.0, -7.0}).requires_grad_();
    const dc::Tensor b = t({2.0, 2.0}).requires_grad_();
    (dc::remainder(a, b) + dc::fmod(a, b)).sum().backward();
    CHECK(a.grad().to_vector() == V{2, 2});
    // remainder: −⌊3.5⌋ = −3, −⌊−3.5⌋ = 4; fmod: −trunc(3.5) = −3, −trunc(−3.5) = 3
    CHECK(b.grad().to_vector() == V{-6, 7});
}

TEST_CASE("elementwise: the accurate variants keep their digits", "[ops][elementwise]") {
    CHECK(dc::log1p(t({1e-20})).item() == 1e-20);  // log(1 + 1e-20) is 0
    CHECK(dc::expm1(t({1e-20})).item() == 1e-20);  // exp(1e-20) − 1 is 0
    CHECK(dc::log2(t({8, 0.25, 1024})).to_vector() == V{3, -2, 10});
    CHECK(dc::log10(t({1000, 0.01})).to_vector() == V{3, -2});
    CHECK(dc::rsqrt(t({4, 0.25})).to_vector() == V{0.5, 2});
    CHECK(dc::hypot(t({3e300}), t({4e300})).item() == Approx(5e300).epsilon(1e-15));
    CHECK(dc::hypot(t({3e-300}), t({4e-300})).item() == Approx(5e-300).epsilon(1e-15));
    CHECK(dc::reciprocal(t({4, -0.5})).to_vector() == V{0.25, -2});
    CHECK(dc::square(t({-3, 1.5})).to_vector() == V{9, 2.25});
}

TEST_CASE("elementwise: trigonometric values and domains", "[ops][elementwise]") {
    const double pi = 3.141592653589793;
    CHECK(dc::atan2(t({1, 1, -1, 0}), t({1, -1, -1, -1})).to_vector() ==
          V{std::atan2(1.0, 1.0), std::atan2(1.0, -1.0), std::atan2(-1.0, -1.0), pi});
    CHECK(dc::sin(t({0})).item() == 0.0);
    CHECK(dc::cos(t({0})).item() == 1.0);
    CHECK(dc::tan(t({pi / 4})).item() == Approx(1.0).epsilon(1e-15));
    CHECK(dc::asin(t({1})).item() == pi / 2);
    CHECK(dc::acos(t({-1})).item() == pi);
    CHECK(dc::atan(t({std::numeric_limits<double>::infinity()})).item() == pi / 2);
    CHECK(dc::sinh(t({0})).item() == 0.0);
    CHECK(dc::cosh(t({0})).item() == 1.0);
    CHECK(std::isnan(dc::asin(t({1.5})).item()));  // outside the domain: NaN, as torch
    CHECK(std::isnan(dc::log1p(t({-2})).item()));
}

TEST_CASE("elementwise: float32 agrees with float64 to float32 rounding", "[ops][elementwise]") {
    const V values = {-2.3, -0.7, 0.2, 0.9, 1.7};
    const dc::Tensor d = t(values), f = d.to(dc::float32);
    const V u = {-0.8, -0.3, 0.15, 0.5, 0.75};  // no quotient near an integer
    const dc::Tensor du = t(u), fu = du.to(dc::float32);
    const auto close = [](const dc::Tensor& single, const dc::Tensor& dbl) {
        const V s = single.to_vector(), e = dbl.to_vector();
        for (std::size_t i = 0; i < s.size(); ++i) {
            // a few float32 ulps (2⁻²³ ≈ 1.2e-7) of rounding in the kernel and its input
            CHECK(s[i] == Approx(e[i]).epsilon(1e-6).margin(1e-6));
        }
    };
    close(dc::sin(f), dc::sin(d));
    close(dc::cos(f), dc::cos(d));
    close(dc::tan(fu), dc::tan(du));
    close(dc::asin(fu), dc::asin(du));
    close(dc::acos(fu), dc::acos(du));
    close(dc::atan(f), dc::atan(d));
    close(dc::sinh(f), dc::sinh(d));
    close(dc::cosh(f), dc::cosh(d));
    close(dc::expm1(f), dc::expm1(d));
    close(dc::log1p(dc::abs(f)), dc::log1p(dc::abs(d)));
    close(dc::log2(dc::abs(f)), dc::log2(dc::abs(d)));
    close(dc::log10(dc::abs(f)), dc::log10(dc::abs(d)));
    close(dc::rsqrt(dc::abs(f)), dc::rsqrt(dc::abs(d)));
    close(dc::atan2(f, fu), dc::atan2(d, du));
    close(dc::hypot(f, fu), dc::hypot(d, du));
    close(dc::fmod(f, fu), dc::fmod(d, du));
    close(dc::remainder(f, fu), dc::remainder(d, du));
}

TEST_CASE("elementwise: integer and bool tensors are refused naming the op", "[ops][elementwise]") {
    const dc::Tensor i = dc::int_tensor({1, 2}, {2});
    const dc::Tensor m = dc::int_tensor({1, 2}, {2}) > dc::int_tensor({0, 3}, {2});
    CHECK_THROWS_AS(dc::sin(i), dc::DtypeError);
    CHECK_THROWS_WITH(dc::sin(i), Contains("sin") && Contains("int64"));
    CHECK_THROWS_WITH(dc::floor(m), Contains("floor") && Contains("bool"));
    CHECK_THROWS_WITH(dc::fmod(i, 2.0), Contains("fmod") && Contains("int64"));
    CHECK_THROWS_WITH(dc::remainder(i, i), Contains("remainder") && Contains("int64"));
    CHECK_THROWS_WITH(dc::atan2(t({1}), t({1}).to(dc::float32)),
                      Contains("atan2") && Contains("float64") && Contains("float32"));
    CHECK_THROWS_WITH(dc::hypot(t({1, 2}), t({1, 2, 3})), Contains("hypot"));
    CHECK_THROWS_WITH(dc::log2(dc::Tensor{}), Contains("log2"));
}
