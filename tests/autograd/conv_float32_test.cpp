// float32 convolutions (oneDNN's kernels where the build has oneDNN, the column kernels
// otherwise) against the same convolution in float64 (always the column kernels, certified by
// the op table's gradcheck and the torch fixtures): outputs and every gradient, over a sweep of
// geometries — kernel, stride, padding (symmetric, "same" with an odd total, windows that stop
// short of the edge), dilation, groups up to depthwise, batches that do not split evenly, and
// the 3×3 shapes that run on Winograd's algorithm.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <string>
#include <vector>

#include "restore_thread_settings.hpp"

namespace dc = descent;
using V = std::vector<double>;

namespace {
struct Case {
    std::int64_t batch, channels, outputs, height, width, kernel_h, kernel_w;
    dc::ConvOptions options;
    bool bias;
};

struct Results {
    V y, dx, dw, db;
};

/// y = conv(x, w, b) in `dtype`, and the gradients of Σ y·r (r fixed) for x, w and b.
Results run(const Case& c, dc::Dtype dtype, std::uint64_t seed) {
    dc::manual_seed(seed);
    const dc::TensorOptions f64{.dtype = dc::float64};
    const dc::Tensor x64 = dc::randn({c.batch, c.channels, c.height, c.width}, f64);
    const dc::Tensor w64 =
        dc::randn({c.outputs, c.channels / c.options.groups, c.kernel_h, c.kernel_w}, f64);
    const dc::Tensor b64 = dc::randn({c.outputs}, f64);
    const dc::Tensor x = x64.to(dtype).requires_grad_();
    const dc::Tensor w = w64.to(dtype).requires_grad_();
    const dc::Tensor b = c.bias ? b64.to(dtype).requires_grad_() : dc::Tensor();
    const dc::Tensor y = dc::conv2d(x, w, b, c.options);
    const dc::Tensor r = dc::randn(y.shape(), f64).to(dtype);
    (y * r).sum().backward();
    return {y.to_vector(), x.grad().to_vector(), w.grad().to_vector(),
            c.bias ? b.grad().to_vector() : V{}};
}

/// Each element within 1e-5 of the largest magnitude of the float64 result. float32 sums of at
/// most a few thousand products of standard normals stay within ~1e-6 of that scale; a wrong
/// window, layout or range gives errors of its order.
void check_close(const V& single, const V& reference, const std::string& what) {
    REQUIRE(single.size() == reference.size());
    double scale = 1.0;
    for (const double v : reference) scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < reference.size(); ++i) {
        INFO(what << " element " << i);
        CHECK(std::abs(single[i] - reference[i]) <= 1e-5 * scale);
    }
}

std::vector<Case> cases() {
    return {
        {1, 1, 1, 5, 5, 3, 3, {}, false},
        {3, 4, 6, 9, 7, 3, 3, {.padding = 1}, true},
        {17, 3, 8, 12, 12, 5, 5, {.stride = 2, .padding = 2}, true},
        {9, 8, 16, 11, 10, 3, 3, {.stride = {2, 3}, .padding = {1, 0}}, false},
        {5, 6, 4, 13, 13, 3, 3, {.padding = 2, .dilation = 2}, true},
        {4, 6, 9, 8, 8, 3, 2, {.padding = 1, .groups = 3}, true},
        {10, 16, 16, 9, 9, 3, 3, {.padding = 1, .groups = 16}, true},  // depthwise
        {6, 16, 32, 7, 7, 1, 1, {}, false},                            // pointwise
        {3, 5, 7, 8, 6, 4, 4, {.padding = "same"}, true},              // odd total: 1 + 2
        {2, 3, 4, 10, 10, 3, 3, {.stride = 3}, true},        // windows stop short of the edge
        {33, 1, 6, 28, 28, 5, 5, {}, true},                  // LeNet's first layer, 33 samples
        {8, 4, 4, 6, 30, 1, 7, {.padding = {0, 3}}, false},  // a 1-d convolution's shape
        // 3×3 from 32 channels to 16×16 outputs: Winograd's where oneDNN has it
        {5, 32, 32, 16, 16, 3, 3, {.padding = 1}, true},
        {3, 32, 48, 18, 17, 3, 3, {.padding = {0, 1}}, false},
    };
}
}  // namespace

TEST_CASE("conv float32: outputs and gradients match float64", "[spatial]") {
    const auto all = cases();
    for (std::size_t i = 0; i < all.size(); ++i) {
        INFO("case " << i);
        const Results single = run(all[i], dc::float32, 40 + i);
        const Results reference = run(all[i], dc::float64, 40 + i);
        check_close(single.y, reference.y, "y");
        check_close(single.dx, reference.dx, "dx");
        check_close(single.dw, reference.dw, "dw");
        check_close(single.db, reference.db, "db");
    }
}

TEST_CASE("conv float32: the same bits on one thread and on two", "[spatial][parallel]") {
    const RestoreThreadSettings restore;
    dc::set_parallel_threshold(0);  // every convolution splits its samples
    for (const Case& c : cases()) {
        dc::set_num_threads(1);
        const Results one = run(c, dc::float32, 7);
        dc::set_num_threads(2);
        const Results two = run(c, dc::float32, 7);
        CHECK(one.y == two.y);
        CHECK(one.dx == two.dx);
        CHECK(one.dw == two.dw);
        CHECK(one.db == two.db);
    }
}
