// Sample-keyed dropout (SampleKeys): a row's mask depends only on its key, the seed, the stream
// and the draw, so it is the same whichever batch, split or position the row is in; without a
// guard dropout draws from the thread's generator exactly as before.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <vector>

namespace dc = descent;
namespace nn = descent::nn;
namespace F = descent::nn::functional;
using Catch::Matchers::Contains;

namespace {
dc::Tensor keys(const std::vector<std::int64_t>& k) {
    return dc::int_tensor(k, {static_cast<std::int64_t>(k.size())});
}

/// Which elements dropout kept: 1 where y ≠ 0 (inputs are nonzero).
std::vector<double> kept(const dc::Tensor& y) {
    std::vector<double> out = y.to_vector();
    for (double& v : out) v = v != 0.0 ? 1.0 : 0.0;
    return out;
}

/// The documented draw, written out independently: SplitMix64's finaliser mix, the chain link
/// step(h, v) = mix(h + (v + 1)·γ), and u = ⌊step(H, j) / 2¹¹⌋·2⁻⁵³ with
/// H = step(step(step(step(0, seed), stream), key), call).
std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
}
std::uint64_t step(std::uint64_t h, std::uint64_t v) {
    return mix(h + (v + 1) * 0x9e3779b97f4a7c15);
}
double u(std::uint64_t seed, std::uint64_t stream, std::int64_t key, std::uint64_t call,
         std::uint64_t j) {
    const std::uint64_t h =
        step(step(step(step(0, seed), stream), static_cast<std::uint64_t>(key)), call);
    return static_cast<double>(step(h, j) >> 11) * 0x1.0p-53;
}

/// Six distinct rows of five, and their keys.
dc::Tensor input() {
    return dc::arange(1, 31, 1, {.dtype = dc::float64}).reshape({6, 5});
}
const std::vector<std::int64_t> kKeys = {10, 11, 12, 13, 14, 15};
}  // namespace

TEST_CASE("a row's dropout mask depends only on its key", "[dropout][keys]") {
    const dc::Tensor kX = input();
    dc::Tensor whole;
    {
        const descent::SampleKeys guard(keys(kKeys), 7, 3);
        whole = F::dropout(kX, 0.5, true);
    }
    const std::vector<double> mask = kept(whole);
    CHECK(std::count(mask.begin(), mask.end(), 0.0) > 0);  // something to compare
    CHECK(std::count(mask.begin(), mask.end(), 1.0) > 0);

    SECTION("the batch in two halves, as on two ranks") {
        dc::Tensor first, second;
        {
            const descent::SampleKeys guard(keys({10, 11, 12}), 7, 3);
            first = F::dropout(kX.slice(0, 0, 3), 0.5, true);
        }
        {
            const descent::SampleKeys guard(keys({13, 14, 15}), 7, 3);
            second = F::dropout(kX.slice(0, 3, 6), 0.5, true);
        }
        CHECK(dc::concat({first, second}).to_vector() == whole.to_vector());
    }
    SECTION("the rows permuted: the masks permuted") {
        const std::vector<std::int64_t> perm = {4, 0, 5, 2, 1, 3};
        std::vector<std::int64_t> permuted_keys;
        for (const auto i : perm) permuted_keys.push_back(kKeys[static_cast<std::size_t>(i)]);
        const dc::Tensor index = keys(perm);
        dc::Tensor y;
        {
            const descent::SampleKeys guard(keys(permuted_keys), 7, 3);
            y = F::dropout(kX.index_select(0, index), 0.5, true);
        }
        CHECK(y.to_vector() == whole.index_select(0, index).to_vector());
    }
    SECTION("the same key gives the same mask in any row") {
        dc::Tensor y;
        {
            const descent::SampleKeys guard(keys({12, 99, 12}), 7, 3);
            y = F::dropout(dc::ones({3, 5}, {.dtype = dc::float64}), 0.5, true);
        }
        CHECK(kept(y.slice(0, 0, 1)) == kept(y.slice(0, 2, 3)));
        CHECK(kept(y.slice(0, 0, 1)) == kept(whole.slice(0, 2, 3)));
    }
    SECTION("another stream or seed, other masks") {
        const auto mask_with = [&](std::uint64_t seed, std::uint64_t stream) {
            const descent::SampleKeys guard(keys(kKeys), seed, stream);
            return kept(F::dropout(kX, 0.5, true));
        };
        CHECK(mask_with(7, 3) == mask);  // deterministic
        CHECK(mask_with(7, 4) != mask);
        CHECK(mask_with(8, 3) != mask);
    }
    SECTION("float32 inputs drop what float64 ones do (the draws are compared in double)") {
        const descent::SampleKeys guard(keys(kKeys), 7, 3);
        CHECK(kept(F::dropout(kX.to(dc::float32), 0.5, true)) == mask);
    }
}

TEST_CASE("successive draws under one guard differ; each guard starts afresh", "[dropout][keys]") {
    const dc::Tensor kX = input();
    std::vector<double> first, second;
    {
        const descent::SampleKeys guard(keys(kKeys), 1, 2);
        first = kept(F::dropout(kX, 0.5, true));
        second = kept(F::dropout(kX, 0.5, true));
    }
    CHECK(first != second);  // two dropout layers do not share a mask
    nn::Dropout layer(0.5);  // the module draws the same way
    const descent::SampleKeys guard(keys(kKeys), 1, 2);
    CHECK(kept(layer.forward(kX)) == first);
    CHECK(kept(layer.forward(kX)) == second);
    CHECK(F::dropout(kX, 0.5, false).is_same(kX));  // eval: no draw
    CHECK(F::dropout(kX, 0.0, true).is_same(kX));
}

TEST_CASE("the draws follow the documented formula", "[dropout][keys]") {
    dc::Tensor rows = keys({42, -7});
    descent::SampleKeys guard(rows, 1, 2);
    rows.mutable_data<std::int64_t>()[0] = 0;  // the guard keeps its own copy of the keys
    for (std::uint64_t call = 0; call < 2; ++call) {
        const dc::Tensor draws = guard.uniform({2, 3}, dc::float64, "test");
        std::vector<double> expected;
        for (const std::int64_t key : {42, -7}) {
            for (std::uint64_t j = 0; j < 3; ++j) expected.push_back(u(1, 2, key, call, j));
        }
        CHECK(draws.to_vector() == expected);
        for (const double v : expected) CHECK((v >= 0.0 && v < 1.0));
    }
    CHECK(guard.uniform({2}, dc::float32, "test").dtype() == dc::float32);
    CHECK_THROWS_WITH(guard.uniform({0}, dc::float64, "test"),
                      Contains("test") && Contains("[0]") && Contains("2 keys"));
    descent::SampleKeys none(keys({}), 1, 2);
    CHECK(none.uniform({0, 4}, dc::float64, "test").shape() == dc::Shape{0, 4});
}

TEST_CASE("sample-keyed dropout keeps 1 − p of the units, scaled by 1/(1 − p)", "[dropout][keys]") {
    const double p = 0.3;
    const std::int64_t rows = 1000, cols = 100;
    const descent::SampleKeys guard(
        dc::arange(0, static_cast<double>(rows), 1, {.dtype = dc::int64}), 2024, 0);
    const dc::Tensor y = F::dropout(dc::ones({rows, cols}, {.dtype = dc::float64}), p, true);
    double survivors = 0;
    std::int64_t misscaled = 0;
    for (const double v : y.to_vector()) {
        if (v != 0.0) ++survivors;
        if (v != 0.0 && v != 1.0 / (1.0 - p)) ++misscaled;
    }
    CHECK(misscaled == 0);
    // 10⁵ Bernoulli(1 − p) draws: the kept fraction has standard deviation √(p(1 − p)/n) ≈
    // 0.00145; within 4 of them (a false alarm once in ~16 000 seeds)
    const double n = static_cast<double>(rows * cols);
    CHECK(std::abs(survivors / n - (1 - p)) <= 4 * std::sqrt(p * (1 - p) / n));
}

TEST_CASE("without a guard dropout draws from the thread's generator as before",
          "[dropout][keys]") {
    const dc::Tensor x = dc::ones({7, 3});
    const auto expected = [&] {
        dc::manual_seed(5);
        return (x * ((dc::rand(x.shape()) >= 0.3).to(dc::float32) * (1.0 / 0.7))).to_vector();
    }();
    CHECK(descent::SampleKeys::active() == nullptr);
    dc::manual_seed(5);
    CHECK(F::dropout(x, 0.3, true).to_vector() == expected);
    dc::manual_seed(5);
    {
        const descent::SampleKeys guard(keys({0, 1, 2, 3, 4, 5, 6}), 5, 0);
        const dc::Tensor keyed = F::dropout(x, 0.3, true);  // the thread's generator untouched
        CHECK(keyed.numel() == 21);
    }
    CHECK(F::dropout(x, 0.3, true).to_vector() == expected);
}

TEST_CASE("sample keys refuse rows that do not fit", "[dropout][keys]") {
    CHECK_THROWS_WITH(descent::SampleKeys(dc::Tensor{}, 0, 0),
                      Contains("SampleKeys") && Contains("undefined"));
    CHECK_THROWS_WITH(descent::SampleKeys(dc::ones({3}), 0, 0),
                      Contains("SampleKeys") && Contains("float32 [3]"));
    CHECK_THROWS_WITH(descent::SampleKeys(dc::int_tensor({0, 1, 2, 3}, {2, 2}), 0, 0),
                      Contains("SampleKeys") && Contains("int64 [2,2]"));
    CHECK(descent::SampleKeys::active() == nullptr);  // a failed guard is never active

    descent::SampleKeys guard(keys({1, 2, 3}), 0, 0);
    CHECK_THROWS_AS(F::dropout(dc::ones({4, 5}), 0.5, true), dc::ShapeError);
    CHECK_THROWS_WITH(F::dropout(dc::ones({4, 5}), 0.5, true),
                      Contains("dropout") && Contains("[4,5]") && Contains("3 keys"));
    CHECK_THROWS_AS(F::dropout(dc::ones(dc::Shape{}), 0.5, true), dc::ShapeError);
    CHECK_THROWS_WITH(F::dropout(dc::ones(dc::Shape{}), 0.5, true),
                      Contains("dropout") && Contains("0-dim"));
    CHECK_THROWS_AS(guard.uniform({3}, dc::int64, "test"), dc::DtypeError);
    // refused calls draw nothing: the next draw is the guard's first
    const dc::Tensor after = guard.uniform({3, 2}, dc::float64, "test");
    descent::SampleKeys fresh(keys({1, 2, 3}), 0, 0);
    CHECK(after.to_vector() == fresh.uniform({3, 2}, dc::float64, "test").to_vector());
}

TEST_CASE("the gradient flows through a keyed mask", "[dropout][keys]") {
    const double p = 0.25;
    const dc::Tensor x = dc::randn({4, 3}, {.dtype = dc::float64, .requires_grad = true});
    {
        const descent::SampleKeys guard(keys({3, 1, 4, 5}), 11, 6);
        F::dropout(x, p, true).sum().backward();
    }
    descent::SampleKeys guard(keys({3, 1, 4, 5}), 11, 6);
    const dc::Tensor mask =
        (guard.uniform({4, 3}, dc::float64, "test") >= p).to(dc::float64) * (1.0 / (1.0 - p));
    CHECK(x.grad().to_vector() == mask.to_vector());
}

TEST_CASE("guards nest", "[dropout][keys]") {
    const dc::Tensor kX = input();
    CHECK(descent::SampleKeys::active() == nullptr);
    std::vector<double> outer_first;
    {
        const descent::SampleKeys outer(keys(kKeys), 3, 3);
        outer_first = kept(F::dropout(kX, 0.5, true));
    }
    {
        const descent::SampleKeys outer(keys(kKeys), 3, 3);
        CHECK(descent::SampleKeys::active() == &outer);
        {
            const descent::SampleKeys inner(keys({0, 1}), 3, 3);
            CHECK(descent::SampleKeys::active() == &inner);
            CHECK_NOTHROW(F::dropout(dc::ones({2, 4}), 0.5, true));  // the inner guard's rows
        }
        CHECK(descent::SampleKeys::active() == &outer);
        CHECK(kept(F::dropout(kX, 0.5, true)) == outer_first);  // the inner draw was its own
    }
    CHECK(descent::SampleKeys::active() == nullptr);
}
