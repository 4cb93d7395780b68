// Ordering along a dim: sort, argsort, topk. A kernel finds the int64 positions of the ordered
// elements (no gradient); the values are gather(x, dim, indices), so the gradient flows back
// through gather's adjoint, a scatter_add of the indices.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "descent/ops.hpp"
#include "kernels.hpp"

namespace descent {
namespace {
using kernel::Blocks;

template <class T>
bool is_nan(T v) {
    if constexpr (std::is_floating_point_v<T>) {
        return std::isnan(v);
    } else {
        return false;
    }
}

/// A strict total order of the positions of one slice: by value, NaN the largest (ascending
/// puts it last, descending first), ties by position — the order of a stable sort.
template <class T>
struct ByValue {
    const T* slice;
    std::int64_t step;
    bool descending;

    bool operator()(std::int64_t a, std::int64_t b) const {
        const T u = slice[a * step], v = slice[b * step];
        if (comes_before(u, v)) return true;
        if (comes_before(v, u)) return false;
        return a < b;
    }
    bool comes_before(T u, T v) const {
        if (descending) return !is_nan(v) && (is_nan(u) || u > v);
        return !is_nan(u) && (is_nan(v) || u < v);
    }
};

/// The positions along dim of the first `count` elements of each slice in the order above; with
/// `by_position` those count positions are then listed in increasing order.
Tensor ordered_positions(const Tensor& x, std::int64_t dim, std::int64_t count, bool descending,
                         bool by_position) {
    Shape shape = x.shape();
    shape[dim] = count;
    Tensor indices = empty(shape, Dtype::int64);
    if (indices.numel() == 0) return indices;  // (x's extent along dim may still be huge)
    const Blocks b = kernel::blocks_around(x.shape(), dim);
    std::vector<std::int64_t> order(static_cast<std::size_t>(b.extent));
    kernel::dispatch_any(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        auto* out = elements<std::int64_t>(indices);
        for (std::int64_t o = 0; o < b.outer; ++o) {
            for (std::int64_t i = 0; i < b.inner; ++i) {
                const T* slice = static_cast<const T*>(x.raw_data()) + o * b.extent * b.inner + i;
                std::iota(order.begin(), order.end(), std::int64_t{0});
                std::partial_sort(order.begin(), order.begin() + count, order.end(),
                                  ByValue<T>{slice, b.inner, descending});
                if (by_position) std::sort(order.begin(), order.begin() + count);
                for (std::int64_t k = 0; k < count; ++k) {
                    out[(o * count + k) * b.inner + i] = order[static_cast<std::size_t>(k)];
                }
            }
        }
    });
    return indices;
}

/// The first `count` ordered elements along dim and their positions. A 0-d x is its own
/// order: a copy and position 0 (any count up to 1, as torch).
ValuesIndices first_ordered(const Tensor& x, std::int64_t dim_in, std::optional<std::int64_t> k,
                            bool descending, bool by_position, std::string_view op) {
    kernel::check_defined(x, op);
    const std::int64_t dim = wrap_dim(dim_in, std::max<std::int64_t>(x.dim(), 1), op);
    const std::int64_t extent = x.dim() == 0 ? 1 : x.size(dim);
    const std::int64_t count = k.value_or(extent);
    if (count < 0 || count > extent) {
        throw IndexError(fmt::format("{}: k = {} is out of range for dim {} of size {} in {}", op,
                                     count, dim, extent, shape_str(x.shape())));
    }
    if (x.dim() == 0) return {x.clone(), zeros({}, {.dtype = Dtype::int64})};
    Tensor indices = ordered_positions(x, dim, count, descending, by_position);
    return {gather(x, dim, indices), indices};
}
}  // namespace

ValuesIndices sort(const Tensor& x, std::int64_t dim, bool descending) {
    // y = x in order along dim = gather(x, dim, i);  ∂x = scatter_add(g, i)
    return first_ordered(x, dim, std::nullopt, descending, false, "sort");
}

Tensor argsort(const Tensor& x, std::int64_t dim_in, bool descending) {
    kernel::check_defined(x, "argsort");
    const std::int64_t dim = wrap_dim(dim_in, std::max<std::int64_t>(x.dim(), 1), "argsort");
    if (x.dim() == 0) return zeros({}, {.dtype = Dtype::int64});
    return ordered_positions(x, dim, x.size(dim), descending, false);
}

ValuesIndices topk(const Tensor& x, std::int64_t k, std::int64_t dim, bool largest, bool sorted) {
    // y = the first k of x ordered along dim = gather(x, dim, i);  ∂x = scatter_add(g, i)
    return first_ordered(x, dim, k, largest, !sorted, "topk");
}

}  // namespace descent
