// Convolution, pooling, padding and unfold/fold: exact values on hand-checked inputs, torch's
// output sizes and tie rules, and every bad argument refused naming the op. Gradients are
// certified by the op table's sweep and the torch fixtures (fixtures_test.cpp).

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <limits>

#include "restore_thread_settings.hpp"

namespace dc = descent;
using V = std::vector<double>;
using Catch::Matchers::Contains;

namespace {
dc::Tensor t(V v, dc::Shape s) {
    return dc::tensor(v, s, {.dtype = dc::float64});
}
dc::Tensor arange(std::int64_t n, dc::Shape s) {
    V v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<double>(i);
    return t(v, s);
}
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
}  // namespace

TEST_CASE("spatial: conv2d is a cross-correlation with torch's layouts", "[spatial]") {
    const dc::Tensor x = arange(9, {1, 1, 3, 3});  // 0..8
    const dc::Tensor w = t({1, 0, 0, -1}, {1, 1, 2, 2});
    // y[i][j] = x[i][j] − x[i+1][j+1] = −4 everywhere
    CHECK(dc::conv2d(x, w).to_vector() == V{-4, -4, -4, -4});
    CHECK(dc::conv2d(x, w).shape() == dc::Shape{1, 1, 2, 2});
    // padding 1 with zeros: the corners see one element each
    const dc::Tensor padded = dc::conv2d(x, w, t({10}, {1}), {.padding = 1});
    CHECK(padded.shape() == dc::Shape{1, 1, 4, 4});
    CHECK(padded.at({0, 0, 0, 0}) == 10.0 - 0.0);  // only −x[0][0] inside
    CHECK(padded.at({0, 0, 3, 3}) == 10.0 + 8.0);  // only x[2][2] inside
    // stride 2 over a 3 x 3 input with padding 1: windows at −1 and 1
    CHECK(dc::conv2d(x, w, {}, {.stride = 2, .padding = 1}).shape() == dc::Shape{1, 1, 2, 2});
}

TEST_CASE("spatial: groups keep channels apart", "[spatial]") {
    // two channels, depthwise: each output channel sees only its own input channel
    const dc::Tensor x = t({1, 2, 3, 10, 20, 30}, {1, 2, 3});
    const dc::Tensor w = t({1, 1, 1, -1}, {2, 1, 2});
    CHECK(dc::conv1d(x, w, {}, {.groups = 2}).to_vector() == V{3, 5, -10, -10});
}

TEST_CASE("spatial: padding same keeps the extent, the odd one at the end", "[spatial]") {
    const dc::Tensor x = arange(5, {1, 1, 5});  // 0..4
    const dc::Tensor w = t({1, 1}, {1, 1, 2});  // even kernel: pads 0 before, 1 after
    CHECK(dc::conv1d(x, w, {}, {.padding = "same"}).to_vector() == V{1, 3, 5, 7, 4});
    CHECK(dc::conv1d(x, w, {}, {.padding = "valid"}).to_vector() == V{1, 3, 5, 7});
    CHECK_THROWS_WITH(dc::conv1d(x, w, {}, {.stride = 2, .padding = "same"}),
                      Contains("conv1d") && Contains("stride 1"));
    CHECK_THROWS_WITH(dc::conv1d(x, w, {}, {.padding = "full"}), Contains("\"full\""));
}

TEST_CASE("spatial: conv_transpose is the adjoint of conv", "[spatial]") {
    // ⟨conv(x), y⟩ = ⟨x, conv_transpose(y)⟩ for the same weight and options
    dc::manual_seed(5);
    const dc::Tensor x = dc::randn({2, 4, 8, 6}, {.dtype = dc::float64});
    const dc::Tensor w = dc::randn({6, 2, 3, 2}, {.dtype = dc::float64});
    const dc::ConvOptions o{.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 2}, .groups = 2};
    const dc::Tensor y = dc::conv2d(x, w, {}, o);
    const dc::Tensor u = dc::randn(y.shape(), {.dtype = dc::float64});
    const dc::Tensor back = dc::conv_transpose2d(u, w, {},
                                                 {.stride = {2, 1},
                                                  .padding = {1, 0},
                                                  .output_padding = {1, 0},
                                                  .groups = 2,
                                                  .dilation = {1, 2}});
    REQUIRE(back.shape() == x.shape());  // 7 and 8 rows give 4 windows: output_padding picks 8
    // both sides sum the same products in different orders: float64 rounding only
    CHECK((y * u).sum().item() == Approx((x * back).sum().item()).epsilon(1e-12));
}

TEST_CASE("spatial: max pooling gives the gradient to the first largest, as torch", "[spatial]") {
    const dc::Tensor x = t({1, 3, 3, 2}, {1, 1, 4}).requires_grad_();
    const dc::Tensor y = dc::max_pool1d(x, 2, {.stride = 1});  // windows (1,3) (3,3) (3,2)
    CHECK(y.to_vector() == V{3, 3, 3});
    y.sum().backward();
    CHECK(x.grad().to_vector() == V{0, 2, 1, 0});  // the tie (3,3) goes to its first
    // NaN is the largest
    const double nan = std::nan("");
    CHECK(std::isnan(dc::max_pool1d(t({1, nan, 2, 0}, {1, 1, 4}), 2).to_vector()[0]));
    // padding is −inf, never the maximum
    CHECK(dc::max_pool1d(t({-5, -6, -7}, {1, 1, 3}), 2, {.padding = 1}).to_vector() == V{-5, -6});
}

TEST_CASE("spatial: pooling output sizes follow torch, ceil_mode included", "[spatial]") {
    const dc::Tensor x = dc::zeros({1, 1, 6, 7}, {.dtype = dc::float64});
    CHECK(dc::max_pool2d(x, 2).shape() == dc::Shape{1, 1, 3, 3});
    CHECK(dc::max_pool2d(x, 2, {.ceil_mode = true}).shape() == dc::Shape{1, 1, 3, 4});
    CHECK(dc::max_pool2d(x, 3, {.stride = 2, .padding = 1, .ceil_mode = true}).shape() ==
          dc::Shape{1, 1, 4, 4});
    // ceil mode never starts a window in the end padding: 5 with kernel 2, stride 2, pad 1
    CHECK(dc::avg_pool1d(dc::zeros({1, 1, 5}), 2, {.padding = 1, .ceil_mode = true}).shape() ==
          dc::Shape{1, 1, 3});
    CHECK(dc::max_pool2d(x, 2, {.stride = 1, .dilation = 2}).shape() == dc::Shape{1, 1, 4, 5});
}

TEST_CASE("spatial: average pooling divides as torch does", "[spatial]") {
    const dc::Tensor x = t({1, 2, 3, 4, 5}, {1, 1, 5});
    // padding counted: the first window (pad, 1) averages to 0.5
    CHECK(dc::avg_pool1d(x, 2, {.padding = 1}).to_vector() == V{0.5, 2.5, 4.5});
    CHECK(dc::avg_pool1d(x, 2, {.padding = 1, .count_include_pad = false}).to_vector() ==
          V{1, 2.5, 4.5});
    // a partial last window (ceil mode) divides by what lies inside the padded input
    CHECK(dc::avg_pool1d(x, 2, {.ceil_mode = true}).to_vector() == V{1.5, 3.5, 5});
    CHECK(dc::avg_pool2d(t({1, 2, 3, 4}, {1, 1, 2, 2}), 2, {.divisor_override = 2}).item() == 5);
}

TEST_CASE("spatial: adaptive pooling windows overlap as torch's", "[spatial]") {
    const dc::Tensor x = t({1, 2, 3, 4, 5}, {1, 1, 5});
    // 5 → 3: windows [0,2) [1,4) [3,5)
    CHECK(dc::adaptive_avg_pool1d(x, 3).to_vector() == V{1.5, 3, 4.5});
    CHECK(dc::adaptive_max_pool1d(x, 3).to_vector() == V{2, 4, 5});
    // 1 is global pooling; larger than the input repeats elements
    CHECK(dc::adaptive_avg_pool2d(arange(12, {1, 1, 3, 4}), 1).item() == 5.5);
    CHECK(dc::adaptive_max_pool1d(x, 7).to_vector() == V{1, 2, 3, 3, 4, 5, 5});
}

TEST_CASE("spatial: pad modes", "[spatial]") {
    const dc::Tensor x = t({1, 2, 3}, {3});
    CHECK(dc::pad(x, {2, 1}).to_vector() == V{0, 0, 1, 2, 3, 0});
    CHECK(dc::pad(x, {1, -2}, dc::PadMode::constant, 9).to_vector() == V{9, 1});
    CHECK(dc::pad(x, {2, 2}, dc::PadMode::reflect).to_vector() == V{3, 2, 1, 2, 3, 2, 1});
    CHECK(dc::pad(x, {2, 3}, dc::PadMode::replicate).to_vector() == V{1, 1, 1, 2, 3, 3, 3, 3});
    CHECK(dc::pad(x, {3, 2}, dc::PadMode::circular).to_vector() == V{1, 2, 3, 1, 2, 3, 1, 2});
    // two dims: the last first
    CHECK(dc::pad(t({1, 2, 3, 4}, {2, 2}), {1, 0, 0, 1}).to_vector() ==
          V{0, 1, 2, 0, 3, 4, 0, 0, 0});
    // replicated elements sum their gradients
    const dc::Tensor leaf = t({1, 2, 3}, {3}).requires_grad_();
    dc::pad(leaf, {2, 1}, dc::PadMode::replicate).sum().backward();
    CHECK(leaf.grad().to_vector() == V{3, 1, 2});
    // int64 tensors pad too (constant)
    CHECK(dc::pad(dc::int_tensor({1, 2}, {2}), {1, 1}, dc::PadMode::constant, 7).to_int_vector() ==
          std::vector<std::int64_t>{7, 1, 2, 7});
}

TEST_CASE("spatial: fold sums what unfold copied", "[spatial]") {
    const dc::Tensor x = arange(12, {1, 1, 3, 4});
    const dc::Tensor columns = dc::unfold(x, 2);
    CHECK(columns.shape() == dc::Shape{1, 4, 6});
    // column 0 is the window at (0, 0): x[0][0], x[0][1], x[1][0], x[1][1]
    CHECK(dc::slice(columns, 2, 0, 1).to_vector() == V{0, 1, 4, 5});
    // fold(unfold(x)) multiplies each element by the number of windows covering it
    const dc::Tensor counts =
        dc::fold(dc::unfold(dc::ones({1, 1, 3, 4}, {.dtype = dc::float64}), 2), {3, 4}, 2);
    CHECK(dc::fold(columns, {3, 4}, 2).to_vector() == (x * counts).to_vector());
    CHECK(counts.to_vector() == V{1, 2, 2, 1, 2, 4, 4, 2, 1, 2, 2, 1});
}

TEST_CASE("spatial: float32 runs the same windows", "[spatial]") {
    dc::manual_seed(3);
    const dc::Tensor x = dc::randn({2, 3, 6, 5}, {.dtype = dc::float64});
    const dc::Tensor w = dc::randn({4, 3, 3, 3}, {.dtype = dc::float64});
    const V dbl = dc::conv2d(x, w, {}, {.padding = 1}).to_vector();
    const V single =
        dc::conv2d(x.to(dc::float32), w.to(dc::float32), {}, {.padding = 1}).to_vector();
    REQUIRE(single.size() == dbl.size());
    for (std::size_t i = 0; i < dbl.size(); ++i) {
        // 27 products in float32: a few ulps of the largest terms (|x·w| ≲ 10)
        CHECK(single[i] == Approx(dbl[i]).margin(1e-4));
    }
}

TEST_CASE("spatial: conv gives the same bits on one thread and on two", "[spatial][parallel]") {
    const RestoreThreadSettings restore;
    dc::set_parallel_threshold(0);  // every convolution splits its samples when it can
    auto run = [](int threads) {
        dc::set_num_threads(threads);
        dc::manual_seed(9);
        const dc::Tensor x = dc::randn({11, 4, 9, 8}).requires_grad_();
        const dc::Tensor w = dc::randn({6, 2, 3, 3}).requires_grad_();
        const dc::Tensor b = dc::randn({6}).requires_grad_();
        const dc::Tensor y = dc::conv2d(x, w, b, {.stride = {2, 1}, .padding = 1, .groups = 2});
        (y * y).sum().backward();
        return std::vector<V>{y.to_vector(), x.grad().to_vector(), w.grad().to_vector(),
                              b.grad().to_vector()};
    };
    CHECK(run(1) == run(2));
}

TEST_CASE("spatial: bad arguments are refused naming the op", "[spatial][hostile]") {
    const dc::Tensor x = dc::zeros({1, 2, 5, 5});
    const dc::Tensor w = dc::zeros({4, 2, 3, 3});
    CHECK_THROWS_WITH(dc::conv2d(dc::zeros({2, 5, 5, 1, 1}), w),
                      Contains("conv2d") && Contains("4-D"));
    CHECK_THROWS_WITH(dc::conv2d(x, dc::zeros({4, 3, 3, 3})),
                      Contains("conv2d") && Contains("channels"));
    CHECK_THROWS_WITH(dc::conv2d(x, w, dc::zeros({3})), Contains("conv2d") && Contains("bias"));
    CHECK_THROWS_WITH(dc::conv2d(x, w.to(dc::float64)), Contains("conv2d") && Contains("float64"));
    CHECK_THROWS_WITH(dc::conv2d(x, w, {}, {.groups = 0}), Contains("groups"));
    CHECK_THROWS_WITH(dc::conv2d(x, w, {}, {.groups = 3}), Contains("groups"));
    CHECK_THROWS_WITH(dc::conv2d(x, w, {}, {.stride = 0}),
                      Contains("conv2d") && Contains("stride"));
    CHECK_THROWS_WITH(dc::conv2d(x, w, {}, {.stride = {1, 2, 3}}), Contains("stride"));
    CHECK_THROWS_WITH(dc::conv2d(x, w, {}, {.padding = -1}), Contains("padding"));
    CHECK_THROWS_WITH(dc::conv2d(x, w, {}, {.dilation = kInt64Max}), Contains("dilation"));
    CHECK_THROWS_WITH(dc::conv2d(x, dc::zeros({4, 2, 7, 3})),
                      Contains("conv2d") && Contains("fit"));
    CHECK_THROWS_WITH(dc::conv2d(dc::zeros({1, 2, 0, 5}), w), Contains("empty"));
    CHECK_THROWS_WITH(dc::conv2d(x, dc::Tensor{}), Contains("weight"));
    CHECK_THROWS_AS(dc::conv2d(dc::zeros({1, 2, 5, 5}, {.dtype = dc::int64}), w), dc::DtypeError);
    // huge padding: the windows would not fit in memory, refused before any allocation
    CHECK_THROWS_WITH(dc::conv2d(x, w, {}, {.padding = (std::int64_t{1} << 31) - 1}),
                      Contains("conv2d") && Contains("memory"));
    CHECK_THROWS_WITH(dc::conv_transpose2d(x, dc::zeros({2, 2, 3, 3}), {},
                                           {.stride = (std::int64_t{1} << 31) - 1}),
                      Contains("conv_transpose2d") && Contains("memory"));
    CHECK_THROWS_WITH(dc::conv_transpose2d(x, dc::zeros({2, 2, 3, 3}), {}, {.output_padding = 1}),
                      Contains("output_padding"));
    CHECK_THROWS_WITH(dc::conv_transpose2d(x, dc::zeros({2, 2, 3, 3}), {}, {.padding = 4}),
                      Contains("conv_transpose2d") && Contains("output extent"));
    CHECK_THROWS_WITH(dc::max_pool2d(x, 0), Contains("max_pool2d") && Contains("kernel_size"));
    CHECK_THROWS_WITH(dc::max_pool2d(x, 2, {.padding = 2}), Contains("half the kernel"));
    CHECK_THROWS_WITH(dc::max_pool2d(x, 6), Contains("max_pool2d") && Contains("fit"));
    CHECK_THROWS_WITH(dc::avg_pool2d(x, 2, {.dilation = 2}), Contains("dilation"));
    CHECK_THROWS_WITH(dc::avg_pool2d(x, 2, {.divisor_override = 0}), Contains("divisor_override"));
    CHECK_THROWS_WITH(dc::adaptive_avg_pool2d(x, 0), Contains("output_size"));
    CHECK_THROWS_WITH(dc::adaptive_max_pool2d(x, {2, 3, 4}), Contains("output_size"));
    CHECK_THROWS_WITH(dc::adaptive_max_pool2d(x, (std::int64_t{1} << 31) - 1),
                      Contains("adaptive_max_pool2d") && Contains("memory"));
    CHECK_THROWS_WITH(dc::pad(x, {1}), Contains("pad") && Contains("pairs"));
    CHECK_THROWS_WITH(dc::pad(x, {5, 0}, dc::PadMode::reflect), Contains("reflect"));
    CHECK_THROWS_WITH(dc::pad(x, {6, 0}, dc::PadMode::circular), Contains("circular"));
    CHECK_THROWS_WITH(dc::pad(x, {-3, -3}), Contains("pad"));
    CHECK_THROWS_WITH(dc::pad(x, {kInt64Max, 1}), Contains("pad"));
    CHECK_THROWS_WITH(dc::pad(x, {1, 1}, dc::PadMode::reflect, 2.0), Contains("constant"));
    CHECK_THROWS_WITH(dc::unfold(x, 2, {.stride = -1}), Contains("unfold") && Contains("stride"));
    CHECK_THROWS_WITH(dc::fold(dc::zeros({1, 8, 5}), {3, 3}, 2), Contains("fold"));
}
