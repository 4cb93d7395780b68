// Numerics under stress: float32 reductions over 10⁷ elements within 1e-6 relative of the
// float64 result (a float accumulator drifts by ~9%), true division (x / c, not x·(1/c)), and
// NaN propagating through max/min/argmax/maximum/minimum/clamp/relu as torch does.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <functional>
#include <limits>

namespace dc = descent;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kTen7 = 10'000'000;
// float32 rounds the float64 result once (relative 6e-8); everything above that is drift.
constexpr double kTolerance = 1e-6;

double relative(double a, double b) {
    return std::abs(a - b) / std::abs(b);
}

/// The same reduction of x in float32 and in float64, compared.
void check_float32_close(const dc::Tensor& x32,
                         const std::function<dc::Tensor(const dc::Tensor&)>& f) {
    const double a = f(x32).item(), b = f(x32.to(dc::float64)).item();
    INFO("float32 " << a << " float64 " << b);
    CHECK(relative(a, b) < kTolerance);
}

std::vector<bool> nan_mask(const dc::Tensor& t) {
    std::vector<bool> out;
    for (const double v : t.to_vector()) out.push_back(std::isnan(v));
    return out;
}
}  // namespace

TEST_CASE("hostile: float32 sum of 1e7 times 0.1f", "[hostile][numerics]") {
    const dc::Tensor x = dc::full({kTen7}, 0.1);
    const double exact = static_cast<double>(kTen7) * static_cast<double>(0.1f);
    CHECK(relative(x.sum().item(), exact) < kTolerance);
    CHECK(relative(x.mean().item(), static_cast<double>(0.1f)) < kTolerance);
}

TEST_CASE("hostile: float32 reductions of 1e7 random values match float64", "[hostile][numerics]") {
    dc::manual_seed(7);
    const dc::Tensor x = dc::rand({kTen7}) + 0.5;
    check_float32_close(x, [](const dc::Tensor& t) { return t.sum(); });
    check_float32_close(x, [](const dc::Tensor& t) { return t.mean(); });
    check_float32_close(x, [](const dc::Tensor& t) { return t.var(); });
    check_float32_close(x, [](const dc::Tensor& t) { return t.std(); });
    check_float32_close(x, [](const dc::Tensor& t) { return t.logsumexp({0}); });
    check_float32_close(x, [](const dc::Tensor& t) {
        const dc::Tensor d = t - 1.0;
        return (d * d).mean();  // mse against a constant
    });
}

TEST_CASE("hostile: float32 column and row sums of a large matrix", "[hostile][numerics]") {
    const dc::Tensor x = dc::full({100'000, 10}, 0.1);
    const double exact = 100'000.0 * static_cast<double>(0.1f);
    for (const double v : x.sum({0}).to_vector()) CHECK(relative(v, exact) < kTolerance);
    const dc::Tensor y = dc::full({10, 1'000'000}, 0.1);
    for (const double v : y.sum({1}).to_vector()) CHECK(relative(v, 1e6 * 0.1f) < kTolerance);
}

TEST_CASE("hostile: float32 sums over non-adjacent dims", "[hostile][numerics]") {
    const dc::Tensor x = dc::full({1000, 3, 1000}, 0.1);
    for (const double v : x.sum({0, 2}).to_vector()) CHECK(relative(v, 1e6 * 0.1f) < kTolerance);
}

TEST_CASE("hostile: scalar division is a true division", "[hostile][numerics]") {
    const dc::Tensor x = dc::tensor({1e-30});
    const double y = (x / 1e-39).item();
    CHECK(std::isfinite(y));
    CHECK(relative(y, 1e-30f / 1e-39f) < 1e-6);
    const dc::Tensor d = dc::tensor({1e300}, {1}, {.dtype = dc::float64});
    CHECK((d / 1e-10).item() == dc::inf);
    CHECK(relative((dc::tensor({3e-300}, {1}, {.dtype = dc::float64}) / 1e-310).item(), 3e10) <
          1e-12);
    // 0.1 is not a power of two: x / 10 must equal the correctly rounded quotient
    const dc::Tensor three = dc::tensor({3.0}, {1}, {.dtype = dc::float64});
    CHECK((three / 10.0).item() == 3.0 / 10.0);
}

TEST_CASE("hostile: mean divides exactly", "[hostile][numerics]") {
    const dc::Tensor x = dc::tensor({1, 2, 3}, {3}, {.dtype = dc::float64});
    CHECK(x.mean().item() == 2.0);
    const dc::Tensor y = dc::tensor({0.1, 0.2, 0.3}, {3}, {.dtype = dc::float64});
    CHECK(y.mean().item() == (0.1 + 0.2 + 0.3) / 3.0);
}

TEST_CASE("hostile: max and min propagate NaN", "[hostile][numerics]") {
    const dc::Tensor x = dc::tensor({1, kNaN, 3});
    CHECK(std::isnan(x.max().item()));
    CHECK(std::isnan(x.min().item()));
    const dc::Tensor m = dc::tensor({1, kNaN, 3, 4, 5, 6}, {2, 3});
    CHECK(nan_mask(m.max({1})) == std::vector<bool>{true, false});
    CHECK(nan_mask(m.min({0})) == std::vector<bool>{false, true, false});
}

TEST_CASE("hostile: max propagates NaN in long vectorized runs", "[hostile][numerics]") {
    std::vector<double> v(1000, 1.0);
    v[517] = kNaN;
    CHECK(std::isnan(dc::tensor(v).max().item()));
    CHECK(std::isnan(dc::tensor(v, {10, 100}).max({0}).to_vector()[17]));
}

TEST_CASE("hostile: argmax and argmin take the first NaN", "[hostile][numerics]") {
    const dc::Tensor x = dc::tensor({1, kNaN, 3, kNaN});
    CHECK(x.argmax().item() == 1);
    CHECK(x.argmin().item() == 1);
    const dc::Tensor m = dc::tensor({5, 1, kNaN, 2, 7, 0}, {2, 3});
    CHECK(m.argmax(1).to_int_vector() == std::vector<std::int64_t>{2, 1});
    CHECK(m.argmin(1).to_int_vector() == std::vector<std::int64_t>{2, 2});
}

TEST_CASE("hostile: maximum and minimum propagate NaN from either side", "[hostile][numerics]") {
    const dc::Tensor a = dc::tensor({kNaN, 1, 2}), b = dc::tensor({0, kNaN, 1});
    CHECK(nan_mask(dc::maximum(a, b)) == std::vector<bool>{true, true, false});
    CHECK(nan_mask(dc::maximum(b, a)) == std::vector<bool>{true, true, false});
    CHECK(nan_mask(dc::minimum(a, b)) == std::vector<bool>{true, true, false});
    CHECK(nan_mask(dc::minimum(b, a)) == std::vector<bool>{true, true, false});
}

TEST_CASE("hostile: clamp and relu keep NaN", "[hostile][numerics]") {
    const dc::Tensor x = dc::tensor({kNaN, -1, 5});
    CHECK(nan_mask(dc::clamp(x, 0.0, 1.0)) == std::vector<bool>{true, false, false});
    CHECK(nan_mask(dc::relu(x)) == std::vector<bool>{true, false, false});
    dc::Tensor y = x.clone();
    y.clamp_(0.0, 1.0);
    CHECK(nan_mask(y) == std::vector<bool>{true, false, false});
    CHECK(dc::clamp(x, 0.0, 1.0).to_vector()[2] == 1.0);
}

TEST_CASE("hostile: softmax of a row holding NaN", "[hostile][numerics]") {
    const dc::Tensor x = dc::tensor({1, kNaN, 3, 1, 2, 3}, {2, 3});
    const auto mask = nan_mask(x.softmax(1));
    CHECK(mask == std::vector<bool>{true, true, true, false, false, false});
}

TEST_CASE("hostile: reductions of infinities", "[hostile][numerics]") {
    const dc::Tensor x = dc::tensor({dc::inf, 1, -dc::inf});
    CHECK(std::isnan(x.sum().item()));
    CHECK(x.max().item() == dc::inf);
    CHECK(x.min().item() == -dc::inf);
    CHECK(dc::tensor({-dc::inf, -dc::inf}).logsumexp({0}).item() == -dc::inf);
}

TEST_CASE("hostile: sums of empty tensors are zero, means NaN", "[hostile][numerics]") {
    CHECK(dc::zeros({0}).sum().item() == 0.0);
    CHECK(std::isnan(dc::zeros({0}).mean().item()));
    CHECK(dc::zeros({0, 3}).sum({0}).to_vector() == std::vector<double>{0, 0, 0});
    CHECK(dc::zeros({3, 0}).sum({1}).shape() == dc::Shape{3});
}

TEST_CASE("hostile: float64 reductions stay accurate", "[hostile][numerics]") {
    const dc::Tensor x = dc::full({kTen7}, 0.1, {.dtype = dc::float64});
    CHECK(relative(x.sum().item(), 1e6) < 1e-12);
}
