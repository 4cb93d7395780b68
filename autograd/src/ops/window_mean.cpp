// window_mean and window_mean_adjoint (patches.hpp): average pooling's sums over windows, plane
// by plane, and their adjoint, each the other's backward.
//   forward:  y[i, j] = Σ_{(a, b) in window (i, j), inside} x[a, b] / d[i, j]
//   adjoint:  x[a, b] = Σ_{windows (i, j) covering (a, b)} g[i, j] / d[i, j]

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "../patches.hpp"
#include "descent/threads.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent::detail {
namespace {

/// f(i, first row, last row) for every row i of windows, the rows clipped to the input's h
/// (half-open).
template <class F>
void for_each_window_row(const Windows& w, std::int64_t h, F&& f) {
    for (std::int64_t i = 0; i < w.out_h; ++i) {
        const std::int64_t top = i * w.stride_h - w.pad_h;
        f(i, std::max<std::int64_t>(top, 0), std::min(top + w.kernel_h, h));
    }
}

/// f(j, first column, last column) for every column j of windows, clipped to the input's wd.
template <class F>
void for_each_window_column(const Windows& w, std::int64_t wd, F&& f) {
    for (std::int64_t j = 0; j < w.out_w; ++j) {
        const std::int64_t left = j * w.stride_w - w.pad_w;
        f(j, std::max<std::int64_t>(left, 0), std::min(left + w.kernel_w, wd));
    }
}

/// A row of n scratch values for the calling thread.
template <class T>
T* scratch_row(std::int64_t n) {
    thread_local std::vector<T> row;
    if (row.size() < static_cast<std::size_t>(n)) row.resize(static_cast<std::size_t>(n));
    return row.data();
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
            T* column_sums = scratch_row<T>(wd);
            for_each_window_row(w, h, [&](std::int64_t i, std::int64_t r0, std::int64_t r1) {
                // the window rows summed column by column (contiguous, vectorised), then the
                // columns of each window
                std::fill_n(column_sums, wd, T(0));
                for (std::int64_t r = r0; r < r1; ++r) {
                    const T* row = plane + r * wd;
                    for (std::int64_t col = 0; col < wd; ++col) column_sums[col] += row[col];
                }
                for_each_window_column(w, wd, [&](std::int64_t j, auto c0, auto c1) {
                    T s = 0;
                    for (std::int64_t col = c0; col < c1; ++col) s += column_sums[col];
                    o[i * w.out_w + j] = s / d[i * w.out_w + j];
                });
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
    Tensor x = empty(input_shape, g.dtype(), "avg_pool");
    kernel::dispatch_floating(g.dtype(), "avg_pool", [&](auto tag) {
        using T = decltype(tag);
        const T* in = g.data<T>();
        const T* d = divisors.data<T>();
        T* out = elements<T>(x);
        parallel_for_elements(n * c, x.numel(), [&](std::int64_t p) {
            const T* gp = in + p * w.out_h * w.out_w;
            T* plane = out + p * h * wd;
            T* spread = scratch_row<T>(wd);
            std::int64_t written = 0;  // rows [0, written) hold their values so far
            for_each_window_row(w, h, [&](std::int64_t i, std::int64_t r0, std::int64_t r1) {
                // one window row's shares spread over the columns, then added to its rows (set,
                // for a row no window reached before; rows no window reaches are zero)
                std::fill_n(spread, wd, T(0));
                for_each_window_column(w, wd, [&](std::int64_t j, auto c0, auto c1) {
                    const T v = gp[i * w.out_w + j] / d[i * w.out_w + j];
                    for (std::int64_t col = c0; col < c1; ++col) spread[col] += v;
                });
                const std::int64_t gap_end = std::min(r0, h);
                if (gap_end > written) {
                    std::fill(plane + written * wd, plane + gap_end * wd, T(0));
                    written = gap_end;
                }
                for (std::int64_t r = r0; r < r1; ++r) {
                    T* row = plane + r * wd;
                    if (r < written) {
                        for (std::int64_t col = 0; col < wd; ++col) row[col] += spread[col];
                    } else {
                        std::copy_n(spread, wd, row);
                    }
                }
                written = std::max(written, r1);
            });
            std::fill(plane + written * wd, plane + h * wd, T(0));
        });
    });
    return record(Op::window_mean_adjoint, {g}, std::move(x), {},
                  [w, divisors](const BackwardContext&, const Tensor& gg) {
                      return Grads{window_mean(gg, w, divisors)};
                  });
}

}  // namespace descent::detail
