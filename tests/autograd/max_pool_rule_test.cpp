// max_pool2d against a brute-force statement of torch's rule — each window's value and the one
// input element its gradient reaches: the first largest in row-major tap order, or the last NaN;
// padding is −inf and never chosen — over inputs full of ties, NaN and −inf, and geometries that
// take each of the kernel's paths (windows inside the input without gaps, padding, dilation,
// ceil mode), in float32 and float64.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <limits>
#include <random>
#include <vector>

namespace dc = descent;
using V = std::vector<double>;

namespace {
struct Geometry {
    std::int64_t height, width, kernel_h, kernel_w, stride_h, stride_w, pad, dilation;
    bool ceil_mode;
};

std::int64_t out_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p,
                      std::int64_t d, bool ceil_mode) {
    const std::int64_t span = in + 2 * p - d * (k - 1) - 1;
    std::int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + p) --out;  // no window starts in the end padding
    return out;
}

/// The rule, one plane: values and, per window, the flat input position chosen.
void reference(const V& x, const Geometry& g, V& values, std::vector<std::int64_t>& chosen) {
    const std::int64_t oh =
        out_size(g.height, g.kernel_h, g.stride_h, g.pad, g.dilation, g.ceil_mode);
    const std::int64_t ow =
        out_size(g.width, g.kernel_w, g.stride_w, g.pad, g.dilation, g.ceil_mode);
    for (std::int64_t i = 0; i < oh; ++i) {
        for (std::int64_t j = 0; j < ow; ++j) {
            double best = -std::numeric_limits<double>::infinity();
            std::int64_t at = -1;
            for (std::int64_t a = 0; a < g.kernel_h; ++a) {
                for (std::int64_t b = 0; b < g.kernel_w; ++b) {
                    const std::int64_t r = i * g.stride_h - g.pad + a * g.dilation;
                    const std::int64_t c = j * g.stride_w - g.pad + b * g.dilation;
                    if (r < 0 || r >= g.height || c < 0 || c >= g.width) continue;
                    const std::int64_t p = r * g.width + c;
                    const double v = x[static_cast<std::size_t>(p)];
                    if (at < 0 || v > best || std::isnan(v)) {
                        if (at < 0 && !(v > best) && !std::isnan(v)) {
                            at = p;  // the first element inside keeps a window of −inf
                            continue;
                        }
                        best = v;
                        at = p;
                    }
                }
            }
            values.push_back(x[static_cast<std::size_t>(at)]);
            chosen.push_back(at);
        }
    }
}
}  // namespace

TEST_CASE("max_pool2d: values and gradients follow torch's rule on ties, NaN and -inf",
          "[spatial]") {
    const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
    const std::vector<Geometry> geometries{
        {8, 8, 2, 2, 2, 2, 0, 1, false},  {9, 11, 3, 3, 2, 2, 0, 1, false},
        {7, 9, 3, 2, 1, 2, 0, 1, false},  {8, 10, 3, 3, 2, 2, 1, 1, false},
        {9, 9, 2, 2, 1, 1, 0, 2, false},  {7, 7, 2, 2, 2, 2, 0, 1, true},
        {6, 35, 2, 2, 2, 2, 0, 1, false},  // rows longer than a vector of windows
    };
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> pick(0, 9);
    for (const dc::Dtype dtype : {dc::float32, dc::float64}) {
        for (const Geometry& g : geometries) {
            V x;  // few distinct values (ties everywhere), NaN and ±inf
            for (std::int64_t i = 0; i < 2 * g.height * g.width; ++i) {
                const int k = pick(rng);
                x.push_back(k == 0 ? nan : k == 1 ? -inf : k == 2 ? inf : double(k % 4));
            }
            V expected_values;
            V expected_grad(x.size(), 0.0);
            for (std::int64_t plane = 0; plane < 2; ++plane) {
                const auto begin = x.begin() + plane * g.height * g.width;
                const V one(begin, begin + g.height * g.width);
                std::vector<std::int64_t> chosen;
                reference(one, g, expected_values, chosen);
                for (const std::int64_t p : chosen) {
                    expected_grad[static_cast<std::size_t>(plane * g.height * g.width + p)] += 1.0;
                }
            }
            const dc::Tensor input =
                dc::tensor(x, {1, 2, g.height, g.width}, {.dtype = dtype}).requires_grad_();
            const dc::Tensor y = dc::max_pool2d(input, {g.kernel_h, g.kernel_w},
                                                {.stride = {g.stride_h, g.stride_w},
                                                 .padding = g.pad,
                                                 .dilation = g.dilation,
                                                 .ceil_mode = g.ceil_mode});
            y.sum().backward();
            const V got = y.to_vector();
            REQUIRE(got.size() == expected_values.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                INFO("window " << i << " kernel " << g.kernel_h << "x" << g.kernel_w);
                if (std::isnan(expected_values[i])) {
                    CHECK(std::isnan(got[i]));
                } else {
                    CHECK(got[i] == expected_values[i]);
                }
            }
            CHECK(input.grad().to_vector() == expected_grad);
        }
    }
}
