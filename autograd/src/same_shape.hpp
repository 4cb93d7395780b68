#pragma once
// Shape equality on the hot paths, written out: a shape has a few extents, and std::vector's ==
// calls memcmp, a library call per comparison (6 % of a 1-element op's time, perf).

#include <cstddef>
#include <cstdint>

#include "descent/shape.hpp"

namespace descent {

/// a[0], ..., a[rank − 1] equal b's, extent by extent.
inline bool same_extents(const std::int64_t* a, const std::int64_t* b, std::size_t rank) {
    for (std::size_t i = 0; i < rank; ++i) {
        if (a[i] != b[i]) return false;
    }
    return true;
}

inline bool same_shape(const Shape& a, const Shape& b) {
    return a.size() == b.size() && same_extents(a.data(), b.data(), a.size());
}

}  // namespace descent
