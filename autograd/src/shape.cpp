#include "descent/shape.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "descent/error.hpp"

namespace descent {

std::int64_t numel_of(const Shape& shape) {
    std::int64_t n = 1;
    for (const auto extent : shape) n *= extent;
    return n;
}

std::string shape_str(const Shape& shape) {
    return fmt::format("[{}]", fmt::join(shape, ","));
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
    return out;
}

}  // namespace descent
