// The reduction kernel behind sum, amax and amin. Adjacent reduced dims are merged, so a full
// reduction is one pass over contiguous memory. Floating sums accumulate in double whatever the
// dtype: a float32 sum of 10⁷ elements is then as accurate as the float64 sum rounded once (a
// float accumulator drifts by ~10% there). Sixteen independent partial sums keep the loop
// vectorized without reassociating it. int64 sums are exact and wrap around on overflow, as
// torch's (accumulated in std::uint64_t, where overflow is defined). max and min propagate NaN,
// as torch does.

#include "reduce_kernel.hpp"

#include <fmt/format.h>

#include <Eigen/Core>

#include <algorithm>
#include <vector>

#include "tensor_impl.hpp"

namespace descent::kernel {
namespace {

/// Σ p[0..n) for n ≤ kBlock, in sixteen independent partial sums (vectorized, no
/// reassociation needed), combined pairwise.
constexpr std::int64_t kBlock = 4096;
template <class T>
double sum_block(const T* p, std::int64_t n) {
    constexpr int kLanes = 16;
    double lane[kLanes] = {};
    std::int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (int j = 0; j < kLanes; ++j) lane[j] += static_cast<double>(p[i + j]);
    }
    for (int j = 0; i < n; ++i, ++j) lane[j] += static_cast<double>(p[i]);
    for (int width = kLanes / 2; width > 0; width /= 2) {  // lane[j] += lane[j + width]
        for (int j = 0; j < width; ++j) lane[j] += lane[j + width];
    }
    return lane[0];
}

/// Σ p[0..n): block sums added pairwise, as a binary counter adds (numpy's pairwise sum), so
/// the rounding error grows with log n: float64 sums of 10⁷ elements stay within ~1e-14.
template <class T>
double sum_run(const T* p, std::int64_t n) {
    if (n <= kBlock) return sum_block(p, n);
    double level[64];  // level[k]: the sum of 2^k blocks, while bit k of `blocks` is set
    std::uint64_t blocks = 0;
    for (std::int64_t start = 0; start < n; start += kBlock) {
        double s = sum_block(p + start, std::min(kBlock, n - start));
        int k = 0;
        for (; blocks & (std::uint64_t{1} << k); ++k) s += level[k];
        level[k] = s;
        ++blocks;
    }
    double total = 0.0;
    for (int k = 0; blocks >> k; ++k) {
        if (blocks & (std::uint64_t{1} << k)) total += level[k];
    }
    return total;
}

/// acc[i] = Σ_k rows[k·inner + i] for i < inner.
template <class T>
void sum_columns(const T* rows, std::int64_t extent, std::int64_t inner, double* acc) {
    std::fill_n(acc, inner, 0.0);
    for (std::int64_t k = 0; k < extent; ++k) {
        const T* row = rows + k * inner;
        for (std::int64_t i = 0; i < inner; ++i) acc[i] += static_cast<double>(row[i]);
    }
}

/// Σ p[0..n) of int64 in two's complement, and acc[i] = Σ_k rows[k·inner + i] likewise.
std::int64_t wrapping_sum(const std::int64_t* p, std::int64_t n) {
    std::uint64_t s = 0;
    for (std::int64_t i = 0; i < n; ++i) s += static_cast<std::uint64_t>(p[i]);
    return static_cast<std::int64_t>(s);
}
void wrapping_sum_columns(const std::int64_t* rows, std::int64_t extent, std::int64_t inner,
                          std::uint64_t* acc) {
    std::fill_n(acc, inner, std::uint64_t{0});
    for (std::int64_t k = 0; k < extent; ++k) {
        const std::int64_t* row = rows + k * inner;
        for (std::int64_t i = 0; i < inner; ++i) acc[i] += static_cast<std::uint64_t>(row[i]);
    }
}

template <class T>
T extreme_run(const T* p, std::int64_t n, bool largest) {
    const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> a(p, n);
    return largest ? a.template maxCoeff<Eigen::PropagateNaN>()
                   : a.template minCoeff<Eigen::PropagateNaN>();
}

template <class T>
void extreme_columns(const T* rows, std::int64_t extent, std::int64_t inner, bool largest, T* dst) {
    using Row = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
    using ConstRow = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
    Row d(dst, inner);
    d = ConstRow(rows, inner);
    for (std::int64_t k = 1; k < extent; ++k) {
        const ConstRow row(rows + k * inner, inner);
        if (largest) {
            d = nan_max(d, row);
        } else {
            d = nan_min(d, row);
        }
    }
}

/// The sums over [outer, extent, inner] blocks: src → dst of [outer, inner].
template <class T>
void sum_blocks(const T* src, Blocks b, T* dst) {
    constexpr std::int64_t kInline = 512;  // column sums of up to this width need no heap
    double inline_acc[kInline];
    std::vector<double> heap_acc(b.inner > kInline ? b.inner : 0);
    double* acc = b.inner > kInline ? heap_acc.data() : inline_acc;
    for (std::int64_t o = 0; o < b.outer; ++o) {
        const T* block = src + o * b.extent * b.inner;
        T* out = dst + o * b.inner;
        if (b.inner == 1) {
            out[0] = static_cast<T>(sum_run(block, b.extent));
        } else {
            sum_columns(block, b.extent, b.inner, acc);
            std::transform(acc, acc + b.inner, out, [](double v) { return T(v); });
        }
    }
}
void sum_blocks(const std::int64_t* src, Blocks b, std::int64_t* dst) {
    std::vector<std::uint64_t> acc(b.inner > 1 ? b.inner : 0);
    for (std::int64_t o = 0; o < b.outer; ++o) {
        const std::int64_t* block = src + o * b.extent * b.inner;
        std::int64_t* out = dst + o * b.inner;
        if (b.inner == 1) {
            out[0] = wrapping_sum(block, b.extent);
        } else {
            wrapping_sum_columns(block, b.extent, b.inner, acc.data());
            std::transform(acc.begin(), acc.end(), out,
                           [](std::uint64_t v) { return static_cast<std::int64_t>(v); });
        }
    }
}

/// The maxima or minima over [outer, extent, inner] blocks: src → dst of [outer, inner].
template <class T>
void extreme_blocks(const T* src, Blocks b, bool largest, T* dst) {
    for (std::int64_t o = 0; o < b.outer; ++o) {
        const T* block = src + o * b.extent * b.inner;
        T* out = dst + o * b.inner;
        if (b.inner == 1) {
            out[0] = extreme_run(block, b.extent, largest);
        } else {
            extreme_columns(block, b.extent, b.inner, largest, out);
        }
    }
}

struct Group {
    std::int64_t extent;
    bool reduced;
};

/// The shape as runs of adjacent dims that are all reduced or all kept (size-1 dims dropped).
std::vector<Group> coalesce(const Shape& shape, const Dims& dims) {
    std::vector<Group> groups;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        const bool reduced = std::binary_search(dims.begin(), dims.end(), std::int64_t(d));
        if (!groups.empty() && groups.back().reduced == reduced) {
            groups.back().extent *= shape[d];  // a sub-product of a valid shape: no overflow
        } else {
            groups.push_back({shape[d], reduced});
        }
    }
    return groups;
}

/// Calls f(T{}) with T = float, double or std::int64_t; bool is a DtypeError naming op.
template <class F>
void dispatch_reducible(Dtype dtype, std::string_view op, F&& f) {
    if (dtype == Dtype::int64) {
        f(std::int64_t{});
    } else {
        dispatch_floating(dtype, op, f);
    }
}

}  // namespace

Tensor reduce(const Tensor& x, const Dims& dims, Reduction kind, std::string_view op) {
    dispatch_reducible(x.dtype(), op, [](auto) {});
    Shape kept = x.shape();
    for (const auto d : dims) {
        if (kind != Reduction::sum && kept[d] == 0) {
            throw ShapeError(fmt::format("{}: cannot reduce over dim {} of size 0 in {}", op, d,
                                         shape_str(x.shape())));
        }
        kept[d] = 1;
    }
    if (x.numel() == 0) return zeros(kept, {.dtype = x.dtype()});
    std::vector<Group> groups = coalesce(x.shape(), dims);
    Tensor cur = x;
    for (std::size_t g = groups.size(); g-- > 0;) {
        if (!groups[g].reduced) continue;
        Blocks b{1, groups[g].extent, 1};
        for (std::size_t h = 0; h < g; ++h) b.outer *= groups[h].extent;
        for (std::size_t h = g + 1; h < groups.size(); ++h) b.inner *= groups[h].extent;
        Tensor next = empty({b.outer * b.inner}, x.dtype(), op);
        dispatch_reducible(x.dtype(), op, [&](auto tag) {
            using T = decltype(tag);
            const T* src = static_cast<const T*>(cur.raw_data());
            if (kind == Reduction::sum) {
                sum_blocks(src, b, elements<T>(next));
            } else {
                extreme_blocks(src, b, kind == Reduction::max, elements<T>(next));
            }
        });
        groups[g].extent = 1;
        cur = next;
    }
    return alias(cur.is_same(x) ? x.detach().clone() : cur, kept);
}

}  // namespace descent::kernel
