// multinomial: reproducible under manual_seed, frequencies within 4 standard deviations of
// their expectations (a fixed seed makes each check deterministic; a correct sampler passes one
// with probability about 1 − 6·10⁻⁵), distinct draws without replacement, zero weights never
// drawn, and every bad argument refused naming the op.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <limits>
#include <set>

namespace dc = descent;
using V = std::vector<double>;
using Catch::Matchers::Contains;

namespace {
dc::Tensor t(V v, dc::Shape s) {
    return dc::tensor(v, s, {.dtype = dc::float64});
}
std::vector<std::int64_t> ints(const dc::Tensor& x) {
    std::vector<std::int64_t> out;
    for (const double v : x.to_vector()) out.push_back(static_cast<std::int64_t>(v));
    return out;
}
/// count is within 4 standard deviations of a binomial(n, p) draw's mean n·p.
void check_binomial(std::int64_t count, std::int64_t n, double p) {
    const double mean = static_cast<double>(n) * p;
    const double sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
    CHECK(std::abs(static_cast<double>(count) - mean) <= 4 * sd);
}
}  // namespace

TEST_CASE("multinomial: manual_seed reproduces the draws", "[multinomial]") {
    const dc::Tensor p = t({1, 2, 3, 4}, {4});
    dc::manual_seed(7);
    const auto a = ints(dc::multinomial(p, 20, true));
    const auto b = ints(dc::multinomial(p, 4));
    dc::manual_seed(7);
    CHECK(ints(dc::multinomial(p, 20, true)) == a);
    CHECK(ints(dc::multinomial(p, 4)) == b);
    dc::manual_seed(8);  // another seed: the chance that all 20 draws agree is below 0.4²⁰
    CHECK(ints(dc::multinomial(p, 20, true)) != a);
}

TEST_CASE("multinomial: shapes, dtype and weights that need not sum to one", "[multinomial]") {
    const dc::Tensor one = dc::multinomial(t({0.5, 0.5}, {2}), 3, true);
    CHECK(one.shape() == dc::Shape{3});
    CHECK(one.dtype() == dc::Dtype::int64);
    const dc::Tensor rows =
        dc::multinomial(dc::tensor({1, 0, 0, 0, 0, 5}, {2, 3}, {.dtype = dc::float32}), 4, true);
    CHECK(rows.shape() == dc::Shape{2, 4});
    // each row has one positive weight, so every draw is that category
    CHECK(ints(rows) == std::vector<std::int64_t>{0, 0, 0, 0, 2, 2, 2, 2});
    // weights near the largest double: their sum would overflow, the draws still split
    dc::manual_seed(3);
    const auto huge = ints(dc::multinomial(t({1e308, 1e308}, {2}), 200, true));
    const std::set<std::int64_t> seen(huge.begin(), huge.end());
    CHECK(seen == std::set<std::int64_t>{0, 1});
}

TEST_CASE("multinomial: frequencies with replacement follow the weights", "[multinomial]") {
    dc::manual_seed(11);
    const V w{1, 0, 2, 3, 0, 4};  // total 10
    const std::int64_t n = 40000;
    std::vector<std::int64_t> counts(w.size(), 0);
    for (const auto i : ints(dc::multinomial(t(w, {6}), n, true)))
        ++counts[static_cast<std::size_t>(i)];
    CHECK(counts[1] == 0);  // zero weights are never drawn
    CHECK(counts[4] == 0);
    for (std::size_t i = 0; i < w.size(); ++i) check_binomial(counts[i], n, w[i] / 10);
}

TEST_CASE("multinomial: without replacement, distinct draws in successive-draw order",
          "[multinomial]") {
    dc::manual_seed(5);
    const std::int64_t rows = 20000;
    const V w{1, 2, 3, 4};  // p = w / 10
    V many;
    for (std::int64_t r = 0; r < rows; ++r) many.insert(many.end(), w.begin(), w.end());
    const auto draws = ints(dc::multinomial(t(many, {rows, 4}), 2));
    std::vector<std::int64_t> first(4, 0), second(4, 0);
    for (std::int64_t r = 0; r < rows; ++r) {
        const auto a = draws[static_cast<std::size_t>(2 * r)];
        const auto b = draws[static_cast<std::size_t>(2 * r + 1)];
        REQUIRE(a != b);
        ++first[static_cast<std::size_t>(a)];
        ++second[static_cast<std::size_t>(b)];
    }
    for (std::size_t i = 0; i < 4; ++i) {
        check_binomial(first[i], rows, w[i] / 10);
        // P(second = i) = Σ_{j ≠ i} p_j · p_i / (1 − p_j)
        double p_second = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            if (j != i) p_second += (w[j] / 10) * (w[i] / 10) / (1 - w[j] / 10);
        }
        check_binomial(second[i], rows, p_second);
    }
    // all of a row's positive-weight categories: a permutation of them, zero weights left out
    const auto all = ints(dc::multinomial(t({2, 0, 1, 5, 0, 3, 0, 0, 1, 1, 1, 1}, {2, 6}), 4));
    CHECK(std::set<std::int64_t>(all.begin(), all.begin() + 4) ==
          std::set<std::int64_t>{0, 2, 3, 5});
    CHECK(std::set<std::int64_t>(all.begin() + 4, all.end()) == std::set<std::int64_t>{2, 3, 4, 5});
}

TEST_CASE("multinomial: bad arguments are Errors naming the op", "[multinomial][errors]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const dc::Tensor p = t({1, 2, 3}, {3});
    auto refused = [](const dc::Tensor& probs, std::int64_t n, bool replacement,
                      const std::string& what) {
        CHECK_THROWS_WITH(dc::multinomial(probs, n, replacement),
                          Contains("multinomial") && Contains(what));
    };
    for (const double bad : {-1.0, nan, inf, -inf}) {
        refused(t({1, bad, 2}, {3}), 1, true, "finite and non-negative");
    }
    refused(t({1, 2, 0, 0}, {2, 2}), 1, true, "row 1 has no positive weight");
    refused(p, 0, true, "num_samples must be positive");
    refused(p, -5, false, "num_samples must be positive");
    refused(p, 4, false, "cannot draw 4 samples from 3 categories");
    refused(t({1, 0, 2}, {3}), 3, false, "2 positive weights");
    refused(t({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}), 1, true, "1-D [K] or 2-D");
    refused(t({1}, {}), 1, true, "1-D [K] or 2-D");
    refused(dc::int_tensor({1, 2}, {2}), 1, true, "float32 or float64");
    refused(dc::Tensor{}, 1, true, "undefined");
    // with replacement any count is allowed, but not one beyond memory
    CHECK_THROWS_AS(dc::multinomial(p, std::int64_t{1} << 62, true), dc::ShapeError);
}
