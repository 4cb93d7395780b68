// window_mean and window_mean_adjoint (patches.hpp): average pooling's sums over windows, plane
// by plane, and their adjoint, each the other's backward.
//   forward:  y[i, j] = Σ_{(a, b) in window (i, j), inside} x[a, b] / d[i, j]
//   adjoint:  x[a, b] = Σ_{windows (i, j) covering (a, b)} g[i, j] / d[i, j]

#include <fmt/format.h>

#include <algorithm>

#include "../patches.hpp"
#include "descent/threads.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent::detail {
namespace {

/// f(window, first row, last row, first column, last column) for every window of a plane, the
/// bounds clipped to the h × w input (half-open).
template <class F>
void for_each_window(const Windows& w, std::int64_t h, std::int64_t wd, F&& f) {
    for (std::int64_t i = 0; i < w.out_h; ++i) {
        const std::int64_t top = i * w.stride_h - w.pad_h;
        const std::int64_t r0 = std::max<std::int64_t>(top, 0), r1 = std::min(top + w.kernel_h, h);
        for (std::int64_t j = 0; j < w.out_w; ++j) {
            const std::int64_t left = j * w.stride_w - w.pad_w;
            const std::int64_t c0 = std::max<std::int64_t>(left, 0),
                               c1 = std::min(left + w.kernel_w, wd);
            f(i * w.out_w + j, r0, r1, c0, c1);
        }
    }
}

/// The windows are contiguous (average pooling has no dilation) and have a divisor each.
void check_windows(const Tensor& divisors, const Windows& w, Dtype dtype) {
    if (w.dilation_h != 1 || w.dilation_w != 1) {
        throw Error("avg_pool: windows with dilation");
    }
    if (divisors.dtype() != dtype || divisors.numel() != w.out_h * w.out_w) {
        throw ShapeError(fmt::format("avg_pool: {} divisors for {} x {} windows", divisors.numel(),
                                     w.out_h, w.out_w));
    }
}

}  // namespace

Tensor window_mean(const Tensor& x, const Windows& w, const Tensor& divisors) {
    check_windows(divisors, w, x.dtype());
    const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
    Tensor y = empty({n, c, w.out_h, w.out_w}, x.dtype(), "avg_pool");
    kernel::dispatch_floating(x.dtype(), "avg_pool", [&](auto tag) {
        using T = decltype(tag);
        const T* in = x.data<T>();
        const T* d = divisors.data<T>();
        T* out = elements<T>(y);
        parallel_for_elements(n * c, x.numel(), [&](std::int64_t p) {
            const T* plane = in + p * h * wd;
            T* o = out + p * w.out_h * w.out_w;
            for_each_window(w, h, wd, [&](std::int64_t k, auto r0, auto r1, auto c0, auto c1) {
                T s = 0;
                for (std::int64_t r = r0; r < r1; ++r) {
                    for (std::int64_t col = c0; col < c1; ++col) s += plane[r * wd + col];
                }
                o[k] = s / d[k];
            });
        });
    });
    return record(Op::window_mean, {x}, std::move(y), {},
                  [w, divisors](const BackwardContext& ctx, const Tensor& g) {
                      return Grads{window_mean_adjoint(g, ctx.input_shape(0), w, divisors)};
                  });
}

Tensor window_mean_adjoint(const Tensor& g, const Shape& input_shape, const Windows& w,
                           const Tensor& divisors) {
    check_windows(divisors, w, g.dtype());
    const std::int64_t n = input_shape[0], c = input_shape[1], h = input_shape[2],
                       wd = input_shape[3];
    Tensor x = zeros(input_shape, {.dtype = g.dtype()});
    kernel::dispatch_floating(g.dtype(), "avg_pool", [&](auto tag) {
        using T = decltype(tag);
        const T* in = g.data<T>();
        const T* d = divisors.data<T>();
        T* out = elements<T>(x);
        parallel_for_elements(n * c, x.numel(), [&](std::int64_t p) {
            const T* gp = in + p * w.out_h * w.out_w;
            T* plane = out + p * h * wd;
            for_each_window(w, h, wd, [&](std::int64_t k, auto r0, auto r1, auto c0, auto c1) {
                const T v = gp[k] / d[k];
                for (std::int64_t r = r0; r < r1; ++r) {
                    for (std::int64_t col = c0; col < c1; ++col) plane[r * wd + col] += v;
                }
            });
        });
    });
    return record(Op::window_mean_adjoint, {g}, std::move(x), {},
                  [w, divisors](const BackwardContext&, const Tensor& gg) {
                      return Grads{window_mean(gg, w, divisors)};
                  });
}

}  // namespace descent::detail
