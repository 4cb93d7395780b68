#pragma once
// Primitives that only appear inside other ops' backward formulas (and in the op table).

#include <cstdint>

#include "descent/tensor.hpp"

namespace descent::detail {

/// op(a)·op(b) over the last two dims, op = transpose where asked; batch dims broadcast.
Tensor matmul_t(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
/// Zeros of `shape` with g placed at the slice (dim, start, step): the adjoint of slice.
Tensor slice_backward(const Tensor& g, const Shape& shape, std::int64_t dim, std::int64_t start,
                      std::int64_t step);
/// Zeros of `shape` with the rows of g added at `index` along dim: the adjoint of index_select.
Tensor index_add(const Tensor& g, const Shape& shape, std::int64_t dim, const Tensor& index);
/// Zeros of `shape` with g added at `index` along dim: the adjoint of gather.
Tensor scatter_add(const Tensor& g, const Shape& shape, std::int64_t dim, const Tensor& index);

}  // namespace descent::detail
