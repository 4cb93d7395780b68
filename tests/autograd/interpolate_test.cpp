// interpolate: torch's values on hand-checked inputs (every expectation below is what
// torch.nn.functional.interpolate returns for the same call), its output sizes, and every bad
// argument refused naming the op. Gradients of every order are certified by the op table's sweep
// and the torch fixtures (fixtures_test.cpp).

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <limits>

namespace dc = descent;
using V = std::vector<double>;
using Catch::Matchers::Contains;
using Mode = dc::InterpolateMode;

namespace {
dc::Tensor t(V v, dc::Shape s) {
    return dc::tensor(v, s, {.dtype = dc::float64});
}
dc::Tensor arange(std::int64_t n, dc::Shape s) {
    V v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<double>(i);
    return t(v, s);
}
/// Every element of a equals b's within 1e-12 (linear weights are rounded products).
void check_close(const dc::Tensor& a, const V& b) {
    const V values = a.to_vector();
    REQUIRE(values.size() == b.size());
    for (std::size_t i = 0; i < b.size(); ++i) CHECK(values[i] == Approx(b[i]).margin(1e-12));
}
}  // namespace

TEST_CASE("interpolate: nearest reads floor(j * scale) with torch's scale", "[interpolate]") {
    const dc::Tensor x = arange(5, {1, 1, 5});
    // size 8: scale 5/8; scale_factor 1.7 (also 8 outputs): scale 1/1.7, so j = 5 reads 2, not 3
    CHECK(dc::interpolate(x, {.size = 8}).to_vector() == V{0, 0, 1, 1, 2, 3, 3, 4});
    CHECK(dc::interpolate(x, {.scale_factor = {1.7}}).to_vector() == V{0, 0, 1, 1, 2, 2, 3, 4});
    CHECK(dc::interpolate(x, {.size = 3}).to_vector() == V{0, 1, 3});
    // 7 · 0.7 = 4.9 truncates to 4 outputs at scale 1/0.7
    CHECK(dc::interpolate(arange(7, {1, 1, 7}), {.scale_factor = {0.7}}).to_vector() ==
          V{0, 1, 2, 4});
    // per-dim factors on [2, 3]: rows 2 → 3 (0, 0, 1), columns 3 → 2 (0, 1)
    const dc::Tensor y = dc::interpolate(arange(6, {1, 1, 2, 3}), {.scale_factor = {1.5, 0.7}});
    CHECK(y.shape() == dc::Shape{1, 1, 3, 2});
    CHECK(y.to_vector() == V{0, 1, 0, 1, 3, 4});
}

TEST_CASE("interpolate: bilinear and linear, with and without align_corners", "[interpolate]") {
    const dc::Tensor x = t({1, 2, 3, 4}, {1, 1, 2, 2});
    check_close(dc::interpolate(x, {.size = 4, .mode = Mode::bilinear}),
                {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
    check_close(dc::interpolate(x, {.size = 3, .mode = Mode::bilinear, .align_corners = true}),
                {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
    const dc::Tensor y = t({0, 4, 8, 12}, {1, 1, 4});
    // halving: sources 0.5 and 2.5
    check_close(dc::interpolate(y, {.scale_factor = {0.5}, .mode = Mode::linear}), {2, 10});
    check_close(dc::interpolate(y, {.size = 3, .mode = Mode::linear, .align_corners = true}),
                {0, 6, 12});
    // 1.5: sources max((j + ½)/1.5 − ½, 0) = 0, ½, 7/6, 11/6, 5/2, 19/6 (the last one clamps
    // its right neighbour to the edge)
    check_close(dc::interpolate(y, {.scale_factor = {1.5}, .mode = Mode::linear}),
                {0, 2, 14.0 / 3, 22.0 / 3, 10, 12});
    // one output with align_corners reads the first element
    check_close(dc::interpolate(y, {.size = 1, .mode = Mode::linear, .align_corners = true}), {0});
}

TEST_CASE("interpolate: the gradient sums what each input element fed", "[interpolate]") {
    const dc::Tensor x = t({1, 2, 3}, {1, 1, 3}).requires_grad_(true);
    dc::interpolate(x, {.size = 7}).sum().backward();  // reads 0, 0, 0, 1, 1, 2, 2
    CHECK(x.grad().to_vector() == V{3, 2, 2});
    const dc::Tensor z = t({1, 2}, {1, 1, 2}).requires_grad_(true);
    // align_corners to 3: weights (1, 0), (½, ½), (0, 1)
    dc::interpolate(z, {.size = 3, .mode = Mode::linear, .align_corners = true}).sum().backward();
    check_close(z.grad(), {1.5, 1.5});
}

TEST_CASE("interpolate: bad arguments are Errors naming the op", "[interpolate][errors]") {
    const dc::Tensor x = arange(6, {1, 1, 2, 3});
    const dc::Tensor line = arange(4, {1, 1, 4});
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    auto refused = [](const dc::Tensor& in, const dc::InterpolateOptions& options,
                      const std::string& what) {
        CHECK_THROWS_WITH(dc::interpolate(in, options), Contains("interpolate") && Contains(what));
    };
    refused(x, {}, "neither");
    refused(x, {.size = 2, .scale_factor = {2.0}}, "both");
    refused(x, {.size = 0}, "size must be");
    refused(x, {.size = {2, -3}}, "size must be");
    refused(x, {.size = std::int64_t{1} << 40}, "size must be");
    refused(x, {.size = {1, 2, 3}}, "size needs 1 or 2");
    refused(x, {.scale_factor = {1.0, 2.0, 3.0}}, "scale_factor needs 1 or 2");
    for (const double bad : {nan, inf, -inf, -2.0, 0.0, 1e-9, 1e300}) {
        refused(x, {.scale_factor = {bad}}, "scale_factor");
    }
    refused(x, {.size = 2, .mode = Mode::linear}, "mode linear needs a 3-D");
    refused(line, {.size = 2, .mode = Mode::bilinear}, "mode bilinear needs a 4-D");
    refused(x, {.size = 2, .align_corners = false}, "align_corners");
    refused(arange(4, {2, 2}), {.size = 2}, "3-D [N, C, L] or 4-D");
    refused(arange(16, {1, 1, 2, 2, 4}), {.size = 2}, "3-D [N, C, L] or 4-D");
    refused(dc::Tensor{}, {.size = 2}, "undefined");
    refused(dc::int_tensor({1, 2}, {1, 1, 2}), {.size = 2}, "float");
    refused(dc::zeros({1, 1, 0}, {.dtype = dc::float64}), {.size = 2}, "must not be empty");
    // sizes each accepted, but an output larger than memory
    CHECK_THROWS_AS(dc::interpolate(x, {.size = {(1 << 30), (1 << 30)}}), dc::ShapeError);
}
