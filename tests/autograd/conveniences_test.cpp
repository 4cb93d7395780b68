// Small conveniences a PyTorch user reaches for: one reduction dim without braces, shapes in
// fmt.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/format.hpp>

namespace dc = descent;

TEST_CASE("reductions over one dim without braces", "[ops]") {
    const dc::Tensor x = dc::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = dc::float64});
    CHECK(x.sum(1).to_vector() == std::vector<double>{6, 15});
    CHECK(x.sum(0, true).shape() == dc::Shape{1, 3});
    CHECK(x.mean(-1).to_vector() == std::vector<double>{2, 5});
    CHECK(x.max(0).to_vector() == std::vector<double>{4, 5, 6});
    CHECK(x.min(1).to_vector() == std::vector<double>{1, 4});
    CHECK(x.var(1).to_vector() == std::vector<double>{1, 1});
    CHECK(x.std(1, false).to_vector()[0] == Approx(std::sqrt(2.0 / 3.0)));
    CHECK(x.logsumexp(1).to_vector()[0] ==
          Approx(std::log(std::exp(1) + std::exp(2) + std::exp(3))));
    CHECK(dc::sum(x, 1).to_vector() == std::vector<double>{6, 15});
    CHECK(dc::mean(x, 0, true).shape() == dc::Shape{1, 3});
    // braces keep their meaning: {} reduces nothing, {0} is dim 0
    CHECK(x.sum({}).shape() == dc::Shape{2, 3});
    CHECK(x.sum({0}).to_vector() == std::vector<double>{5, 7, 9});
    CHECK_THROWS_AS(x.sum(2), dc::IndexError);
}

TEST_CASE("shapes format with fmt", "[ops]") {
    CHECK(fmt::format("{}", dc::ones({3, 4}).shape()) == "[3, 4]");
    CHECK(fmt::format("{}", dc::Shape{}) == "[]");
}
