// Max and average pooling over windows (patches), with torch's output sizes (ceil_mode), its
// −inf padding for max and its divisors for the average:
//   max: y = P[argmax P] per window (the first largest, NaN counting as largest), so the
//        gradient reaches one element, as torch's;
//   avg: y = Σ P / divisor, the divisor per window (padding counted or not, or an override).

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "../spatial_geometry.hpp"
#include "descent/ops.hpp"
#include "descent/spatial.hpp"

namespace descent {
namespace {
using detail::Pair;
using detail::Windows;

struct PoolGeometry {
    detail::AsImage in;
    Windows windows;
};

PoolGeometry pool_geometry(const Tensor& x, const Extents& kernel, const PoolOptions& o,
                           bool dilated, std::size_t rank, std::string_view op) {
    detail::AsImage in = detail::as_image(x, rank, op);
    const Pair k = detail::pair_of(kernel, rank, 1, op, "kernel_size");
    const Pair s = o.stride.empty() ? k : detail::pair_of(o.stride, rank, 1, op, "stride");
    const Pair p = detail::pair_of(o.padding, rank, 0, op, "padding", 0);
    const Pair d = detail::pair_of(o.dilation, rank, 1, op, "dilation");
    if (!dilated && (d.h != 1 || d.w != 1)) {
        throw Error(fmt::format("{}: average pooling has no dilation", op));
    }
    if (p.h > k.h / 2 || p.w > k.w / 2) {
        throw Error(
            fmt::format("{}: padding must be at most half the kernel ({} x {}), got {} x {}", op,
                        k.h, k.w, p.h, p.w));
    }
    const std::int64_t h = in.x.size(2), w = in.x.size(3);
    const Windows win{k.h,
                      k.w,
                      s.h,
                      s.w,
                      d.h,
                      d.w,
                      p.h,
                      p.w,
                      detail::window_count(h, k.h, s.h, d.h, p.h, p.h, o.ceil_mode, op),
                      detail::window_count(w, k.w, s.w, d.w, p.w, p.w, o.ceil_mode, op)};
    detail::check_fits({in.x.size(0), win.out_h, win.out_w, in.x.size(1), k.h, k.w}, x.dtype(), op);
    return {std::move(in), win};
}

/// The windows of x as [N, L, C, kh·kw].
Tensor windows_of(const PoolGeometry& g, double pad_value) {
    const Tensor rows = detail::patches(g.in.x, g.windows, pad_value);
    return rows.reshape({rows.size(0), rows.size(1), g.in.x.size(1), -1});
}

/// [N, L, C] as [N, C, out_h, out_w] in the caller's layout.
Tensor to_output(const PoolGeometry& g, const Tensor& per_window) {
    return g.in.restore(
        permute(per_window, {0, 2, 1})
            .reshape({per_window.size(0), per_window.size(2), g.windows.out_h, g.windows.out_w}));
}

Tensor max_pool(const Tensor& x, const Extents& kernel, const PoolOptions& o, std::size_t rank,
                std::string_view op) {
    const PoolGeometry g = pool_geometry(x, kernel, o, true, rank, op);
    const Tensor p = windows_of(g, -std::numeric_limits<double>::infinity());
    const Tensor best = gather(p, 3, argmax(p.detach(), 3, true));
    return to_output(g, squeeze(best, 3));
}

/// Torch's divisor of each window, [L, 1]: its size clipped to the padded input, or to the
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
    return tensor(divisors, {w.out_h * w.out_w, 1}, {.dtype = dtype});
}

Tensor avg_pool(const Tensor& x, const Extents& kernel, const PoolOptions& o, std::size_t rank,
                std::string_view op) {
    const PoolGeometry g = pool_geometry(x, kernel, o, false, rank, op);
    const Tensor divisors = avg_divisors(g, o, x.dtype(), op);
    return to_output(g, sum(windows_of(g, 0.0), 3) / divisors);
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
