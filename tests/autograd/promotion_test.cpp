// Type promotion as torch's for int64 and bool operands: result dtypes of every pair of dtypes
// and op, values, int64 wrap-around (run under UBSan in CI), integer scalars, comparisons,
// integer reductions, where(), and gradients that still reach the float operand.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <type_traits>

namespace dc = descent;
using Catch::Contains;
using V = std::vector<double>;
using I = std::vector<std::int64_t>;

namespace {
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

const std::vector<dc::Dtype> kDtypes = {dc::float32, dc::float64, dc::int64, dc::boolean};

dc::Dtype dtype_code(char c) {
    switch (c) {
        case 'f':
            return dc::float32;
        case 'd':
            return dc::float64;
        case 'i':
            return dc::int64;
        default:
            return dc::boolean;
    }
}

/// Two elements per dtype, each exact in every dtype it is promoted to.
dc::Tensor sample(dc::Dtype d) {
    switch (d) {
        case dc::Dtype::float32:
            return dc::tensor({1.5, -2.0}, {2});
        case dc::Dtype::float64:
            return dc::tensor({0.25, 3.0}, {2}, {.dtype = dc::float64});
        case dc::Dtype::int64:
            return dc::int_tensor({7, -3}, {2});
        case dc::Dtype::boolean:
            return dc::tensor({1, 0}, {2}, {.dtype = dc::boolean});
    }
    return {};
}

/// Equal element by element, NaN equal to NaN.
bool same_values(const V& a, const V& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    }
    return true;
}

dc::Tensor bools(const V& v) {
    return dc::tensor(v, {static_cast<std::int64_t>(v.size())}, {.dtype = dc::boolean});
}

using BinaryOp = std::function<dc::Tensor(const dc::Tensor&, const dc::Tensor&)>;
struct ArithCase {
    BinaryOp op;
    std::function<double(double, double)> f;
    /// Result dtype of a op b, a's dtype by row and b's by column in kDtypes' order: f float32,
    /// d float64, i int64, b bool, E a DtypeError.
    std::vector<std::string> table;
};

const std::map<std::string, ArithCase>& arith_cases() {
    static const std::map<std::string, ArithCase> cases = {
        {"add",
         {[](const dc::Tensor& a, const dc::Tensor& b) { return a + b; },
          [](double x, double y) { return x + y; },
          {"fEff", "Eddd", "fdii", "fdib"}}},
        {"sub",
         {[](const dc::Tensor& a, const dc::Tensor& b) { return a - b; },
          [](double x, double y) { return x - y; },
          {"fEfE", "EddE", "fdiE", "EEEE"}}},
        {"mul",
         {[](const dc::Tensor& a, const dc::Tensor& b) { return a * b; },
          [](double x, double y) { return x * y; },
          {"fEff", "Eddd", "fdii", "fdib"}}},
        {"div",
         {[](const dc::Tensor& a, const dc::Tensor& b) { return a / b; },
          [](double x, double y) { return x / y; },
          {"fEff", "Eddd", "fdff", "fdff"}}},
    };
    return cases;
}

/// f(x, y) computed in `dtype`: float32 operands and result rounded to float, bool as or/and.
double in_dtype(const std::string& name, const std::function<double(double, double)>& f, double x,
                double y, dc::Dtype dtype) {
    if (dtype == dc::float32) {
        const float r = static_cast<float>(f(static_cast<float>(x), static_cast<float>(y)));
        return r;
    }
    if (dtype == dc::boolean) return name == "add" ? (x != 0 || y != 0) : (x != 0 && y != 0);
    return f(x, y);
}
}  // namespace

TEST_CASE("arithmetic: the result dtype and values of every pair of dtypes", "[promotion]") {
    for (const auto& [name, c] : arith_cases()) {
        for (std::size_t i = 0; i < kDtypes.size(); ++i) {
            for (std::size_t j = 0; j < kDtypes.size(); ++j) {
                const dc::Tensor a = sample(kDtypes[i]), b = sample(kDtypes[j]);
                const char code = c.table[i][j];
                INFO(name << ": " << dc::dtype_name(a.dtype()) << " and "
                          << dc::dtype_name(b.dtype()));
                if (code == 'E') {
                    CHECK_THROWS_AS(c.op(a, b), dc::DtypeError);
                    CHECK_THROWS_WITH(c.op(a, b),
                                      Contains(name) &&
                                          Contains(std::string(dc::dtype_name(a.dtype()))) &&
                                          Contains(std::string(dc::dtype_name(b.dtype()))));
                    continue;
                }
                const dc::Tensor z = c.op(a, b);
                REQUIRE(z.dtype() == dtype_code(code));
                CHECK(z.shape() == dc::Shape{2});
                const V x = a.to_vector(), y = b.to_vector();
                CHECK(same_values(z.to_vector(), {in_dtype(name, c.f, x[0], y[0], z.dtype()),
                                                  in_dtype(name, c.f, x[1], y[1], z.dtype())}));
            }
        }
    }
}

TEST_CASE("arithmetic: the functions, the operators and broadcasting agree", "[promotion]") {
    const dc::Tensor f = dc::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
    const dc::Tensor i = dc::int_tensor({10, 20, 30}, {3});
    CHECK((f + i).to_vector() == V{11, 22, 33, 14, 25, 36});
    CHECK(dc::add(i, f).to_vector() == V{11, 22, 33, 14, 25, 36});
    CHECK(dc::sub(i, f).to_vector() == V{9, 18, 27, 6, 15, 24});
    CHECK(dc::mul(f, i).dtype() == dc::float32);
    CHECK(dc::div(i, dc::int_tensor({4}, {1})).to_vector() == V{2.5, 5, 7.5});
    const dc::Tensor col = dc::int_tensor({1, 2}, {2, 1});
    CHECK((col * i).to_int_vector() == I{10, 20, 30, 20, 40, 60});
    CHECK((col * i).shape() == dc::Shape{2, 3});
    CHECK_THROWS_WITH(dc::int_tensor({1, 2}, {2}) + i,
                      Contains("add") && Contains("[2]") && Contains("[3]"));
    CHECK_THROWS_WITH(bools({1, 0}) * bools({1, 0, 1}), Contains("mul") && Contains("[3]"));
}

TEST_CASE("float32 with float64 stays an error, with its message", "[promotion]") {
    const dc::Tensor f = dc::ones({2}), d = dc::ones({2}, {.dtype = dc::float64});
    CHECK_THROWS_WITH(f + d,
                      "add: operands have different dtypes, float32 [2] and float64 [2]; "
                      "convert one with .to()");
    CHECK_THROWS_WITH(d / f, Contains("div") && Contains("float64 [2] and float32 [2]"));
    CHECK_THROWS_WITH(dc::lt(f, d), Contains("lt") && Contains("float32") && Contains("float64"));
    CHECK_THROWS_WITH(dc::where(dc::ones({2}) > 0.0, f, d), Contains("where"));
}

TEST_CASE("int64 arithmetic wraps around as two's complement", "[promotion]") {
    const dc::Tensor big = dc::int_tensor({kMax, kMin, kMin, -1}, {4});
    CHECK((big + dc::int_tensor({1, -1, 0, 0}, {4})).to_int_vector() == I{kMin, kMax, kMin, -1});
    CHECK((big - dc::int_tensor({-1, 1, 0, kMin}, {4})).to_int_vector() ==
          I{kMin, kMax, kMin, kMax});
    CHECK((big * dc::int_tensor({2, -1, 2, kMin}, {4})).to_int_vector() == I{-2, kMin, 0, kMin});
    CHECK((-big).to_int_vector() == I{-kMax, kMin, kMin, 1});
    CHECK(dc::neg(big).dtype() == dc::int64);
    CHECK((big + 1).to_int_vector() == I{kMin, kMin + 1, kMin + 1, 0});
    CHECK((big * -1).to_int_vector() == I{-kMax, kMin, kMin, 1});
    CHECK((big - 1).to_int_vector() == I{kMax - 1, kMax, kMax, -2});
    CHECK((kMin - big).to_int_vector() == I{1, 0, 0, kMin + 1});
    CHECK((big + bools({1, 1, 0, 1})).to_int_vector() == I{kMin, kMin + 1, kMin, 0});
}

TEST_CASE("bool with bool: add is or, mul is and, sub an error, div float32", "[promotion]") {
    const dc::Tensor p = bools({1, 0, 1, 0}), q = bools({0, 0, 1, 1});
    CHECK((p + q).dtype() == dc::boolean);
    CHECK((p + q).to_vector() == V{1, 0, 1, 1});
    CHECK((p * q).dtype() == dc::boolean);
    CHECK((p * q).to_vector() == V{0, 0, 1, 0});
    CHECK_THROWS_AS(p - q, dc::DtypeError);
    CHECK_THROWS_WITH(p - q, Contains("sub") && Contains("logical_xor"));
    CHECK_THROWS_WITH(p - dc::int_tensor({1}, {1}), Contains("sub") && Contains("logical_not"));
    CHECK_THROWS_WITH(-p, Contains("neg") && Contains("bool") && Contains("logical_not"));
    CHECK((p / q).dtype() == dc::float32);
    const V d = (p / q).to_vector();
    CHECK(d[0] == std::numeric_limits<double>::infinity());
    CHECK(std::isnan(d[1]));
    CHECK(d[2] == 1.0);
    CHECK(d[3] == 0.0);
    CHECK(dc::logical_or(p, q).to_vector() == V{1, 0, 1, 1});
    CHECK(dc::logical_xor(p, q).to_vector() == V{1, 0, 0, 1});
    CHECK(dc::logical_xor(p, bools({1})).to_vector() == V{0, 1, 0, 1});
    CHECK_THROWS_WITH(dc::logical_or(p, dc::ones({4})),
                      Contains("logical_or") && Contains("float32"));
    CHECK_THROWS_WITH(dc::logical_xor(dc::int_tensor({1}, {1}), q),
                      Contains("logical_xor") && Contains("int64"));
}

TEST_CASE("int64 division is a true division in float32", "[promotion]") {
    const dc::Tensor a = dc::int_tensor({7, -7, 1, 0, 1}, {5});
    const dc::Tensor b = dc::int_tensor({2, 2, 0, 0, 3}, {5});
    const dc::Tensor z = a / b;
    CHECK(z.dtype() == dc::float32);
    const V v = z.to_vector();
    CHECK(v[0] == 3.5);
    CHECK(v[1] == -3.5);
    CHECK(v[2] == std::numeric_limits<double>::infinity());
    CHECK(std::isnan(v[3]));
    CHECK(v[4] == static_cast<double>(1.0f / 3.0f));
    CHECK((a / 2).to_vector() == V{3.5, -3.5, 0.5, 0, 0.5});
    CHECK((a / 2).dtype() == dc::float32);
    CHECK((14 / dc::int_tensor({4, -7}, {2})).to_vector() == V{3.5, -2});
    CHECK(dc::rdiv(14, dc::int_tensor({4}, {1})).dtype() == dc::float32);
}

TEST_CASE("integer scalars: int64 beside an integer tensor, the dtype of a float one",
          "[promotion]") {
    const dc::Tensor i = dc::int_tensor({7, -3}, {2});
    const dc::Tensor b = bools({1, 0});
    static_assert(std::is_same_v<decltype(i + 1), dc::Tensor>);
    CHECK((i + 1).dtype() == dc::int64);
    CHECK((i + 1).to_int_vector() == I{8, -2});
    CHECK((2 * i).to_int_vector() == I{14, -6});
    CHECK((i - 3).to_int_vector() == I{4, -6});
    CHECK((3 - i).to_int_vector() == I{-4, 6});
    CHECK(dc::add(i, std::int64_t{5}).to_int_vector() == I{12, 2});
    CHECK(dc::mul(i, 3u).to_int_vector() == I{21, -9});
    CHECK((i * short{2}).dtype() == dc::int64);
    CHECK((b + 1).dtype() == dc::int64);
    CHECK((b + 1).to_int_vector() == I{2, 1});
    CHECK((b * 5).to_int_vector() == I{5, 0});
    CHECK_THROWS_WITH(b - 1, Contains("sub") && Contains("bool"));
    CHECK_THROWS_WITH(1 - b, Contains("sub") && Contains("bool"));
    const auto huge = std::numeric_limits<std::uint64_t>::max();
    CHECK_THROWS_WITH(i + huge, Contains("add") && Contains("18446744073709551615"));
    CHECK((dc::ones({1}) + huge).to_vector() == V{static_cast<float>(huge)});

    // beside a float tensor: the double overload's bits and node
    const dc::Tensor f = dc::tensor({0.1, -2.7, 1e30}, {3});
    CHECK((f + 1).dtype() == dc::float32);
    CHECK((f + 1).to_vector() == (f + 1.0).to_vector());
    CHECK((f - 3).to_vector() == (f - 3.0).to_vector());
    CHECK((3 - f).to_vector() == (3.0 - f).to_vector());
    CHECK((7 * f).to_vector() == (7.0 * f).to_vector());
    CHECK((f / 3).to_vector() == (f / 3.0).to_vector());
    CHECK((3 / f).to_vector() == (3.0 / f).to_vector());
    const std::int64_t odd = (std::int64_t{1} << 40) + 1;
    CHECK((f * odd).to_vector() == (f * static_cast<double>(odd)).to_vector());
    const dc::Tensor x = dc::tensor({0.5}, {1}, {.requires_grad = true});
    CHECK((x + 1).grad_fn_name() == "add_scalar");
    CHECK((x / 2).grad_fn_name() == "div_scalar");
}

TEST_CASE("double scalars make an int64 or bool tensor float32", "[promotion]") {
    const dc::Tensor i = dc::int_tensor({7, -3}, {2});
    CHECK((i + 1.5).dtype() == dc::float32);
    CHECK((i + 1.5).to_vector() == V{8.5, -1.5});
    CHECK((i - 0.5).to_vector() == V{6.5, -3.5});
    CHECK((0.5 - i).to_vector() == V{-6.5, 3.5});
    CHECK((2.0 * i).to_vector() == V{14, -6});
    CHECK((i / 2.0).to_vector() == V{3.5, -1.5});
    CHECK((21.0 / i).to_vector() == V{3, -7});
    CHECK(dc::add(bools({1, 0}), 0.25).to_vector() == V{1.25, 0.25});
    CHECK(dc::mul(bools({1, 0}), 0.5).dtype() == dc::float32);
    CHECK_THROWS_WITH(bools({1, 0}) - 0.5, Contains("sub") && Contains("bool"));
    CHECK_THROWS_WITH(0.5 - bools({1, 0}), Contains("sub") && Contains("bool"));
    // 0.1 is rounded once, to float32, as torch's default dtype does
    CHECK((dc::int_tensor({1}, {1}) * 0.1).to_vector() == V{static_cast<float>(0.1)});
}

TEST_CASE("comparisons promote their operands", "[promotion]") {
    for (const auto da : kDtypes) {
        for (const auto db : kDtypes) {
            const dc::Tensor a = sample(da), b = sample(db);
            INFO(dc::dtype_name(da) << " with " << dc::dtype_name(db));
            if (dc::is_floating(da) && dc::is_floating(db) && da != db) {
                CHECK_THROWS_AS(dc::eq(a, b), dc::DtypeError);
                continue;
            }
            const V x = a.to_vector(), y = b.to_vector();
            CHECK((a < b).dtype() == dc::boolean);
            CHECK((a < b).to_vector() == V{double(x[0] < y[0]), double(x[1] < y[1])});
            CHECK((a <= b).to_vector() == V{double(x[0] <= y[0]), double(x[1] <= y[1])});
            CHECK((a > b).to_vector() == V{double(x[0] > y[0]), double(x[1] > y[1])});
            CHECK((a >= b).to_vector() == V{double(x[0] >= y[0]), double(x[1] >= y[1])});
            CHECK((a == b).to_vector() == V{double(x[0] == y[0]), double(x[1] == y[1])});
            CHECK((a != b).to_vector() == V{double(x[0] != y[0]), double(x[1] != y[1])});
        }
    }
    const dc::Tensor i = dc::int_tensor({1, 2, 3}, {3});
    const dc::Tensor f = dc::tensor({1.5, 2, 2.5}, {3});
    CHECK(dc::lt(i, f).to_vector() == V{1, 0, 0});
    CHECK(dc::eq(f, i).to_vector() == V{0, 1, 0});
    CHECK(dc::ge(i, f).to_vector() == V{0, 1, 1});
    CHECK(dc::eq(bools({1, 0, 1}), i).to_vector() == V{1, 0, 0});
    // int64 compares with int64 exactly, beyond 2⁵³ too
    const std::int64_t p = (std::int64_t{1} << 53) + 1;
    CHECK(dc::eq(dc::int_tensor({p}, {1}), dc::int_tensor({p - 1}, {1})).to_vector() == V{0});
}

TEST_CASE("comparisons with scalars", "[promotion]") {
    static_assert(std::is_same_v<decltype(dc::ones({1}) == dc::ones({1})), dc::Tensor>);
    const dc::Tensor i = dc::int_tensor({0, 1, 2}, {3});
    CHECK((i < 0.5).to_vector() == V{1, 0, 0});
    CHECK((i <= 0.5).to_vector() == V{1, 0, 0});
    CHECK((i > 0.5).to_vector() == V{0, 1, 1});
    CHECK((i >= 1.5).to_vector() == V{0, 0, 1});
    CHECK((i == 0.0).to_vector() == V{1, 0, 0});
    CHECK((i == 1.5).to_vector() == V{0, 0, 0});
    CHECK((i != 2).to_vector() == V{1, 1, 0});
    CHECK((i == 2).dtype() == dc::boolean);
    CHECK((2 == i).to_vector() == V{0, 0, 1});
    CHECK((0 != i).to_vector() == V{0, 1, 1});
    CHECK((1.0 == i).to_vector() == V{0, 1, 0});
    CHECK((1.0 != i).to_vector() == V{1, 0, 1});
    CHECK((i < 2).to_vector() == V{1, 1, 0});
    CHECK((i <= 1).to_vector() == V{1, 1, 0});
    CHECK((i > 0).to_vector() == V{0, 1, 1});
    CHECK((i >= 2u).to_vector() == V{0, 0, 1});
    CHECK((bools({1, 0}) == 1).to_vector() == V{1, 0});
    CHECK((bools({1, 0}) < 0.5).to_vector() == V{0, 1});
    const std::int64_t p = (std::int64_t{1} << 53) + 1;
    CHECK((dc::int_tensor({p}, {1}) == p).to_vector() == V{1});
    CHECK((dc::int_tensor({p}, {1}) != p - 1).to_vector() == V{1});
    // a double beside a float32 tensor is rounded to float32 first
    const dc::Tensor f = dc::tensor({0.1, -1.0}, {2});
    CHECK((f == 0.1).to_vector() == V{1, 0});
    CHECK((f != 0.1).to_vector() == V{0, 1});
    CHECK((f == 0).to_vector() == V{0, 0});
    CHECK((f < 0).to_vector() == V{0, 1});
    CHECK((dc::tensor({NAN}, {1}) != 0.0).to_vector() == V{1});
}

TEST_CASE("sum, max and min of int64 and bool tensors", "[promotion]") {
    const dc::Tensor i = dc::int_tensor({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(dc::sum(i).dtype() == dc::int64);
    CHECK(dc::sum(i).to_int_vector() == I{21});
    CHECK(dc::sum(i).shape() == dc::Shape{});
    CHECK(i.sum(0).to_int_vector() == I{5, 7, 9});
    CHECK(i.sum(1, true).shape() == dc::Shape{2, 1});
    CHECK(i.sum(1, true).to_int_vector() == I{6, 15});
    const dc::Tensor b = dc::tensor({1, 0, 1, 1, 0, 0}, {2, 3}, {.dtype = dc::boolean});
    CHECK(dc::sum(b).dtype() == dc::int64);
    CHECK(dc::sum(b).to_int_vector() == I{3});
    CHECK(b.sum(0).to_int_vector() == I{2, 0, 1});
    CHECK(dc::sum(dc::zeros({0}, {.dtype = dc::int64})).to_int_vector() == I{0});
    CHECK(dc::sum(dc::zeros({0}, {.dtype = dc::int64})).dtype() == dc::int64);
    CHECK(dc::zeros({0, 3}, {.dtype = dc::boolean}).sum(0).to_int_vector() == I{0, 0, 0});
    // exact beyond 2⁵³, and wrapping on overflow (rows, and columns)
    const std::int64_t p = (std::int64_t{1} << 53) + 1;
    CHECK(dc::sum(dc::int_tensor({p, 2}, {2})).to_int_vector() == I{p + 2});
    CHECK(dc::sum(dc::int_tensor({kMax, 1}, {2})).to_int_vector() == I{kMin});
    CHECK(dc::int_tensor({kMax, kMin, 1, -1}, {2, 2}).sum(0).to_int_vector() == I{kMin, kMax});
    CHECK(dc::sum(dc::int_tensor({kMin, kMin, 5}, {3})).to_int_vector() == I{5});

    CHECK(dc::max(dc::int_tensor({kMax - 1, kMax, 3}, {3})).to_int_vector() == I{kMax});
    CHECK(dc::min(dc::int_tensor({kMin + 1, kMin, 3}, {3})).to_int_vector() == I{kMin});
    CHECK(dc::max(i).dtype() == dc::int64);
    CHECK(i.max(0).to_int_vector() == I{4, 5, 6});
    CHECK(i.min(1, true).to_int_vector() == I{1, 4});
    CHECK(i.min(1, true).shape() == dc::Shape{2, 1});
    CHECK(dc::max(b).dtype() == dc::boolean);
    CHECK(b.max(1).to_vector() == V{1, 1});
    CHECK(b.min(0).to_vector() == V{1, 0, 0});
    CHECK(dc::min(bools({1, 1})).to_vector() == V{1});
    CHECK_THROWS_WITH(dc::max(dc::zeros({0}, {.dtype = dc::int64})), Contains("amax"));
    CHECK_FALSE(dc::sum(i).requires_grad());
    CHECK(dc::sum(i).grad_fn_name().empty());
}

TEST_CASE("mean, var, std and softmax refuse integer tensors", "[promotion]") {
    const dc::Tensor i = dc::int_tensor({1, 2, 3, 4}, {2, 2});
    // f() throws a DtypeError starting "op:" that names int64 and says how to convert
    const auto refused = [](const std::function<dc::Tensor()>& f, const std::string& op) {
        try {
            f();
        } catch (const dc::DtypeError& e) {
            const std::string m = e.what();
            INFO(m);
            return m.rfind(op + ":", 0) == 0 && m.find("int64") != std::string::npos &&
                   m.find(".to(float32)") != std::string::npos;
        }
        return false;
    };
    CHECK(refused([&] { return dc::mean(i); }, "mean"));
    CHECK(refused([&] { return i.mean(0); }, "mean"));
    CHECK(refused([&] { return dc::var(i); }, "var"));
    CHECK(refused([&] { return dc::std(i, 1); }, "std"));
    CHECK(refused([&] { return dc::std(i); }, "std"));
    CHECK(refused([&] { return dc::logsumexp(i, 0); }, "logsumexp"));
    CHECK(refused([&] { return dc::softmax(i, 0); }, "softmax"));
    CHECK(refused([&] { return dc::log_softmax(i, 1); }, "log_softmax"));
    CHECK_FALSE(refused([&] { return dc::sum(i); }, "sum"));
    CHECK_THROWS_WITH(dc::mean(bools({1, 0})), Contains("mean") && Contains("bool"));
    CHECK(dc::mean(i.to(dc::float32)).item() == 2.5);
}

TEST_CASE("where promotes a and b", "[promotion]") {
    const dc::Tensor m = bools({1, 0, 1});
    const dc::Tensor a = dc::int_tensor({kMax, 2, 3}, {3}), c = dc::int_tensor({-1}, {1});
    CHECK(dc::where(m, a, c).dtype() == dc::int64);
    CHECK(dc::where(m, a, c).to_int_vector() == I{kMax, -1, 3});
    CHECK(dc::where(m, bools({0, 0, 0}), bools({1})).dtype() == dc::boolean);
    CHECK(dc::where(m, bools({0, 0, 0}), bools({1})).to_vector() == V{0, 1, 0});
    CHECK(dc::where(m, bools({1, 1, 1}), a).to_int_vector() == I{1, 2, 1});
    const dc::Tensor f = dc::tensor({0.5, 1.5, 2.5}, {3}, {.dtype = dc::float64});
    CHECK(dc::where(m, a, f).dtype() == dc::float64);
    CHECK(dc::where(m, c, f).to_vector() == V{-1, 1.5, -1});
    CHECK_THROWS_WITH(dc::where(a, a, a), Contains("where") && Contains("mask"));
}

TEST_CASE("gradients reach the float operand of a mixed op", "[promotion]") {
    dc::Tensor x = dc::tensor({1.5, -2.0, 0.5}, {3}, {.requires_grad = true});
    const dc::Tensor y = dc::int_tensor({3, 4, -5}, {3});
    (x * y).sum().backward();
    CHECK(x.grad().dtype() == dc::float32);
    CHECK(x.grad().to_vector() == V{3, 4, -5});
    x.set_grad({});
    (y - x).sum().backward();
    CHECK(x.grad().to_vector() == V{-1, -1, -1});
    x.set_grad({});
    (x / y).sum().backward();
    CHECK(x.grad().to_vector() == V{1.0f / 3.0f, 1.0f / 4.0f, 1.0f / -5.0f});
    x.set_grad({});
    (y / x).sum().backward();  // −y/x²
    CHECK(x.grad().to_vector() == V{-3.0f / (1.5f * 1.5f), -4.0f / 4.0f, 5.0f / 0.25f});
    x.set_grad({});
    (x * bools({1, 0, 1})).sum().backward();
    CHECK(x.grad().to_vector() == V{1, 0, 1});
    x.set_grad({});
    dc::where(bools({1, 0, 1}), x, y).sum().backward();
    CHECK(x.grad().to_vector() == V{1, 0, 1});
    CHECK((x * y).grad_fn_name() == "mul");

    // broadcasting an int64 row against a float64 matrix, then the second derivative
    const dc::Tensor w =
        dc::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor g = dc::grad({(w * w * y).sum()}, {w}, {.create_graph = true})[0];
    CHECK(g.to_vector() == V{6, 16, -30, 24, 40, -60});  // 2·w·y
    const dc::Tensor h = dc::grad({g.sum()}, {w})[0];
    CHECK(h.to_vector() == V{6, 8, -10, 6, 8, -10});  // 2·y
}
