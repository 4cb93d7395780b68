#pragma once
// Shape vectors left behind by dead tensors, kept per thread for the next ones. A training step
// makes and drops the same few small shapes by the dozen; giving a new tensor the buffer of a
// dead one saves a malloc and a free each time. Under AddressSanitizer nothing is kept
// (pool::kRecycling), so every shape vector is still checked.

#include <cstddef>
#include <cstdint>

#include "descent/shape.hpp"

namespace descent::spare_shapes {

/// The extents first[0], ..., first[rank − 1] as a Shape, in a spare vector when this thread
/// has one.
Shape copy(const std::int64_t* first, std::size_t rank);
inline Shape copy(const Shape& shape) {
    return copy(shape.data(), shape.size());
}
/// Keeps a dying tensor's shape vector for a later copy(), when it is small and there is room.
void keep(Shape&& shape) noexcept;

}  // namespace descent::spare_shapes
