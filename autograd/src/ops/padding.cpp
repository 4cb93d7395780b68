// pad (torch.nn.functional.pad), one dim at a time from the last:
//   constant: concat(value block, x, value block), or a slice where a pad is negative;
//   reflect, replicate, circular: index_select(x, dim, source of each output position),
// so the gradient of every mode is its adjoint (a slice, or index_add summing repeats).

#include <fmt/format.h>

#include "../spatial_geometry.hpp"
#include "descent/ops.hpp"
#include "descent/spatial.hpp"

namespace descent {
namespace {

std::string_view mode_name(PadMode mode) {
    switch (mode) {
        case PadMode::constant:
            return "constant";
        case PadMode::reflect:
            return "reflect";
        case PadMode::replicate:
            return "replicate";
        case PadMode::circular:
            return "circular";
    }
    return "?";
}

Tensor pad_constant(const Tensor& x, std::int64_t dim, std::int64_t before, std::int64_t after,
                    double value) {
    const std::int64_t extent = x.size(dim);
    if (std::max<std::int64_t>(-before, 0) + std::max<std::int64_t>(-after, 0) > extent) {
        throw ShapeError(fmt::format("pad: cropping ({}, {}) is more than dim {} holds ({})",
                                     before, after, dim, extent));
    }
    Tensor y = slice(x, dim, std::max<std::int64_t>(-before, 0),
                     extent - std::max<std::int64_t>(-after, 0));
    auto block = [&](std::int64_t size) {
        Shape s = y.shape();
        s[static_cast<std::size_t>(dim)] = size;
        return full(s, value, {.dtype = x.dtype()});
    };
    if (before <= 0 && after <= 0) return y;
    std::vector<Tensor> parts;
    if (before > 0) parts.push_back(block(before));
    parts.push_back(y);
    if (after > 0) parts.push_back(block(after));
    return concat(parts, dim);
}

/// The input position each output position of a reflect, replicate or circular pad reads.
std::int64_t source_of(std::int64_t j, std::int64_t extent, PadMode mode) {
    switch (mode) {
        case PadMode::reflect:  // mirror about the edge elements, which are not repeated
            return j < 0 ? -j : (j >= extent ? 2 * (extent - 1) - j : j);
        case PadMode::replicate:
            return std::clamp<std::int64_t>(j, 0, extent - 1);
        default:  // circular
            return ((j % extent) + extent) % extent;
    }
}

Tensor pad_indexed(const Tensor& x, std::int64_t dim, std::int64_t before, std::int64_t after,
                   PadMode mode) {
    const std::int64_t extent = x.size(dim);
    const bool fits = mode == PadMode::reflect    ? before < extent && after < extent
                      : mode == PadMode::circular ? before <= extent && after <= extent
                                                  : extent > 0;
    if (before < 0 || after < 0 || !fits) {
        throw Error(
            fmt::format("pad: {} padding ({}, {}) of dim {} (extent {}) must be ≥ 0 and "
                        "{}",
                        mode_name(mode), before, after, dim, extent,
                        mode == PadMode::reflect    ? "below the extent"
                        : mode == PadMode::circular ? "at most the extent"
                                                    : "of a non-empty dim"));
    }
    std::vector<std::int64_t> sources;
    sources.reserve(static_cast<std::size_t>(extent + before + after));
    for (std::int64_t j = -before; j < extent + after; ++j)
        sources.push_back(source_of(j, extent, mode));
    return index_select(x, dim, int_tensor(sources, {static_cast<std::int64_t>(sources.size())}));
}
}  // namespace

Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, PadMode mode, double value) {
    if (!x.defined()) throw Error("pad: the input is undefined");
    if (pads.size() % 2 != 0 || pads.size() > 2 * static_cast<std::size_t>(x.dim())) {
        throw Error(
            fmt::format("pad: pads must be pairs (before, after) for at most the {} dims "
                        "of {}, got [{}]",
                        x.dim(), shape_str(x.shape()), joined(pads, ", ")));
    }
    if (mode != PadMode::constant && value != 0.0) {
        throw Error(fmt::format("pad: a value ({}) is only for constant padding, not {}", value,
                                mode_name(mode)));
    }
    Shape out = x.shape();
    for (std::size_t i = 0; i < pads.size() / 2; ++i) {
        std::int64_t& e = out[out.size() - 1 - i];
        if (__builtin_add_overflow(e, pads[2 * i], &e) ||
            __builtin_add_overflow(e, pads[2 * i + 1], &e) || e < 0) {
            throw ShapeError(
                fmt::format("pad: pads [{}] of {} give a negative or too large "
                            "extent",
                            joined(pads, ", "), shape_str(x.shape())));
        }
    }
    detail::check_fits(out, x.dtype(), "pad");
    Tensor y = x;
    for (std::size_t i = 0; i < pads.size() / 2; ++i) {
        const auto dim = static_cast<std::int64_t>(x.dim() - 1 - static_cast<std::int64_t>(i));
        y = mode == PadMode::constant ? pad_constant(y, dim, pads[2 * i], pads[2 * i + 1], value)
                                      : pad_indexed(y, dim, pads[2 * i], pads[2 * i + 1], mode);
    }
    return y;
}

}  // namespace descent
