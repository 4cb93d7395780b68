// interpolate (torch.nn.functional.interpolate) over [N, C, L] and [N, C, H, W], one spatial dim
// at a time, with torch's source positions (scale = in/out, or 1/scale_factor when one is given):
//   nearest:  y[j] = x[min(⌊j·scale⌋, in − 1)]            (in float, as torch computes it)
//   linear:   s = max((j + ½)·scale − ½, 0), or s = j·(in − 1)/(out − 1) with align_corners;
//             i0 = min(⌊s⌋, in − 1), i1 = min(i0 + 1, in − 1), λ = s − i0,
//             y[j] = (1 − λ)·x[i0] + λ·x[i1]
// Both are index_select (whose backward is index_add) times constant weights, so gradients of
// every order are those of the composed ops.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "../spatial_geometry.hpp"
#include "descent/ops.hpp"
#include "descent/spatial.hpp"

namespace descent {
namespace {
constexpr std::string_view kOp = "interpolate";
/// The largest output extent accepted: far beyond any image, and small enough that no
/// position arithmetic below overflows.
constexpr std::int64_t kMaxExtent = (std::int64_t{1} << 31) - 1;

std::string_view mode_name(InterpolateMode mode) {
    switch (mode) {
        case InterpolateMode::nearest:
            return "nearest";
        case InterpolateMode::linear:
            return "linear";
        case InterpolateMode::bilinear:
            return "bilinear";
    }
    return "?";
}

/// The source positions along one dim: the output extent, and per output dim the scale a
/// kernel uses when scale_factor was given (torch passes it on rather than recomputing it).
struct Resize {
    std::int64_t out;
    std::optional<double> scale_factor;
};

std::vector<Resize> resizes(const Tensor& x, std::size_t rank, const InterpolateOptions& options) {
    const bool has_size = !options.size.empty(), has_scale = !options.scale_factor.empty();
    if (has_size == has_scale) {
        throw Error(fmt::format("{}: give exactly one of size and scale_factor, got {}", kOp,
                                has_size ? "both" : "neither"));
    }
    std::vector<Resize> out;
    if (has_size) {
        for (const auto e : options.size.expand(rank, kOp, "size")) {
            if (e < 1 || e > kMaxExtent) {
                throw Error(fmt::format("{}: size must be in [1, {}], got [{}]", kOp, kMaxExtent,
                                        joined(options.size.values(), ", ")));
            }
            out.push_back({e, std::nullopt});
        }
        return out;
    }
    const std::vector<double>& s = options.scale_factor;
    if (s.size() != 1 && s.size() != rank) {
        throw Error(
            fmt::format("{}: scale_factor needs 1 or {} values, got {}", kOp, rank, s.size()));
    }
    for (std::size_t d = 0; d < rank; ++d) {
        const double factor = s.size() == 1 ? s[0] : s[d];
        const std::int64_t in = x.size(static_cast<std::int64_t>(d + 2));
        // output extent ⌊in · factor⌋, as torch truncates it
        const double extent = std::floor(static_cast<double>(in) * factor);
        if (!std::isfinite(factor) || factor <= 0 || !(extent >= 1) ||
            extent > static_cast<double>(kMaxExtent)) {
            throw Error(
                fmt::format("{}: scale_factor {} maps the input extent {} to {}, outside [1, {}]",
                            kOp, factor, in, extent, kMaxExtent));
        }
        out.push_back({static_cast<std::int64_t>(extent), factor});
    }
    return out;
}

/// torch's nearest_idx: exact shortcuts for the same and double extents, else
/// min(⌊j·scale⌋, in − 1) in float with scale = 1/scale_factor or in/out.
Tensor nearest_sources(std::int64_t in, const Resize& r) {
    std::vector<std::int64_t> source(static_cast<std::size_t>(r.out));
    const float scale = r.scale_factor ? static_cast<float>(1.0 / *r.scale_factor)
                                       : static_cast<float>(in) / static_cast<float>(r.out);
    for (std::int64_t j = 0; j < r.out; ++j) {
        std::int64_t i = 0;
        if (r.out == in) {
            i = j;
        } else if (r.out == 2 * in) {
            i = j >> 1;
        } else {
            i = std::min(static_cast<std::int64_t>(std::floor(static_cast<float>(j) * scale)),
                         in - 1);
        }
        source[static_cast<std::size_t>(j)] = i;
    }
    return int_tensor(source, {r.out});
}

/// x interpolated linearly along `dim` (extent in → r.out): (1 − λ)·x[i0] + λ·x[i1], with the
/// weights shaped to broadcast over the dims after `dim`.
Tensor lerp_along(const Tensor& x, std::int64_t dim, const Resize& r, bool align_corners) {
    const std::int64_t in = x.size(dim);
    std::vector<std::int64_t> i0(static_cast<std::size_t>(r.out)), i1(i0.size());
    std::vector<double> lambda(i0.size());
    double scale = 0.0;  // torch's area_pixel_compute_scale
    if (align_corners) {
        scale = r.out > 1 ? static_cast<double>(in - 1) / static_cast<double>(r.out - 1) : 0.0;
    } else {
        scale = r.scale_factor ? 1.0 / *r.scale_factor
                               : static_cast<double>(in) / static_cast<double>(r.out);
    }
    for (std::int64_t j = 0; j < r.out; ++j) {
        const auto k = static_cast<std::size_t>(j);
        if (r.out == in && !align_corners) {  // torch copies when the extent does not change
            i0[k] = i1[k] = j;
            continue;
        }
        const double s = align_corners
                             ? scale * static_cast<double>(j)
                             : std::max(scale * (static_cast<double>(j) + 0.5) - 0.5, 0.0);
        i0[k] = std::min(static_cast<std::int64_t>(std::floor(s)), in - 1);
        i1[k] = std::min(i0[k] + 1, in - 1);
        lambda[k] = std::clamp(s - static_cast<double>(i0[k]), 0.0, 1.0);
    }
    Shape weight_shape{r.out};
    for (std::int64_t d = dim + 1; d < x.dim(); ++d) weight_shape.push_back(1);
    const Tensor l1 = tensor(lambda, weight_shape, {.dtype = x.dtype()});
    const Tensor at0 = index_select(x, dim, int_tensor(i0, {r.out}));
    const Tensor at1 = index_select(x, dim, int_tensor(i1, {r.out}));
    return at0 * (1.0 - l1) + at1 * l1;
}
}  // namespace

Tensor interpolate(const Tensor& x, const InterpolateOptions& options) {
    if (!x.defined()) throw Error(fmt::format("{}: the input is undefined", kOp));
    if (x.dim() != 3 && x.dim() != 4) {
        throw ShapeError(
            fmt::format("{}: expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got {}", kOp,
                        shape_str(x.shape())));
    }
    const auto rank = static_cast<std::size_t>(x.dim() - 2);
    const InterpolateMode mode = options.mode;
    if ((mode == InterpolateMode::linear && rank != 1) ||
        (mode == InterpolateMode::bilinear && rank != 2)) {
        throw ShapeError(
            fmt::format("{}: mode {} needs a {} input, got {}", kOp, mode_name(mode),
                        mode == InterpolateMode::linear ? "3-D [N, C, L]" : "4-D [N, C, H, W]",
                        shape_str(x.shape())));
    }
    if (mode == InterpolateMode::nearest && options.align_corners) {
        throw Error(
            fmt::format("{}: align_corners applies to linear and bilinear, not nearest", kOp));
    }
    detail::as_image(x, rank, kOp);  // a floating input with non-empty spatial dims
    const std::vector<Resize> rs = resizes(x, rank, options);
    Shape out_shape{x.size(0), x.size(1)};
    for (const Resize& r : rs) {
        detail::check_fits({2, r.out}, Dtype::float64, kOp);  // its positions and weights
        out_shape.push_back(r.out);
    }
    detail::check_fits(out_shape, x.dtype(), kOp);

    Tensor y = x;
    for (std::size_t d = 0; d < rank; ++d) {
        const auto dim = static_cast<std::int64_t>(d + 2);
        y = mode == InterpolateMode::nearest
                ? index_select(y, dim, nearest_sources(y.size(dim), rs[d]))
                : lerp_along(y, dim, rs[d], options.align_corners.value_or(false));
    }
    return y;
}

}  // namespace descent
