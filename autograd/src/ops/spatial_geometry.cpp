// The arguments of the spatial ops: extents, padding modes, input layouts and window counts.

#include "../spatial_geometry.hpp"

#include <fmt/format.h>

#include <cstring>

#include "descent/ops.hpp"
#include "tensor_impl.hpp"

namespace descent {

std::vector<std::int64_t> Extents::expand(std::size_t rank, std::string_view op,
                                          std::string_view what) const {
    if (values_.size() == rank) return values_;
    if (values_.size() == 1) return std::vector<std::int64_t>(rank, values_[0]);
    throw Error(fmt::format("{}: {} needs 1 or {} values, got [{}]", op, what, rank,
                            joined(values_, ", ")));
}

ConvPadding::ConvPadding(const char* mode) : extents_(0) {
    if (mode != nullptr && std::strcmp(mode, "same") == 0) {
        same_ = true;
    } else if (mode == nullptr || std::strcmp(mode, "valid") != 0) {
        throw Error(fmt::format("conv: padding must be extents, \"same\" or \"valid\", got \"{}\"",
                                mode == nullptr ? "" : mode));
    }
}

namespace detail {
namespace {
/// Options beyond this are refused (no real kernel, stride or padding comes near), so no
/// window arithmetic on tensor extents can overflow.
constexpr std::int64_t kMaxOption = (std::int64_t{1} << 31) - 1;
}  // namespace

Tensor AsImage::restore(const Tensor& y) const {
    Tensor out = rank == 1 ? squeeze(y, 2) : y;
    return batched ? out : squeeze(out, 0);
}

AsImage as_image(const Tensor& x, std::size_t rank, std::string_view op) {
    if (!x.defined()) throw Error(fmt::format("{}: the input is undefined", op));
    const auto dims = static_cast<std::size_t>(x.dim());
    if (dims != rank + 1 && dims != rank + 2) {
        throw ShapeError(
            fmt::format("{}: expected a {}-D or {}-D input ([N, C, {}] or [C, {}]), "
                        "got {}",
                        op, rank + 1, rank + 2, rank == 1 ? "L" : "H, W", rank == 1 ? "L" : "H, W",
                        shape_str(x.shape())));
    }
    if (!is_floating(x.dtype())) {
        throw DtypeError(fmt::format("{}: expected a float32 or float64 input, got {}", op,
                                     dtype_name(x.dtype())));
    }
    for (std::size_t d = dims - rank; d < dims; ++d) {
        if (x.size(static_cast<std::int64_t>(d)) == 0) {
            throw ShapeError(fmt::format("{}: the spatial dims of {} must not be empty", op,
                                         shape_str(x.shape())));
        }
    }
    const bool batched = dims == rank + 2;
    Tensor image = batched ? x : unsqueeze(x, 0);
    if (rank == 1) image = unsqueeze(image, 2);
    return {image, rank, batched};
}

Pair pair_of(const Extents& extents, std::size_t rank, std::int64_t minimum, std::string_view op,
             std::string_view what, std::int64_t fill_h) {
    const std::vector<std::int64_t> v = extents.expand(rank, op, what);
    for (const auto e : v) {
        if (e < minimum || e > kMaxOption) {
            throw Error(fmt::format("{}: {} must be in [{}, {}], got [{}]", op, what, minimum,
                                    kMaxOption, joined(v, ", ")));
        }
    }
    return rank == 1 ? Pair{fill_h, v[0]} : Pair{v[0], v[1]};
}

std::int64_t window_count(std::int64_t extent, std::int64_t kernel, std::int64_t stride,
                          std::int64_t dilation, std::int64_t pad_begin, std::int64_t pad_end,
                          bool ceil_mode, std::string_view op) {
    const std::int64_t span = dilation * (kernel - 1) + 1;  // what one window covers
    const std::int64_t room = extent + pad_begin + pad_end - span;
    if (room < 0) {
        throw ShapeError(
            fmt::format("{}: a window of {} (kernel {}, dilation {}) does not fit "
                        "an input extent of {} padded to {}",
                        op, span, kernel, dilation, extent, extent + pad_begin + pad_end));
    }
    std::int64_t count = room / stride + 1;
    // ceil mode counts a last partial window, but never one starting in the end padding
    if (ceil_mode && room % stride != 0 && count * stride < extent + pad_begin) ++count;
    return count;
}

Windows windows_over(std::int64_t h, std::int64_t w, const WindowSpec& spec, bool ceil_mode,
                     std::string_view op) {
    const auto& [k, s, d, begin, end] = spec;
    return {k.h,
            k.w,
            s.h,
            s.w,
            d.h,
            d.w,
            begin.h,
            begin.w,
            window_count(h, k.h, s.h, d.h, begin.h, end.h, ceil_mode, op),
            window_count(w, k.w, s.w, d.w, begin.w, end.w, ceil_mode, op)};
}

void check_fits(const Shape& shape, Dtype dtype, std::string_view op) {
    std::uint64_t bytes = dtype_size(dtype);
    bool overflow = false;
    for (const auto e : shape) {
        overflow = overflow || e < 0 ||
                   __builtin_mul_overflow(bytes, static_cast<std::uint64_t>(e), &bytes);
    }
    if (overflow || bytes > memory_bytes()) {
        throw ShapeError(fmt::format("{}: a {} {} tensor is larger than the memory of this machine",
                                     op, shape_str(shape), dtype_name(dtype)));
    }
}

void check_same_floating(const Tensor& a, const Tensor& b, std::string_view op,
                         std::string_view a_name, std::string_view b_name) {
    if (!b.defined()) throw Error(fmt::format("{}: the {} is undefined", op, b_name));
    if (a.dtype() != b.dtype()) {
        throw DtypeError(fmt::format("{}: the {} is {} but the {} is {}; convert one with .to()",
                                     op, a_name, dtype_name(a.dtype()), b_name,
                                     dtype_name(b.dtype())));
    }
}

}  // namespace detail
}  // namespace descent
