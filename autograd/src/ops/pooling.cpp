// Max and average pooling, with torch's output sizes (ceil_mode) and its divisors for the
// average:
//   max: y = x[argmax] per window, a gather by the positions a kernel finds (the first largest,
//        NaN counting as largest), so the gradient reaches one element, as torch's;
//   avg: y = Σ P / divisor over the windows P (the padding adds nothing), the divisor per
//        window (padding counted or not, or an override), in one pass (window_mean).

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "../spatial_geometry.hpp"
#include "descent/ops.hpp"
#include "descent/spatial.hpp"
#include "descent/threads.hpp"
#include "kernels.hpp"

namespace descent {
namespace {
using detail::Pair;
using detail::Windows;

struct PoolGeometry {
    detail::AsImage in;
    Windows windows;
};

PoolGeometry pool_geometry(const Tensor& x, const Extents& kernel, const PoolOptions& o,
                           bool is_max, std::size_t rank, std::string_view op) {
    detail::AsImage in = detail::as_image(x, rank, op);
    const Pair k = detail::pair_of(kernel, rank, 1, op, "kernel_size");
    const Pair s = o.stride.empty() ? k : detail::pair_of(o.stride, rank, 1, op, "stride");
    const Pair p = detail::pair_of(o.padding, rank, 0, op, "padding", 0);
    const Pair d = detail::pair_of(o.dilation, rank, 1, op, "dilation");
    if (!is_max && (d.h != 1 || d.w != 1)) {
        throw Error(fmt::format("{}: average pooling has no dilation", op));
    }
    if (p.h > k.h / 2 || p.w > k.w / 2) {
        throw Error(
            fmt::format("{}: padding must be at most half the kernel ({} x {}), got {} x {}", op,
                        k.h, k.w, p.h, p.w));
    }
    const std::int64_t h = in.x.size(2), w = in.x.size(3);
    const Windows win = detail::windows_over(h, w, {k, s, d, p, p}, o.ceil_mode, op);
    // a position (max) or a mean (avg) per window
    const Shape made{in.x.size(0), in.x.size(1), win.out_h, win.out_w};
    detail::check_fits(made, is_max ? Dtype::int64 : x.dtype(), op);
    return {std::move(in), win};
}

/// The kernel offsets a whose position i·stride − pad + a·dilation lies in [0, extent).
struct Taps {
    std::int64_t first, last;  // a in [first, last)
};
Taps taps(std::int64_t i, std::int64_t stride, std::int64_t pad, std::int64_t dilation,
          std::int64_t kernel, std::int64_t extent) {
    const std::int64_t start = i * stride - pad;  // position of tap 0
    const std::int64_t first = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
    const std::int64_t last =
        start >= extent ? 0 : std::min(kernel, (extent - 1 - start) / dilation + 1);
    return {std::min(first, kernel), std::max(std::min(first, kernel), last)};
}

/// take ? a : b by masking the bits, without a branch (random data defeats the predictor,
/// and GCC keeps the branch of a conditional expression here).
template <class T>
T pick(bool take, T a, T b) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    const Bits mask = Bits{0} - static_cast<Bits>(take);
    return std::bit_cast<T>(
        static_cast<Bits>((std::bit_cast<Bits>(a) & mask) | (std::bit_cast<Bits>(b) & ~mask)));
}

/// A tap (kernel element) number, as wide as T so that comparisons and picks share one vector.
template <class T>
using Tap = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

/// Each window's position of its largest element in one plane (as argmax_of_windows), when every
/// window lies inside the input without gaps (no padding, no dilation: the usual 2×2 pool). A
/// row of windows is scanned tap by tap, each tap over all its windows, keeping the best value
/// and tap per window without branches, so the compiler vectorises across windows.
template <class T>
void argmax_inside(const T* plane, std::int64_t width, const Windows& w, std::int64_t* at, T* best,
                   Tap<T>* tap) {
    for (std::int64_t oy = 0; oy < w.out_h; ++oy, at += w.out_w) {
        const T* top = plane + oy * w.stride_h * width;
        for (std::int64_t ox = 0; ox < w.out_w; ++ox) {
            best[ox] = top[ox * w.stride_w];
            tap[ox] = 0;
        }
        for (std::int64_t a = 0; a < w.kernel_h; ++a) {
            for (std::int64_t b = a == 0 ? 1 : 0; b < w.kernel_w; ++b) {
                const T* src = top + a * width + b;
                const auto t = static_cast<Tap<T>>(a * w.kernel_w + b);
                for (std::int64_t ox = 0; ox < w.out_w; ++ox) {
                    const T v = src[ox * w.stride_w];
                    const bool take = (v > best[ox]) | (v != v);  // v != v: NaN
                    best[ox] = take ? v : best[ox];
                    tap[ox] = take ? t : tap[ox];
                }
            }
        }
        const std::int64_t first = oy * w.stride_h * width;
        for (std::int64_t ox = 0; ox < w.out_w; ++ox) {
            at[ox] =
                first + ox * w.stride_w + (tap[ox] / w.kernel_w) * width + tap[ox] % w.kernel_w;
        }
    }
}

/// The flat position iy·W + ix in its [H, W] plane of each window's largest element, [N, C,
/// out_h, out_w], chosen as torch's kernel does: the first largest, or the last NaN; a window
/// of −inf keeps its first element inside the input.
Tensor argmax_of_windows(const Tensor& x, const Windows& w) {
    const std::int64_t planes = x.size(0) * x.size(1), h = x.size(2), wd = x.size(3);
    Tensor index = empty({x.size(0), x.size(1), w.out_h, w.out_w}, Dtype::int64, "max_pool");
    std::int64_t* out = elements<std::int64_t>(index);
    std::vector<Taps> columns;  // the same for every row of windows
    for (std::int64_t ox = 0; ox < w.out_w; ++ox) {
        columns.push_back(taps(ox, w.stride_w, w.pad_w, w.dilation_w, w.kernel_w, wd));
    }
    // Windows whose columns are all inside (every tap b) are scanned together, tap by tap, so
    // the comparisons of neighbouring windows do not wait for each other.
    std::int64_t inner_begin = 0, inner_end = 0;
    for (std::int64_t ox = 0; ox < w.out_w; ++ox) {
        const Taps t = columns[static_cast<std::size_t>(ox)];
        if (t.first != 0 || t.last != w.kernel_w) continue;
        if (inner_end == inner_begin) inner_begin = ox;
        inner_end = ox + 1;
    }
    const bool inside = w.pad_h == 0 && w.pad_w == 0 && w.dilation_h == 1 && w.dilation_w == 1 &&
                        (w.out_h - 1) * w.stride_h + w.kernel_h <= h &&
                        (w.out_w - 1) * w.stride_w + w.kernel_w <= wd &&
                        w.kernel_h * w.kernel_w <= std::numeric_limits<std::int32_t>::max();  // Tap
    kernel::dispatch_floating(x.dtype(), "max_pool", [&](auto tag) {
        using T = decltype(tag);
        parallel_for_elements(planes, x.numel(), [&](std::int64_t p) {
            const T* plane = x.data<T>() + p * h * wd;
            std::int64_t* at_plane = out + p * w.out_h * w.out_w;
            std::vector<T> values(static_cast<std::size_t>(w.out_w));
            if (inside) {
                std::vector<Tap<T>> taps_of(static_cast<std::size_t>(w.out_w));
                return argmax_inside(plane, wd, w, at_plane, values.data(), taps_of.data());
            }
            for (std::int64_t oy = 0; oy < w.out_h; ++oy) {
                std::int64_t* at = at_plane + oy * w.out_w;
                const Taps rows = taps(oy, w.stride_h, w.pad_h, w.dilation_h, w.kernel_h, h);
                const std::int64_t y0 = oy * w.stride_h - w.pad_h;
                // torch's start: the window's first element inside the input, value −inf
                for (std::int64_t ox = 0; ox < w.out_w; ++ox) {
                    const Taps cols = columns[static_cast<std::size_t>(ox)];
                    at[ox] = (y0 + rows.first * w.dilation_h) * wd + ox * w.stride_w - w.pad_w +
                             cols.first * w.dilation_w;
                    values[static_cast<std::size_t>(ox)] = -std::numeric_limits<T>::infinity();
                }
                for (std::int64_t a = rows.first; a < rows.last; ++a) {
                    const std::int64_t row = (y0 + a * w.dilation_h) * wd - w.pad_w;
                    auto visit = [&](std::int64_t ox, std::int64_t b) {
                        const std::int64_t position = row + ox * w.stride_w + b * w.dilation_w;
                        const T v = plane[position];
                        T& best = values[static_cast<std::size_t>(ox)];
                        const bool take = (v > best) | (v != v);  // v != v: NaN
                        at[ox] = pick(take, position, at[ox]);
                        best = pick(take, v, best);
                    };
                    for (std::int64_t b = 0; b < w.kernel_w; ++b) {
                        for (std::int64_t ox = inner_begin; ox < inner_end; ++ox) visit(ox, b);
                    }
                    for (std::int64_t ox = 0; ox < w.out_w; ++ox) {  // the edge windows
                        if (ox == inner_begin && inner_end > inner_begin) ox = inner_end;
                        if (ox >= w.out_w) break;
                        const Taps cols = columns[static_cast<std::size_t>(ox)];
                        for (std::int64_t b = cols.first; b < cols.last; ++b) visit(ox, b);
                    }
                }
            }
        });
    });
    return index;
}

Tensor max_pool(const Tensor& x, const Extents& kernel, const PoolOptions& o, std::size_t rank,
                std::string_view op) {
    const PoolGeometry g = pool_geometry(x, kernel, o, true, rank, op);
    const Tensor& image = g.in.x;
    const std::int64_t n = image.size(0), c = image.size(1);
    const Tensor index = argmax_of_windows(image, g.windows).reshape({n, c, -1});
    // y = x[argmax] per window: a gather, whose gradient reaches that one element
    const Tensor y = gather(image.reshape({n, c, -1}), 2, index);
    return g.in.restore(y.reshape({n, c, g.windows.out_h, g.windows.out_w}));
}

/// Torch's divisor of each window, [L]: its size clipped to the padded input, or to the
/// input alone without count_include_pad, or the override.
Tensor avg_divisors(const PoolGeometry& g, const PoolOptions& o, Dtype dtype, std::string_view op) {
    const Windows& w = g.windows;
    const std::int64_t h = g.in.x.size(2), wd = g.in.x.size(3);
    std::vector<double> divisors;
    divisors.reserve(static_cast<std::size_t>(w.out_h * w.out_w));
    if (o.divisor_override && *o.divisor_override == 0) {
        throw Error(fmt::format("{}: divisor_override must not be 0", op));
    }
    const auto span = [](std::int64_t i, std::int64_t stride, std::int64_t pad, std::int64_t k,
                         std::int64_t extent, bool with_pad) {
        const std::int64_t start = i * stride - pad, end = std::min(start + k, extent + pad);
        return with_pad ? end - start : std::min(end, extent) - std::max<std::int64_t>(start, 0);
    };
    for (std::int64_t i = 0; i < w.out_h; ++i) {
        for (std::int64_t j = 0; j < w.out_w; ++j) {
            const std::int64_t count =
                span(i, w.stride_h, w.pad_h, w.kernel_h, h, o.count_include_pad) *
                span(j, w.stride_w, w.pad_w, w.kernel_w, wd, o.count_include_pad);
            divisors.push_back(o.divisor_override ? static_cast<double>(*o.divisor_override)
                                                  : static_cast<double>(count));
        }
    }
    return tensor(divisors, {w.out_h * w.out_w}, {.dtype = dtype});
}

Tensor avg_pool(const Tensor& x, const Extents& kernel, const PoolOptions& o, std::size_t rank,
                std::string_view op) {
    const PoolGeometry g = pool_geometry(x, kernel, o, false, rank, op);
    const Tensor divisors = avg_divisors(g, o, x.dtype(), op);
    return g.in.restore(detail::window_mean(g.in.x, g.windows, divisors));
}
}  // namespace

Tensor max_pool1d(const Tensor& x, const Extents& kernel, const PoolOptions& o) {
    return max_pool(x, kernel, o, 1, "max_pool1d");
}
Tensor max_pool2d(const Tensor& x, const Extents& kernel, const PoolOptions& o) {
    return max_pool(x, kernel, o, 2, "max_pool2d");
}
Tensor avg_pool1d(const Tensor& x, const Extents& kernel, const PoolOptions& o) {
    return avg_pool(x, kernel, o, 1, "avg_pool1d");
}
Tensor avg_pool2d(const Tensor& x, const Extents& kernel, const PoolOptions& o) {
    return avg_pool(x, kernel, o, 2, "avg_pool2d");
}

}  // namespace descent
