// Hostile values: floats that do not fit an integer (NaN, ±inf, 1e30) become an Error naming
// the op, never undefined behaviour, and int64 values stay exact end to end (printing, item,
// conversions) instead of passing through double.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <limits>

namespace dc = descent;
using Catch::Contains;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
}  // namespace

TEST_CASE("hostile: to(int64) of NaN, inf or 1e30 is an Error naming the element",
          "[hostile][values]") {
    CHECK_THROWS_WITH(dc::tensor({1, kNaN}).to(dc::int64), Contains("to") && Contains("element 1"));
    CHECK_THROWS_AS(dc::tensor({dc::inf}).to(dc::int64), dc::Error);
    CHECK_THROWS_AS(dc::tensor({-dc::inf}, {1}, {.dtype = dc::float64}).to(dc::int64), dc::Error);
    CHECK_THROWS_AS(dc::tensor({1e30}).to(dc::int64), dc::Error);
    CHECK_THROWS_AS(dc::tensor({9.3e18}, {1}, {.dtype = dc::float64}).to(dc::int64), dc::Error);
}

TEST_CASE("hostile: to(int64) truncates values that fit", "[hostile][values]") {
    const dc::Tensor x = dc::tensor({-2.7, 2.7, -0.0}, {3}, {.dtype = dc::float64});
    CHECK(x.to(dc::int64).to_int_vector() == std::vector<std::int64_t>{-2, 2, 0});
    const dc::Tensor edge = dc::tensor({-0x1p63}, {1}, {.dtype = dc::float64});
    CHECK(edge.to(dc::int64).to_int_vector() == std::vector<std::int64_t>{kMin});
}

TEST_CASE("hostile: item<int64_t>() of a float that does not fit", "[hostile][values]") {
    CHECK_THROWS_WITH(dc::scalar_tensor(1e30).item<std::int64_t>(), Contains("item"));
    CHECK_THROWS_AS(dc::scalar_tensor(kNaN).item<std::int64_t>(), dc::Error);
    CHECK_THROWS_AS(dc::scalar_tensor(-dc::inf).item<int>(), dc::Error);
    CHECK(dc::scalar_tensor(-3.9).item<std::int64_t>() == -3);
}

TEST_CASE("hostile: item<int64_t>() is exact past 2^53", "[hostile][values]") {
    const std::int64_t odd = (std::int64_t{1} << 53) + 1;
    CHECK(dc::int_tensor({odd}, {}).item<std::int64_t>() == odd);
    CHECK(dc::int_tensor({kMax}, {}).item<std::int64_t>() == kMax);
    CHECK(dc::int_tensor({kMin}, {1}).item<std::int64_t>() == kMin);
}

TEST_CASE("hostile: item<T>() of a value out of T's range", "[hostile][values]") {
    CHECK_THROWS_AS(dc::int_tensor({-1}, {}).item<std::size_t>(), dc::Error);
    CHECK_THROWS_AS(dc::int_tensor({kMax}, {}).item<int>(), dc::Error);
    CHECK_THROWS_AS(dc::int_tensor({300}, {}).item<std::uint8_t>(), dc::Error);
    CHECK(dc::int_tensor({255}, {}).item<std::uint8_t>() == 255);
    CHECK(dc::scalar_tensor(2.0).item<bool>());
    CHECK_THROWS_AS(dc::ones({2}).item<int>(), dc::ShapeError);
}

TEST_CASE("hostile: printing int64 extremes is exact", "[hostile][values]") {
    const std::string text = dc::to_string(dc::int_tensor({kMax, kMin, 0}, {3}));
    CHECK_THAT(text, Contains("9223372036854775807") && Contains("-9223372036854775808"));
    CHECK_THAT(dc::to_string(dc::int_tensor({(std::int64_t{1} << 53) + 1}, {})),
               Contains("9007199254740993"));
}

TEST_CASE("hostile: to_int_vector of floats that do not fit", "[hostile][values]") {
    CHECK_THROWS_AS(dc::tensor({kNaN}).to_int_vector(), dc::Error);
    CHECK(dc::int_tensor({kMax}, {1}).to_int_vector()[0] == kMax);
}

TEST_CASE("hostile: creating an int64 tensor from NaN or inf", "[hostile][values]") {
    CHECK_THROWS_WITH(dc::full({2}, kNaN, {.dtype = dc::int64}), Contains("full"));
    CHECK_THROWS_WITH(dc::tensor({dc::inf}, {1}, {.dtype = dc::int64}), Contains("tensor"));
    CHECK_THROWS_WITH(dc::scalar_tensor(1e300, {.dtype = dc::int64}), Contains("scalar_tensor"));
    CHECK_THROWS_WITH(dc::arange(0, 3, 1, {.dtype = dc::int64}).fill_(kNaN), Contains("fill_"));
    CHECK(dc::full({1}, -7.9, {.dtype = dc::int64}).to_int_vector()[0] == -7);
}

TEST_CASE("hostile: arange and linspace into int64", "[hostile][values]") {
    CHECK(dc::arange(0, 3, 1, {.dtype = dc::int64}).to_int_vector() ==
          std::vector<std::int64_t>{0, 1, 2});
    CHECK_THROWS_AS(dc::linspace(0, 1e30, 3, {.dtype = dc::int64}), dc::Error);
    CHECK_THROWS_AS(dc::linspace(0, kNaN, 3, {.dtype = dc::int64}), dc::Error);
}

TEST_CASE("hostile: bool conversions of NaN and inf are defined", "[hostile][values]") {
    const dc::Tensor b = dc::tensor({kNaN, 0, dc::inf}).to(dc::boolean);
    CHECK(b.to_vector() == std::vector<double>{1, 0, 1});
}

TEST_CASE("hostile: checked_int64 and checked_integer at the edges", "[hostile][values]") {
    CHECK(dc::checked_int64(-0x1p63, "op", "v") == kMin);
    CHECK_THROWS_AS(dc::checked_int64(0x1p63, "op", "v"), dc::Error);
    CHECK_THROWS_WITH(dc::checked_int64(kNaN, "my_op", "the count"),
                      Contains("my_op") && Contains("the count"));
    CHECK(dc::checked_integer<std::uint32_t>(4294967295, "op", "v") == 4294967295u);
    CHECK_THROWS_AS(dc::checked_integer<std::uint32_t>(4294967296, "op", "v"), dc::Error);
}

TEST_CASE("hostile: check_option rejects NaN for every interval", "[hostile][values]") {
    for (const dc::Interval i : {dc::closed(0, 1), dc::at_least(0), dc::above(0), dc::finite()}) {
        CHECK_THROWS_AS(dc::check_option(kNaN, i, "op", "x"), dc::Error);
    }
    CHECK_THROWS_AS(dc::check_option(dc::inf, dc::at_least(0), "op", "x"), dc::Error);
    CHECK_THROWS_AS(dc::check_option(0.0, dc::above(0), "op", "x"), dc::Error);
    CHECK(dc::check_option(1.0, dc::closed(0, 1), "op", "x") == 1.0);
    CHECK_THROWS_WITH(dc::check_option(2.0, dc::closed(0, 1), "op", "p"),
                      Contains("op") && Contains("p must be in [0, 1]") && Contains("2"));
}

TEST_CASE("hostile: leaky_relu and softplus refuse NaN parameters", "[hostile][values]") {
    const dc::Tensor x = dc::ones({2});
    CHECK_THROWS_WITH(dc::leaky_relu(x, kNaN), Contains("leaky_relu"));
    CHECK_THROWS_WITH(dc::softplus(x, 0.0), Contains("softplus"));
    CHECK_THROWS_WITH(dc::softplus(x, kNaN), Contains("softplus"));
    CHECK_THROWS_WITH(dc::softplus(x, 1.0, kNaN), Contains("softplus"));
    CHECK(dc::softplus(x, 1.0, dc::inf).numel() == 2);
}

TEST_CASE("hostile: undefined tensors are an Error naming the op", "[hostile][values]") {
    const dc::Tensor u, x = dc::ones({2});
    CHECK_THROWS_WITH(u + x, Contains("add"));
    CHECK_THROWS_WITH(x * u, Contains("mul"));
    CHECK_THROWS_WITH(dc::exp(u), Contains("exp"));
    CHECK_THROWS_WITH(dc::sum(u, {0}), Contains("sum"));
    CHECK_THROWS_WITH(dc::maximum(u, x), Contains("maximum"));
    CHECK_THROWS_AS(dc::matmul(u, x), dc::Error);
    CHECK_THROWS_AS(u.reshape({1}), dc::Error);
    CHECK_THROWS_AS(u.item(), dc::Error);
    CHECK_THROWS_AS(dc::concat({x, u}), dc::Error);
}
