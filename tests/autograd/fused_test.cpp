// Fused ops (autograd/src/ops/fused.cpp) give the bits of the compositions they replace, in
// value and in every input's gradient; their gradients (twice) are swept by the op table.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <vector>

namespace dc = descent;
using Catch::Contains;

namespace {
struct Pair {
    dc::Tensor a, b;
};
Pair inputs(const dc::Shape& shape, dc::Dtype dtype, std::uint64_t seed) {
    dc::manual_seed(seed);
    return {dc::randn(shape, {.dtype = dtype, .requires_grad = true}),
            dc::randn(shape, {.dtype = dtype, .requires_grad = true})};
}
}  // namespace

TEST_CASE("squared_error: the bits of ((a - b) * (a - b)).mean() and .sum()", "[fused]") {
    for (const dc::Dtype dtype : {dc::float32, dc::float64}) {
        for (const dc::Shape& shape : {dc::Shape{8, 1}, dc::Shape{37, 5}, dc::Shape{}}) {
            for (const bool mean : {true, false}) {
                INFO(dc::dtype_name(dtype) << " " << dc::shape_str(shape) << " mean " << mean);
                Pair fused = inputs(shape, dtype, 11), composed = inputs(shape, dtype, 11);
                const dc::Tensor f = dc::squared_error(fused.a, fused.b, mean);
                const dc::Tensor d = composed.a - composed.b;
                const dc::Tensor c = mean ? (d * d).mean() : (d * d).sum();
                CHECK(f.shape() == dc::Shape{});
                CHECK(f.to_vector() == c.to_vector());
                (f * 3.0).backward();
                (c * 3.0).backward();
                CHECK(fused.a.grad().to_vector() == composed.a.grad().to_vector());
                CHECK(fused.b.grad().to_vector() == composed.b.grad().to_vector());
            }
        }
    }
}

TEST_CASE("squared_error: a gradient only where asked, an empty mean is NaN", "[fused]") {
    const dc::Tensor a = dc::ones({2, 2}, {.requires_grad = true});
    const dc::Tensor b = dc::zeros({2, 2});
    dc::squared_error(a, b, true).backward();
    CHECK(a.grad().to_vector() == std::vector<double>(4, 0.5));  // 2(a − b)/n
    CHECK_FALSE(b.grad().defined());
    const dc::Tensor empty = dc::zeros({0, 3});
    CHECK(std::isnan(dc::squared_error(empty, empty, true).item()));
    CHECK(dc::squared_error(empty, empty, false).item() == 0.0);
}

TEST_CASE("squared_error: shapes, dtypes and undefined inputs are errors naming it", "[fused]") {
    const dc::Tensor a = dc::zeros({2, 3});
    CHECK_THROWS_AS(dc::squared_error(a, dc::zeros({3, 2}), true), dc::ShapeError);
    CHECK_THROWS_WITH(dc::squared_error(a, dc::zeros({3, 2}), true),
                      Contains("squared_error") && Contains("[2,3]") && Contains("[3,2]"));
    CHECK_THROWS_AS(dc::squared_error(a, dc::zeros({2, 3}, {.dtype = dc::float64}), true),
                    dc::DtypeError);
    const dc::Tensor labels = dc::zeros({2, 3}, {.dtype = dc::int64});
    CHECK_THROWS_WITH(dc::squared_error(labels, labels, true), Contains("squared_error"));
    CHECK_THROWS_WITH(dc::squared_error(dc::Tensor{}, a, false), Contains("squared_error"));
}

namespace {
/// The composition softmax_cross_entropy replaces: −Σᵢ wᵢ·log_softmax(z)ᵢ,yᵢ / divisor.
dc::Tensor composed_cross_entropy(const dc::Tensor& z, const dc::Tensor& y, const dc::Tensor& w,
                                  double divisor) {
    const std::int64_t n = z.size(0);
    const dc::Tensor picked = dc::log_softmax(z, 1).gather(1, y.reshape({n, 1})).reshape({n});
    return -(picked * w).sum() / divisor;
}

double max_relative_difference(const dc::Tensor& a, const dc::Tensor& b) {
    const std::vector<double> x = a.to_vector(), y = b.to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
        worst = std::max(worst, std::abs(x[i] - y[i]) / std::max(1.0, std::abs(y[i])));
    return worst;
}
}  // namespace

TEST_CASE("softmax_cross_entropy: the value and gradient of the composition", "[fused]") {
    // The fused op sums in double and divides by the sum once, so it agrees with the
    // composition to rounding: float64 within 1e-13, float32 within 1e-5 (relative to max(1, |x|)).
    const dc::Tensor y = dc::int_tensor({3, 0, 9, 9, 1, 4, 7, 2}, {8});
    for (const dc::Dtype dtype : {dc::float32, dc::float64}) {
        const double tol = dtype == dc::float64 ? 1e-13 : 1e-5;
        const dc::Tensor w = dc::tensor({1, 1, 0, 1, 1, 1, 0, 1}, {8}, {.dtype = dtype});
        for (const double divisor : {6.0, 1.0}) {
            INFO(dc::dtype_name(dtype) << " divisor " << divisor);
            dc::manual_seed(5);
            dc::Tensor z1 = dc::randn({8, 10}, {.dtype = dtype}) * 3.0;
            dc::Tensor z2 = z1.clone();
            z1.requires_grad_();
            z2.requires_grad_();
            const dc::Tensor fused = dc::softmax_cross_entropy(z1, y, w, divisor);
            const dc::Tensor composed = composed_cross_entropy(z2, y, w, divisor);
            CHECK(max_relative_difference(fused, composed) <= tol);
            fused.backward();
            composed.backward();
            CHECK(max_relative_difference(z1.grad(), z2.grad()) <= tol);
        }
    }
}

TEST_CASE("softmax_cross_entropy: the gradient recorded for create_graph is the same", "[fused]") {
    // With create_graph the gradient is built from differentiable ops (softmax), without it one
    // loop writes it: both are ∂L/∂z.
    dc::manual_seed(6);
    const dc::Tensor z = dc::randn({5, 4}, {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor y = dc::int_tensor({0, 3, 1, 1, 2}, {5});
    const dc::Tensor w = dc::tensor({1, 1, 1, 0, 1}, {5}, {.dtype = dc::float64});
    const dc::Tensor plain = dc::grad({dc::softmax_cross_entropy(z, y, w, 4.0)}, {z})[0];
    const dc::Tensor recorded =
        dc::grad({dc::softmax_cross_entropy(z, y, w, 4.0)}, {z}, {.create_graph = true})[0];
    CHECK(recorded.requires_grad());
    CHECK(max_relative_difference(plain, recorded) <= 1e-15);
}

TEST_CASE("softmax_cross_entropy: bad targets, weights and shapes are errors naming it",
          "[fused]") {
    const dc::Tensor z = dc::zeros({2, 3});
    const dc::Tensor w = dc::ones({2});
    CHECK_THROWS_AS(dc::softmax_cross_entropy(z, dc::int_tensor({0, 3}, {2}), w, 1),
                    dc::IndexError);
    CHECK_THROWS_WITH(dc::softmax_cross_entropy(z, dc::int_tensor({-1, 0}, {2}), w, 1),
                      Contains("softmax_cross_entropy") && Contains("target -1"));
    CHECK_THROWS_AS(dc::softmax_cross_entropy(z, dc::zeros({2}), w, 1), dc::DtypeError);
    CHECK_THROWS_AS(dc::softmax_cross_entropy(z, dc::int_tensor({0}, {1}), w, 1), dc::ShapeError);
    CHECK_THROWS_AS(dc::softmax_cross_entropy(z, dc::int_tensor({0, 1}, {2}), dc::ones({3}), 1),
                    dc::ShapeError);
    CHECK_THROWS_AS(dc::softmax_cross_entropy(z, dc::int_tensor({0, 1}, {2}),
                                              dc::ones({2}, {.dtype = dc::float64}), 1),
                    dc::DtypeError);
    CHECK_THROWS_WITH(dc::softmax_cross_entropy(z, dc::int_tensor({0, 1}, {2}),
                                                dc::ones({2}, {.requires_grad = true}), 1),
                      Contains("weights must not require grad"));
    const dc::Tensor nan_row = dc::tensor({0, 0, 0, 1, NAN, 2}, {2, 3});
    CHECK(std::isnan(dc::softmax_cross_entropy(nan_row, dc::int_tensor({0, 1}, {2}), w, 1).item()));
}

TEST_CASE("relu's backward in one pass has the bits of g * [y > 0]", "[fused]") {
    // Without create_graph relu's gradient is one loop (packets of 4 or 8, then single
    // elements); it must equal the recorded product, NaN upstream gradients over masked
    // elements included (NaN · 0 = NaN).
    for (const dc::Dtype dtype : {dc::float32, dc::float64}) {
        INFO(dc::dtype_name(dtype));
        dc::manual_seed(8);
        std::vector<double> xs = dc::randn({6, 7}, {.dtype = dc::float64}).to_vector();
        xs[3] = NAN;  // relu passes NaN on, and its mask is 0 there (NaN > 0 is false)
        const dc::Tensor x = dc::tensor(xs, {6, 7}, {.dtype = dtype, .requires_grad = true});
        std::vector<double> g = dc::randn({6, 7}, {.dtype = dc::float64}).to_vector();
        for (std::size_t i = 0; i < xs.size(); ++i) {
            if (xs[i] < 0) {
                g[i] = NAN;  // one masked element with a NaN gradient
                break;
            }
        }
        const dc::Tensor upstream = dc::tensor(g, {6, 7}, {.dtype = dtype});
        const dc::Tensor y = dc::relu(x);
        const dc::Tensor fused = dc::grad({y}, {x}, {upstream})[0];
        const dc::Tensor recorded =
            dc::grad({dc::relu(x)}, {x}, {upstream}, {.create_graph = true})[0];
        const dc::Tensor composed = upstream * (y.detach() > 0.0).to(dtype);
        const std::vector<double> a = fused.to_vector(), b = recorded.to_vector(),
                                  c = composed.to_vector();
        int nans = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (std::isnan(c[i])) {
                ++nans;
                CHECK((std::isnan(a[i]) && std::isnan(b[i])));
            } else {
                CHECK(a[i] == c[i]);
                CHECK(b[i] == c[i]);
                CHECK(std::signbit(a[i]) == std::signbit(c[i]));  // g·0 keeps g's sign
            }
        }
        CHECK(nans == 1);
    }
}
