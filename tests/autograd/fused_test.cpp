// Fused ops (autograd/src/ops/fused.cpp) give the bits of the compositions they replace, in
// value and in every input's gradient; their gradients (twice) are swept by the op table.

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
