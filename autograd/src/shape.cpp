#include "descent/shape.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "descent/error.hpp"
#include "same_shape.hpp"
#include "spare_shapes.hpp"

namespace descent {

std::int64_t checked_numel(const Shape& shape, std::string_view op) {
    std::int64_t numel = 1, span = 1;  // span: the product of the non-zero extents
    for (const auto extent : shape) {
        if (extent < 0) {
            throw ShapeError(
                fmt::format("{}: negative extent {} in shape {}", op, extent, shape_str(shape)));
        }
        if (extent != 0 && __builtin_mul_overflow(span, extent, &span)) {
            throw ShapeError(
                fmt::format("{}: shape {} is too large: its extents multiply past 2^63 - 1", op,
                            shape_str(shape)));
        }
        numel *= extent;  // numel ≤ span: no overflow
    }
    return numel;
}

std::int64_t numel_of(const Shape& shape) {
    return checked_numel(shape, "numel");
}

std::string shape_str(const Shape& shape) {
    std::string out = "[";
    out += joined(shape, ",");
    out += ']';
    return out;
}

std::int64_t wrap_dim(std::int64_t dim, std::int64_t rank, std::string_view op) {
    const std::int64_t wrapped = dim < 0 ? dim + rank : dim;
    if (wrapped < 0 || wrapped >= rank) {
        throw IndexError(
            fmt::format("{}: dim {} out of range for a tensor of rank {}", op, dim, rank));
    }
    return wrapped;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op) {
    if (same_shape(a, b)) return spare_shapes::copy(a);
    const std::size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        const std::int64_t ea = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const std::int64_t eb = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (ea != eb && ea != 1 && eb != 1) {
            throw ShapeError(fmt::format("{}: shapes {} and {} cannot be broadcast together", op,
                                         shape_str(a), shape_str(b)));
        }
        out[i] = ea == 1 ? eb : ea;
    }
    // a new shape (not one of the two, which tensors already hold) could overflow
    if (out != a && out != b) checked_numel(out, op);
    return out;
}

namespace {
template <class T, class Spell>
std::string join_with(const std::vector<T>& items, std::string_view separator, Spell spell) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += separator;
        out += spell(items[i]);
    }
    return out;
}
}  // namespace

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
    return join_with(items, separator,
                     [](const std::string& s) -> const std::string& { return s; });
}

std::string joined(const std::vector<std::int64_t>& items, std::string_view separator) {
    return join_with(items, separator, [](std::int64_t v) { return std::to_string(v); });
}

}  // namespace descent
