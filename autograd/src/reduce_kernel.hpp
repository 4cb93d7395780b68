#pragma once
// The reduction kernel behind the sum, amax and amin primitives.

#include <string_view>

#include "kernels.hpp"

namespace descent::kernel {

enum class Reduction { sum, max, min };

/// x (float32, float64 or int64) reduced over `dims` (sorted, distinct, non-negative), the
/// reduced dims kept as size 1. Floating sums accumulate in double, int64 sums wrap around; max
/// and min propagate NaN and refuse an empty reduced dim.
Tensor reduce(const Tensor& x, const Dims& dims, Reduction kind, std::string_view op);

}  // namespace descent::kernel
