// patches and patches_adjoint (patches.hpp): im2col and col2im, each the other's backward.

#include "../patches.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "descent/threads.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent::detail {
namespace {

/// Visits every (window row, input element) pair of one sample: f(row_offset, input_offset),
/// input_offset −1 for a position in the padding. Rows are laid out [l][c][a][b] as patches
/// writes them.
template <class F>
void for_each_window_element(std::int64_t channels, std::int64_t height, std::int64_t width,
                             const Windows& w, F&& f) {
    std::int64_t row = 0;
    for (std::int64_t oy = 0; oy < w.out_h; ++oy) {
        for (std::int64_t ox = 0; ox < w.out_w; ++ox) {
            for (std::int64_t c = 0; c < channels; ++c) {
                for (std::int64_t a = 0; a < w.kernel_h; ++a) {
                    const std::int64_t iy = oy * w.stride_h - w.pad_h + a * w.dilation_h;
                    const bool row_inside = iy >= 0 && iy < height;
                    const std::int64_t base = (c * height + iy) * width;
                    for (std::int64_t b = 0; b < w.kernel_w; ++b, ++row) {
                        const std::int64_t ix = ox * w.stride_w - w.pad_w + b * w.dilation_w;
                        f(row, row_inside && ix >= 0 && ix < width ? base + ix : -1);
                    }
                }
            }
        }
    }
}

Shape rows_shape(std::int64_t n, std::int64_t c, const Windows& w) {
    return {n, w.out_h * w.out_w, c * w.kernel_h * w.kernel_w};
}
}  // namespace

Tensor patches(const Tensor& x, const Windows& w, double pad_value) {
    const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
    Tensor rows = empty(rows_shape(n, c, w), x.dtype(), "patches");
    const std::int64_t per_sample = rows.numel() / std::max<std::int64_t>(n, 1);
    kernel::dispatch_floating(x.dtype(), "patches", [&](auto tag) {
        using T = decltype(tag);
        const T* in = x.data<T>();
        T* out = elements<T>(rows);
        const T pad = static_cast<T>(pad_value);
        parallel_for_elements(n, rows.numel(), [&](std::int64_t s) {
            const T* image = in + s * c * h * wd;
            T* dst = out + s * per_sample;
            for_each_window_element(c, h, wd, w, [&](std::int64_t r, std::int64_t i) {
                dst[r] = i < 0 ? pad : image[i];
            });
        });
    });
    return record(
        Op::patches, {x}, std::move(rows), {}, [w](const BackwardContext& ctx, const Tensor& g) {
            return Grads{patches_adjoint(g, ctx.input_shape(0), w)};  // the adjoint: sum back
        });
}

Tensor patches_adjoint(const Tensor& rows, const Shape& input_shape, const Windows& w) {
    const std::int64_t n = input_shape[0], c = input_shape[1], h = input_shape[2],
                       wd = input_shape[3];
    if (rows.shape() != rows_shape(n, c, w)) {
        throw ShapeError(fmt::format("fold: expected windows {}, got {}",
                                     shape_str(rows_shape(n, c, w)), shape_str(rows.shape())));
    }
    Tensor x = zeros(input_shape, {.dtype = rows.dtype()});
    const std::int64_t per_sample = rows.numel() / std::max<std::int64_t>(n, 1);
    kernel::dispatch_floating(rows.dtype(), "fold", [&](auto tag) {
        using T = decltype(tag);
        const T* in = rows.data<T>();
        T* out = elements<T>(x);
        parallel_for_elements(n, rows.numel(), [&](std::int64_t s) {
            const T* src = in + s * per_sample;
            T* image = out + s * c * h * wd;
            for_each_window_element(c, h, wd, w, [&](std::int64_t r, std::int64_t i) {
                if (i >= 0) image[i] += src[r];
            });
        });
    });
    return record(Op::patches_adjoint, {rows}, std::move(x), {},
                  [w](const BackwardContext&, const Tensor& g) {
                      return Grads{patches(g, w)};  // the adjoint of a sum is the copy
                  });
}

}  // namespace descent::detail
