#pragma once
// Shapes are plain vectors of extents; helpers for element counts, negative dims and printing
// (shapes, and the lists messages name).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace descent {

using Shape = std::vector<std::int64_t>;

/// The element count of a shape that `op` is about to make or reinterpret: every extent ≥ 0
/// and the product of the non-zero extents (which bounds every stride) within int64;
/// otherwise a ShapeError naming op and the shape. 1 for the 0-d shape [].
std::int64_t checked_numel(const Shape& shape, std::string_view op);
/// checked_numel(shape, "numel").
std::int64_t numel_of(const Shape& shape);

/// "[3,4]" — the spelling every error message uses.
std::string shape_str(const Shape& shape);

/// The items with `separator` between them ("a, b, c"), as messages list names and extents.
std::string joined(const std::vector<std::string>& items, std::string_view separator);
std::string joined(const std::vector<std::int64_t>& items, std::string_view separator);

/// Maps a possibly negative dim into [0, rank); throws IndexError naming `op` otherwise.
std::int64_t wrap_dim(std::int64_t dim, std::int64_t rank, std::string_view op);

/// NumPy broadcasting of two shapes; throws ShapeError naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op);

}  // namespace descent
