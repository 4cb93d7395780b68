// Hostile shapes: negative extents, element counts past int64, sizes beyond memory, and the
// index arithmetic of slice/split/concat/randint. Each must be a descent::Error naming the op
// the user called and the shape, never a crash, a wrapped-around count or a huge allocation.

#include <catch2/catch.hpp>
#include <cstdint>
#include <descent/autograd.hpp>
#include <limits>

namespace dc = descent;
using Catch::Contains;

namespace {
constexpr std::int64_t kBig = std::int64_t{1} << 32;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
}  // namespace

TEST_CASE("hostile: tensor() refuses negative extents", "[hostile][shapes]") {
    CHECK_THROWS_AS(dc::tensor({1, 2}, {-1, -2}), dc::ShapeError);
    CHECK_THROWS_WITH(dc::tensor({1, 2}, {-1, -2}), Contains("tensor") && Contains("[-1,-2]"));
}

TEST_CASE("hostile: int_tensor() refuses negative extents", "[hostile][shapes]") {
    CHECK_THROWS_WITH(dc::int_tensor({1, 2}, {2, -1}),
                      Contains("int_tensor") && Contains("[2,-1]"));
}

TEST_CASE("hostile: zeros/ones/full refuse negative extents", "[hostile][shapes]") {
    CHECK_THROWS_WITH(dc::zeros({-1}), Contains("zeros") && Contains("[-1]"));
    CHECK_THROWS_WITH(dc::ones({3, -4}), Contains("ones") && Contains("[3,-4]"));
    CHECK_THROWS_WITH(dc::full({-7}, 1.0), Contains("full") && Contains("[-7]"));
}

TEST_CASE("hostile: random creation refuses negative extents", "[hostile][shapes]") {
    CHECK_THROWS_WITH(dc::randn({-1}), Contains("randn") && Contains("[-1]"));
    CHECK_THROWS_WITH(dc::rand({2, -3}), Contains("rand") && Contains("[2,-3]"));
    CHECK_THROWS_WITH(dc::randint(0, 5, {-2}), Contains("randint") && Contains("[-2]"));
}

TEST_CASE("hostile: randperm of a negative count", "[hostile][shapes]") {
    CHECK_THROWS_AS(dc::randperm(-1), dc::ShapeError);
    CHECK_THROWS_WITH(dc::randperm(-1), Contains("randperm"));
    CHECK(dc::randperm(0).numel() == 0);
}

TEST_CASE("hostile: an element count past int64 is refused, not wrapped", "[hostile][shapes]") {
    CHECK_THROWS_AS(dc::zeros({kBig, kBig}), dc::ShapeError);
    CHECK_THROWS_WITH(dc::zeros({kBig, kBig}), Contains("zeros") && Contains("4294967296"));
    CHECK_THROWS_AS(dc::ones({kMax, 2}), dc::ShapeError);
    CHECK_THROWS_AS(dc::tensor({}, {kBig, kBig, 0}), dc::ShapeError);
}

TEST_CASE("hostile: a zero extent next to huge ones is refused", "[hostile][shapes]") {
    // numel 0, but every stride of [0, 2^62, 2^62] overflows
    const std::int64_t e = std::int64_t{1} << 62;
    CHECK_THROWS_AS(dc::zeros({0, e, e}), dc::ShapeError);
    CHECK_THROWS_AS(dc::checked_numel({0, e, e}, "op"), dc::ShapeError);
    CHECK(dc::checked_numel({0, e}, "op") == 0);
}

TEST_CASE("hostile: a tensor larger than memory is an Error, not an abort", "[hostile][shapes]") {
    const std::int64_t n = std::int64_t{1} << 40;  // 4 TiB of float32
    CHECK_THROWS_AS(dc::zeros({n}), dc::ShapeError);
    CHECK_THROWS_WITH(dc::zeros({n}), Contains("zeros") && Contains("memory"));
    CHECK_THROWS_AS(dc::full({std::int64_t{1} << 61}, 0.0, {.dtype = dc::float64}), dc::ShapeError);
    CHECK_THROWS_AS(dc::randn({n}), dc::ShapeError);
}

TEST_CASE("hostile: eye of a huge or negative size", "[hostile][shapes]") {
    CHECK_THROWS_AS(dc::eye(kBig), dc::ShapeError);
    CHECK_THROWS_WITH(dc::eye(kBig), Contains("eye"));
    CHECK_THROWS_WITH(dc::eye(-3), Contains("eye"));
    CHECK(dc::eye(0).numel() == 0);
}

TEST_CASE("hostile: checked_numel names the op and rejects negatives", "[hostile][shapes]") {
    CHECK_THROWS_WITH(dc::checked_numel({2, -1}, "my_op"), Contains("my_op") && Contains("[2,-1]"));
    CHECK(dc::checked_numel({}, "op") == 1);
    CHECK(dc::checked_numel({3, 0, 5}, "op") == 0);
    CHECK(dc::checked_numel({kMax}, "op") == kMax);
    CHECK_THROWS_AS(dc::checked_numel({kMax, 2}, "op"), dc::ShapeError);
}

TEST_CASE("hostile: reshape into an overflowing shape", "[hostile][shapes]") {
    const dc::Tensor x = dc::zeros({0});
    CHECK_THROWS_AS(x.reshape({kBig, kBig, 0}), dc::ShapeError);
    CHECK_THROWS_WITH(x.reshape({kBig, kBig, 0}), Contains("reshape"));
    CHECK_THROWS_AS(dc::ones({4}).reshape({kBig, kBig, -1}), dc::ShapeError);
}

TEST_CASE("hostile: reshape with bad extents", "[hostile][shapes]") {
    const dc::Tensor x = dc::ones({6});
    CHECK_THROWS_AS(x.reshape({-2, 3}), dc::ShapeError);
    CHECK_THROWS_AS(x.reshape({-1, -1}), dc::ShapeError);
    CHECK_THROWS_AS(x.reshape({kMin, 6}), dc::ShapeError);
    CHECK_THROWS_AS(dc::zeros({0, 3}).reshape({-1, 0}), dc::ShapeError);
    CHECK(dc::zeros({0, 3}).reshape({-1, 3}).shape() == dc::Shape{0, 3});
}

TEST_CASE("hostile: expand to negative or overflowing shapes", "[hostile][shapes]") {
    const dc::Tensor x = dc::ones({3});
    CHECK_THROWS_AS(x.expand({-5, 3}), dc::ShapeError);
    CHECK_THROWS_WITH(x.expand({-5, 3}), Contains("expand"));
    CHECK_THROWS_AS(dc::ones({1}).expand({kBig, kBig}), dc::ShapeError);
}

TEST_CASE("hostile: broadcasting two valid shapes past int64", "[hostile][shapes]") {
    const dc::Tensor a = dc::zeros({kBig, 0}), b = dc::zeros({0, kBig});
    // [kBig, 0] and [0, kBig] do not broadcast; [kBig, 1] and [1, kBig] would overflow
    CHECK_THROWS_AS(a + b, dc::ShapeError);
    const dc::Tensor c = dc::zeros({kBig, 1, 0}), d = dc::zeros({1, kBig, 0});
    CHECK_THROWS_AS(c + d, dc::ShapeError);
    CHECK_THROWS_WITH(c * d, Contains("mul"));
}

TEST_CASE("hostile: matmul whose result would overflow", "[hostile][shapes]") {
    const dc::Tensor a = dc::zeros({kBig, 0}), b = dc::zeros({0, kBig});
    CHECK_THROWS_AS(dc::matmul(a, b), dc::ShapeError);
    CHECK_THROWS_WITH(dc::matmul(a, b), Contains("matmul"));
}

TEST_CASE("hostile: slice with a huge step", "[hostile][shapes]") {
    const dc::Tensor x = dc::arange(0, 10);
    const dc::Tensor y = x.slice(0, 1, 10, kMax);
    CHECK(y.to_vector() == std::vector<double>{1});
    CHECK(x.slice(0, 0, 10, kMax - 1).numel() == 1);
    CHECK(x.slice(0, 3, 3, kMax).numel() == 0);
}

TEST_CASE("hostile: slice with extreme bounds", "[hostile][shapes]") {
    const dc::Tensor x = dc::arange(0, 10);
    CHECK_THROWS_AS(x.slice(0, kMin, 5), dc::IndexError);
    CHECK_THROWS_AS(x.slice(0, 0, kMax), dc::IndexError);
    CHECK_THROWS_AS(x.slice(0, 0, 5, 0), dc::IndexError);
    CHECK_THROWS_AS(x.slice(0, 0, 5, -1), dc::IndexError);
    CHECK_THROWS_AS(x.slice(kMin, 0, 1), dc::IndexError);
}

TEST_CASE("hostile: split with negative sizes", "[hostile][shapes]") {
    const dc::Tensor x = dc::arange(0, 3);
    CHECK_THROWS_AS(dc::split(x, std::vector<std::int64_t>{-1, 4}), dc::ShapeError);
    CHECK_THROWS_WITH(dc::split(x, std::vector<std::int64_t>{-1, 4}), Contains("split"));
    CHECK_THROWS_AS(dc::split(x, std::vector<std::int64_t>{kMax, kMax, 5}), dc::ShapeError);
    CHECK_THROWS_AS(dc::split(x, std::int64_t{0}), dc::ShapeError);
    CHECK_THROWS_AS(dc::split(x, std::int64_t{-2}), dc::ShapeError);
}

TEST_CASE("hostile: split into a huge piece size", "[hostile][shapes]") {
    const auto pieces = dc::split(dc::arange(0, 5), kMax);
    REQUIRE(pieces.size() == 1);
    CHECK(pieces[0].numel() == 5);
}

TEST_CASE("hostile: concat whose extents add past int64", "[hostile][shapes]") {
    const std::int64_t e = std::int64_t{1} << 62;
    const dc::Tensor a = dc::zeros({0, e}), b = dc::zeros({0, e});
    CHECK_THROWS_AS(dc::concat({a, b, a}, 1), dc::ShapeError);
    CHECK_THROWS_WITH(dc::concat({a, b, a}, 1), Contains("concat"));
}

TEST_CASE("hostile: stack names itself for a bad dim and dtype", "[hostile][shapes]") {
    const dc::Tensor a = dc::ones({2}), b = dc::ones({2}, {.dtype = dc::float64});
    CHECK_THROWS_WITH(dc::stack({a, a}, 5), Contains("stack"));
    CHECK_THROWS_WITH(dc::stack({a, a}, -4), Contains("stack"));
    CHECK_THROWS_WITH(dc::stack({a, b}), Contains("stack"));
    CHECK(dc::stack({a, a}, -1).shape() == dc::Shape{2, 2});
}

TEST_CASE("hostile: randint over the whole int64 range", "[hostile][shapes]") {
    dc::manual_seed(1);
    const dc::Tensor r = dc::randint(kMin, kMax, {1000});
    bool negative = false, positive = false;
    for (const auto v : r.to_int_vector()) {
        negative = negative || v < 0;
        positive = positive || v > 0;
    }
    CHECK(negative);
    CHECK(positive);
    CHECK_THROWS_AS(dc::randint(5, 5, {1}), dc::ShapeError);
    CHECK_THROWS_AS(dc::randint(kMax, kMin, {1}), dc::ShapeError);
}

TEST_CASE("hostile: randint next to the int64 limits", "[hostile][shapes]") {
    const dc::Tensor top = dc::randint(kMax - 1, kMax, {16});
    for (const auto v : top.to_int_vector()) CHECK(v == kMax - 1);
    const dc::Tensor bottom = dc::randint(kMin, kMin + 1, {16});
    for (const auto v : bottom.to_int_vector()) CHECK(v == kMin);
}

TEST_CASE("hostile: arange with NaN, infinite or huge ranges", "[hostile][shapes]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(dc::arange(0, nan), Contains("arange"));
    CHECK_THROWS_WITH(dc::arange(nan, 1), Contains("arange"));
    CHECK_THROWS_WITH(dc::arange(0, 1, nan), Contains("arange"));
    CHECK_THROWS_WITH(dc::arange(0, dc::inf), Contains("arange"));
    CHECK_THROWS_AS(dc::arange(0, 1e300, 1e-300), dc::Error);
    CHECK_THROWS_AS(dc::arange(0, 1e18), dc::Error);  // 8 EB of float32
    CHECK_THROWS_AS(dc::arange(0, 5, -1), dc::ShapeError);
    CHECK(dc::arange(0, 0).numel() == 0);
}

TEST_CASE("hostile: linspace with a negative or huge count", "[hostile][shapes]") {
    CHECK_THROWS_WITH(dc::linspace(0, 1, -1), Contains("linspace"));
    CHECK_THROWS_AS(dc::linspace(0, 1, kMax), dc::ShapeError);
    CHECK(dc::linspace(0, 1, 0).numel() == 0);
    CHECK(dc::linspace(0, 1, 1).to_vector() == std::vector<double>{0});
}

TEST_CASE("hostile: values that do not fill the shape", "[hostile][shapes]") {
    CHECK_THROWS_WITH(dc::tensor({1, 2, 3}, {2, 2}), Contains("tensor") && Contains("[2,2]"));
    CHECK_THROWS_WITH(dc::int_tensor({1}, {0}), Contains("int_tensor"));
}

TEST_CASE("hostile: Generator::below(0) is an Error, not a division by zero", "[hostile][shapes]") {
    dc::Generator gen(1);
    CHECK_THROWS_AS(gen.below(0), dc::Error);
    CHECK(gen.below(1) == 0);
}

TEST_CASE("hostile: permute and transpose with bad dims", "[hostile][shapes]") {
    const dc::Tensor x = dc::ones({2, 3});
    CHECK_THROWS_AS(x.permute({0, 0}), dc::ShapeError);
    CHECK_THROWS_AS(x.permute({0}), dc::ShapeError);
    CHECK_THROWS_AS(x.permute({0, kMax}), dc::IndexError);
    CHECK_THROWS_AS(x.transpose(0, kMin), dc::IndexError);
    CHECK_THROWS_AS(x.unsqueeze(kMax), dc::IndexError);
    CHECK_THROWS_AS(x.squeeze(-3), dc::IndexError);
    CHECK_THROWS_AS(x.flatten(1, 0), dc::IndexError);
}

TEST_CASE("hostile: reductions over dims out of range or repeated", "[hostile][shapes]") {
    const dc::Tensor x = dc::ones({2, 3});
    CHECK_THROWS_AS(x.sum({kMax}), dc::IndexError);
    CHECK_THROWS_AS(x.mean({0, -2}), dc::IndexError);
    CHECK_THROWS_AS(x.softmax(kMin), dc::IndexError);
    CHECK_THROWS_AS(x.argmax(2), dc::IndexError);
    CHECK_THROWS_AS(dc::zeros({0, 3}).max({0}), dc::ShapeError);
    CHECK_THROWS_AS(dc::zeros({0}).argmax(), dc::ShapeError);
}

TEST_CASE("hostile: index ops with out-of-range and extreme indices", "[hostile][shapes]") {
    const dc::Tensor x = dc::ones({3, 4});
    CHECK_THROWS_AS(x.index_select(0, dc::int_tensor({kMin}, {1})), dc::IndexError);
    CHECK_THROWS_AS(x.index_select(0, dc::int_tensor({kMax}, {1})), dc::IndexError);
    CHECK_THROWS_AS(x.gather(1, dc::int_tensor({-1}, {1, 1})), dc::IndexError);
    CHECK_THROWS_AS(x.at({kMin, 0}), dc::IndexError);
    CHECK_THROWS_AS(x.at({0}), dc::IndexError);
}

TEST_CASE("hostile: split of a huge empty dim into unit pieces", "[hostile][shapes]") {
    const dc::Tensor x = dc::zeros({0, std::int64_t{1} << 62});
    CHECK_THROWS_AS(dc::split(x, 1, 1), dc::ShapeError);
    CHECK_THROWS_WITH(dc::split(x, 1, 1), Contains("split") && Contains("memory"));
    CHECK(dc::split(x, std::int64_t{1} << 61, 1).size() == 2);
}
