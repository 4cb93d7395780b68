// Bad input gets a descent::Error whose message names the op and the shapes or dtypes.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>

namespace dc = descent;
using Catch::Contains;

TEST_CASE("broadcast mismatch names the op and both shapes", "[errors]") {
    const dc::Tensor a = dc::ones({2, 3}), b = dc::ones({4});
    CHECK_THROWS_AS(a + b, dc::ShapeError);
    CHECK_THROWS_WITH(a + b, Contains("add") && Contains("[2,3]") && Contains("[4]"));
    CHECK_THROWS_WITH(dc::maximum(a, b), Contains("maximum") && Contains("[2,3]"));
    CHECK_THROWS_WITH(a.expand({5, 3}), Contains("expand") && Contains("[5,3]"));
}

TEST_CASE("matmul inner dimensions", "[errors]") {
    CHECK_THROWS_AS(dc::matmul(dc::ones({3, 4}), dc::ones({5, 6})), dc::ShapeError);
    CHECK_THROWS_WITH(dc::matmul(dc::ones({3, 4}), dc::ones({5, 6})),
                      "matmul: cannot multiply [3,4] by [5,6]");
    CHECK_THROWS_WITH(dc::matmul(dc::ones({3}), dc::ones({4})), Contains("[3] by [4]"));
    CHECK_THROWS_WITH(dc::matmul(dc::ones({}), dc::ones({4})), Contains("matmul"));
    CHECK_THROWS_WITH(dc::matmul(dc::ones({2, 2, 3}), dc::ones({3, 3, 2})),
                      Contains("matmul") && Contains("[2]") && Contains("[3]"));
    CHECK_THROWS_WITH(dc::linear(dc::ones({2, 3}), dc::ones({4, 5})),
                      Contains("linear") && Contains("[2,3]") && Contains("[4,5]"));
}

TEST_CASE("reshape element count", "[errors]") {
    CHECK_THROWS_AS(dc::ones({2, 3}).reshape({4, 2}), dc::ShapeError);
    CHECK_THROWS_WITH(dc::ones({2, 3}).reshape({4, 2}), Contains("reshape") && Contains("[2,3]") &&
                                                            Contains("6") && Contains("[4,2]"));
    CHECK_THROWS_WITH(dc::ones({2, 3}).reshape({-1, 4}), Contains("[-1,4]"));
    CHECK_THROWS_WITH(dc::ones({2, 3}).reshape({-1, -1}), Contains("reshape"));
}

TEST_CASE("slice and index out of range", "[errors]") {
    const dc::Tensor x = dc::ones({3, 5});
    CHECK_THROWS_AS(x.slice(1, 2, 7), dc::IndexError);
    CHECK_THROWS_WITH(x.slice(1, 2, 7),
                      Contains("slice") && Contains("size 5") && Contains("[3,5]"));
    CHECK_THROWS_WITH(x.slice(1, 0, 2, 0), Contains("slice"));
    CHECK_THROWS_WITH(x.slice(2, 0, 1), Contains("slice") && Contains("dim 2"));
    CHECK_THROWS_AS(x.index_select(0, dc::int_tensor({0, 3}, {2})), dc::IndexError);
    CHECK_THROWS_WITH(x.index_select(0, dc::int_tensor({0, 3}, {2})),
                      Contains("index_select") && Contains("index 3") && Contains("[3,5]"));
    CHECK_THROWS_WITH(x.gather(1, dc::int_tensor({5}, {1, 1})),
                      Contains("gather") && Contains("index 5"));
    CHECK_THROWS_WITH(x.gather(1, dc::int_tensor({0}, {1})), Contains("gather") && Contains("[1]"));
    CHECK_THROWS_WITH(x.index_select(0, dc::ones({2})),
                      Contains("index_select") && Contains("int64"));
    CHECK_THROWS_WITH(x.at({3, 0}), Contains("at") && Contains("index 3"));
    CHECK_THROWS_WITH(x.sum({2}), Contains("sum") && Contains("dim 2"));
}

TEST_CASE("joining tensors of mismatched shapes", "[errors]") {
    CHECK_THROWS_WITH(dc::concat({dc::ones({2, 3}), dc::ones({2, 4})}, 0),
                      Contains("concat") && Contains("[2,4]") && Contains("[2,3]"));
    CHECK_THROWS_WITH(dc::stack({dc::ones({3}), dc::ones({4})}),
                      Contains("stack") && Contains("[3]") && Contains("[4]"));
    CHECK_THROWS_WITH(dc::split(dc::ones({5}), {2, 2}), Contains("split") && Contains("5"));
}

TEST_CASE("mixed dtypes are an error, not a silent promotion", "[errors]") {
    const dc::Tensor f = dc::ones({2}), d = dc::ones({2}, {.dtype = dc::float64});
    CHECK_THROWS_AS(f + d, dc::DtypeError);
    CHECK_THROWS_WITH(f * d, Contains("mul") && Contains("float32") && Contains("float64"));
    CHECK_THROWS_WITH(dc::matmul(dc::ones({2, 2}), dc::ones({2, 2}, {.dtype = dc::float64})),
                      Contains("matmul") && Contains("float64"));
    CHECK_THROWS_WITH(dc::exp(dc::int_tensor({1}, {1})), Contains("exp") && Contains("int64"));
    CHECK_NOTHROW(f + d.to(dc::float32));
}

TEST_CASE("tape errors", "[errors]") {
    dc::Tensor x = dc::ones({2, 2}, {.requires_grad = true});
    CHECK_THROWS_AS((x * 2.0).backward(), dc::AutogradError);
    CHECK_THROWS_WITH((x * 2.0).backward(), Contains("[2,2]"));
    const dc::Tensor y = dc::tanh(x).sum();
    y.backward();
    CHECK_THROWS_AS(y.backward(), dc::AutogradError);
    CHECK_THROWS_WITH(y.backward(), Contains("tanh") && Contains("second time"));
    CHECK_THROWS_AS(dc::int_tensor({1, 2}, {2}).requires_grad_(), dc::DtypeError);
    CHECK_THROWS_WITH(dc::grad({y}, {dc::ones({1})}), Contains("grad") && Contains("input 0"));
}

TEST_CASE("every error is a descent::Error", "[errors]") {
    CHECK_THROWS_AS(dc::ones({2}) + dc::ones({3}), dc::Error);
    CHECK_THROWS_AS(dc::ones({2}).item(), dc::Error);
    CHECK_THROWS_AS(dc::Tensor().shape(), dc::Error);
    CHECK_THROWS_AS(dc::randint(3, 3, {2}), dc::Error);
    CHECK_THROWS_AS(dc::zeros({-1}), dc::Error);
    CHECK_THROWS_AS(dc::tensor({1.0, 2.0}, {3}), dc::Error);
    CHECK_THROWS_AS(dc::max(dc::ones({0})), dc::Error);
    CHECK_THROWS_AS(dc::permute(dc::ones({2, 3}), {0, 0}), dc::Error);
}
