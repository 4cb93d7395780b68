#pragma once
// Row copies along one dim, which selection (slice, index_select) and reordering (flip, roll)
// share: the rows of x, viewed as [outer, extent, inner], picked in any order.

#include <algorithm>
#include <cstdint>

#include "kernels.hpp"

namespace descent::kernel {

/// y[.., k, ..] = x[.., row(k), ..] along dim for k < count: rows copied as contiguous blocks.
template <class Row>
Tensor gather_rows(const Tensor& x, std::int64_t dim, std::int64_t count, Row row) {
    Shape shape = x.shape();
    shape[dim] = count;
    Tensor y = empty(shape, x.dtype());
    if (y.numel() == 0) return y;  // (the extent along dim may still be huge)
    const Blocks b = blocks_around(x.shape(), dim);
    dispatch_any(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* src = static_cast<const T*>(x.raw_data());
        T* dst = elements<T>(y);
        for (std::int64_t o = 0; o < b.outer; ++o) {
            if (b.inner == 1) {  // single elements (the last dim): no copy call per element
                for (std::int64_t k = 0; k < count; ++k) {
                    dst[o * count + k] = src[o * b.extent + row(k)];
                }
                continue;
            }
            for (std::int64_t k = 0; k < count; ++k) {
                std::copy_n(src + (o * b.extent + row(k)) * b.inner, b.inner,
                            dst + (o * count + k) * b.inner);
            }
        }
    });
    return y;
}

}  // namespace descent::kernel
