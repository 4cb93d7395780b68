// Selecting and joining: slice, index_select, gather, concat (and stack/split built on them).
// Each selection's backward is its adjoint, a scatter into zeros (slice_backward, index_add,
// scatter_add), whose own backward is the selection again.

#include <fmt/format.h>

#include <cstring>

#include "descent/ops.hpp"
#include "descent/threads.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "ops_internal.hpp"
#include "row_copy.hpp"

namespace descent {
namespace {
using kernel::Blocks;

void check_index_tensor(const Tensor& index, std::string_view op) {
    if (index.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format("{}: the index must be int64, got {} of shape {}", op,
                                     dtype_name(index.dtype()), shape_str(index.shape())));
    }
}

/// The index values, each checked against the extent it indexes.
const std::int64_t* checked_indices(const Tensor& index, std::int64_t extent, std::int64_t dim,
                                    const Shape& shape, std::string_view op) {
    const auto* idx = index.data<std::int64_t>();
    const std::int64_t n = index.numel();
    bool outside = false;  // one pass without branches (negative values wrap to huge ones)
    for (std::int64_t i = 0; i < n; ++i) {
        outside |= static_cast<std::uint64_t>(idx[i]) >= static_cast<std::uint64_t>(extent);
    }
    for (std::int64_t i = 0; outside && i < n; ++i) {
        if (idx[i] < 0 || idx[i] >= extent) {
            throw IndexError(fmt::format("{}: index {} out of range for dim {} of size {} in {}",
                                         op, idx[i], dim, extent, shape_str(shape)));
        }
    }
    return idx;
}

/// Calls f(position in index, offset in the indexed tensor) for every element of a gather.
template <class F>
void for_each_gathered(const Shape& index_shape, const Shape& x_shape, std::int64_t dim,
                       const std::int64_t* idx, F&& f) {
    const std::size_t rank = index_shape.size();
    bool spans = rank > 0;  // the index covers x in every other dim: x as [outer, extent, inner]
    for (std::size_t d = 0; d < rank; ++d) {
        spans = spans && (static_cast<std::int64_t>(d) == dim || index_shape[d] == x_shape[d]);
    }
    if (spans) {
        const kernel::Blocks b = kernel::blocks_around(x_shape, dim);
        const std::int64_t count = index_shape[static_cast<std::size_t>(dim)];
        // each outer block reads and writes its own elements, so the blocks can run in parallel
        parallel_for_elements(b.outer, b.outer * count * b.inner, [&](std::int64_t o) {
            std::int64_t p = o * count * b.inner;
            for (std::int64_t k = 0; k < count; ++k) {
                for (std::int64_t i = 0; i < b.inner; ++i, ++p) {
                    f(p, (o * b.extent + idx[p]) * b.inner + i);
                }
            }
        });
        return;
    }
    std::vector<std::int64_t> x_strides(rank, 1);
    for (std::size_t d = rank - 1; d-- > 0;) x_strides[d] = x_strides[d + 1] * x_shape[d + 1];
    std::vector<std::int64_t> pos(rank, 0);
    const std::int64_t total = numel_of(index_shape);
    for (std::int64_t p = 0; p < total; ++p) {
        std::int64_t offset = 0;
        for (std::size_t d = 0; d < rank; ++d) {
            offset += (static_cast<std::int64_t>(d) == dim ? idx[p] : pos[d]) * x_strides[d];
        }
        f(p, offset);
        for (std::size_t d = rank; d-- > 0;) {
            if (++pos[d] < index_shape[d]) break;
            pos[d] = 0;
        }
    }
}

void check_gather_shapes(const Tensor& x, std::int64_t dim, const Tensor& index,
                         std::string_view op) {
    check_index_tensor(index, op);
    bool fits = index.dim() == x.dim();
    for (std::int64_t d = 0; fits && d < x.dim(); ++d) {
        fits = d == dim || index.size(d) <= x.size(d);
    }
    if (!fits) {
        throw ShapeError(fmt::format("{}: index {} does not fit {} along dim {}", op,
                                     shape_str(index.shape()), shape_str(x.shape()), dim));
    }
}
/// The adjoint of gather_rows: zeros of `shape` with g's rows added at row(k) along dim.
template <class Row>
Tensor scatter_rows(const Tensor& g, const Shape& shape, std::int64_t dim, Row row,
                    std::string_view op) {
    Tensor out = zeros(shape, {.dtype = g.dtype()});
    const Blocks b = kernel::blocks_around(shape, dim);
    const std::int64_t count = g.size(dim);
    kernel::dispatch_floating(g.dtype(), op, [&](auto tag) {
        using T = decltype(tag);
        const T* src = static_cast<const T*>(g.raw_data());
        T* dst = elements<T>(out);
        for (std::int64_t o = 0; o < b.outer; ++o) {
            for (std::int64_t k = 0; k < count; ++k) {
                T* to = dst + (o * b.extent + row(k)) * b.inner;
                const T* from = src + (o * count + k) * b.inner;
                for (std::int64_t i = 0; i < b.inner; ++i) to[i] += from[i];
            }
        }
    });
    return out;
}
}  // namespace

Tensor slice(const Tensor& x, std::int64_t dim_in, std::int64_t start_in, std::int64_t end_in,
             std::int64_t step) {
    const std::int64_t dim = wrap_dim(dim_in, x.dim(), "slice");
    const std::int64_t extent = x.size(dim);
    const std::int64_t start = start_in < 0 ? start_in + extent : start_in;
    const std::int64_t end = end_in < 0 ? end_in + extent : end_in;
    if (step < 1 || start < 0 || end > extent || start > end) {
        throw IndexError(fmt::format("slice: [{}:{}:{}] out of range for dim {} of size {} in {}",
                                     start_in, end_in, step, dim, extent, shape_str(x.shape())));
    }
    const std::int64_t count = end > start ? (end - start - 1) / step + 1 : 0;  // no overflow
    Tensor y = kernel::gather_rows(x, dim, count, [=](std::int64_t k) { return start + k * step; });
    return record(Op::slice, {x}, std::move(y), {},
                  [dim, start, step](const BackwardContext& c, const Tensor& g) {
                      return Grads{detail::slice_backward(g, c.input_shape(0), dim, start, step)};
                  });
}

Tensor index_select(const Tensor& x, std::int64_t dim_in, const Tensor& index) {
    const std::int64_t dim = wrap_dim(dim_in, x.dim(), "index_select");
    check_index_tensor(index, "index_select");
    if (index.dim() != 1) {
        throw ShapeError(
            fmt::format("index_select: the index must be 1-D, got {}", shape_str(index.shape())));
    }
    const std::int64_t extent = x.size(dim), n = index.numel();
    const auto* idx = checked_indices(index, extent, dim, x.shape(), "index_select");
    Tensor y = kernel::gather_rows(x, dim, n, [idx](std::int64_t k) { return idx[k]; });
    return record(Op::index_select, {x}, std::move(y), {index},
                  [dim](const BackwardContext& c, const Tensor& g) {
                      return Grads{detail::index_add(g, c.input_shape(0), dim, c.saved(0))};
                  });
}

Tensor gather(const Tensor& x, std::int64_t dim_in, const Tensor& index) {
    const std::int64_t dim = wrap_dim(dim_in, x.dim(), "gather");
    check_gather_shapes(x, dim, index, "gather");
    const auto* idx = checked_indices(index, x.size(dim), dim, x.shape(), "gather");
    Tensor y = empty(index.shape(), x.dtype());
    kernel::dispatch_any(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* src = static_cast<const T*>(x.raw_data());
        T* dst = elements<T>(y);
        for_each_gathered(index.shape(), x.shape(), dim, idx,
                          [&](std::int64_t p, std::int64_t offset) { dst[p] = src[offset]; });
    });
    return record(Op::gather, {x}, std::move(y), {index},
                  [dim](const BackwardContext& c, const Tensor& g) {
                      return Grads{detail::scatter_add(g, c.input_shape(0), dim, c.saved(0))};
                  });
}

namespace detail {

Tensor slice_backward(const Tensor& g, const Shape& shape, std::int64_t dim, std::int64_t start,
                      std::int64_t step) {
    Tensor out = scatter_rows(
        g, shape, dim, [=](std::int64_t k) { return start + k * step; }, "slice_backward");
    const std::int64_t count = g.size(dim);
    const std::int64_t end = count == 0 ? start : start + (count - 1) * step + 1;
    return record(Op::slice_backward, {g}, std::move(out), {},
                  [dim, start, end, step](const BackwardContext&, const Tensor& gg) {
                      return Grads{slice(gg, dim, start, end, step)};
                  });
}

Tensor index_add(const Tensor& g, const Shape& shape, std::int64_t dim, const Tensor& index) {
    const auto* idx = checked_indices(index, shape[dim], dim, shape, "index_add");
    Tensor out = scatter_rows(
        g, shape, dim, [idx](std::int64_t k) { return idx[k]; }, "index_add");
    return record(Op::index_add, {g}, std::move(out), {index},
                  [dim](const BackwardContext& c, const Tensor& gg) {
                      return Grads{index_select(gg, dim, c.saved(0))};
                  });
}

Tensor scatter_add(const Tensor& g, const Shape& shape, std::int64_t dim, const Tensor& index) {
    Tensor out = zeros(shape, {.dtype = g.dtype()});
    check_gather_shapes(out, dim, index, "scatter_add");
    const auto* idx = checked_indices(index, shape[dim], dim, shape, "scatter_add");
    kernel::dispatch_floating(g.dtype(), "scatter_add", [&](auto tag) {
        using T = decltype(tag);
        const T* src = static_cast<const T*>(g.raw_data());
        T* dst = elements<T>(out);
        for_each_gathered(index.shape(), shape, dim, idx,
                          [&](std::int64_t p, std::int64_t offset) { dst[offset] += src[p]; });
    });
    return record(Op::scatter_add, {g}, std::move(out), {index},
                  [dim](const BackwardContext& c, const Tensor& gg) {
                      return Grads{gather(gg, dim, c.saved(0))};
                  });
}

}  // namespace detail

Tensor concat(const std::vector<Tensor>& tensors, std::int64_t dim_in) {
    if (tensors.empty()) throw ShapeError("concat: needs at least one tensor");
    const Tensor& first = tensors.front();
    const std::int64_t dim = wrap_dim(dim_in, first.dim(), "concat");
    Shape shape = first.shape();
    shape[dim] = 0;
    std::vector<std::int64_t> extents;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i];
        kernel::check_same_dtype(first, t, "concat");
        bool fits = t.dim() == first.dim();
        for (std::int64_t d = 0; fits && d < t.dim(); ++d)
            fits = d == dim || t.size(d) == first.size(d);
        if (!fits) {
            throw ShapeError(
                fmt::format("concat: tensor {} has shape {}, which does not fit {} "
                            "along dim {}",
                            i, shape_str(t.shape()), shape_str(first.shape()), dim));
        }
        extents.push_back(t.size(dim));
        if (__builtin_add_overflow(shape[dim], t.size(dim), &shape[dim])) {
            throw ShapeError(
                fmt::format("concat: the extents along dim {} add up past 2^63 - 1", dim));
        }
    }
    checked_numel(shape, "concat");
    Tensor y = empty(shape, first.dtype());
    const Blocks b = kernel::blocks_around(shape, dim);
    kernel::dispatch_any(y.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T* dst = elements<T>(y);
        for (std::int64_t o = 0; o < b.outer; ++o) {
            for (std::size_t i = 0; i < tensors.size(); ++i) {
                const std::int64_t run = extents[i] * b.inner;
                std::copy_n(static_cast<const T*>(tensors[i].raw_data()) + o * run, run, dst);
                dst += run;
            }
        }
    });
    return record(Op::concat, tensors, y, {},
                  [dim, extents](const BackwardContext&, const Tensor& g) {
                      Grads grads;
                      std::int64_t offset = 0;
                      for (const auto e : extents) {
                          grads.push_back(slice(g, dim, offset, offset + e));
                          offset += e;
                      }
                      return grads;
                  });
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim_in) {
    if (tensors.empty()) throw ShapeError("stack: needs at least one tensor");
    const std::int64_t dim = wrap_dim(dim_in, tensors[0].dim() + 1, "stack");
    std::vector<Tensor> parts;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        if (tensors[i].shape() != tensors[0].shape()) {
            throw ShapeError(fmt::format("stack: tensor 0 has shape {} but tensor {} has shape {}",
                                         shape_str(tensors[0].shape()), i,
                                         shape_str(tensors[i].shape())));
        }
        kernel::check_same_dtype(tensors[0], tensors[i], "stack");
        parts.push_back(unsqueeze(tensors[i], dim));
    }
    return concat(parts, dim);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes,
                          std::int64_t dim_in) {
    const std::int64_t dim = wrap_dim(dim_in, x.dim(), "split");
    std::int64_t total = 0;
    for (const auto s : sizes) {
        if (s < 0 || __builtin_add_overflow(total, s, &total)) {
            throw ShapeError(fmt::format("split: sizes [{}] must be non-negative and add up to {}",
                                         joined(sizes, ","), x.size(dim)));
        }
    }
    if (total != x.size(dim)) {
        throw ShapeError(
            fmt::format("split: sizes [{}] do not add up to {}, the extent of dim {} "
                        "of {}",
                        joined(sizes, ","), x.size(dim), dim, shape_str(x.shape())));
    }
    std::vector<Tensor> pieces;
    std::int64_t offset = 0;
    for (const auto s : sizes) {
        pieces.push_back(slice(x, dim, offset, offset + s));
        offset += s;
    }
    return pieces;
}

std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim_in) {
    const std::int64_t dim = wrap_dim(dim_in, x.dim(), "split");
    if (split_size < 1) {
        throw ShapeError(fmt::format("split: split_size must be positive, got {}", split_size));
    }
    // every piece is a tensor of its own (a few hundred bytes even when empty): refuse a count
    // that could never fit instead of looping towards it
    const std::int64_t extent = x.size(dim),
                       pieces = extent / split_size + (extent % split_size != 0);
    if (static_cast<std::uint64_t>(pieces) > memory_bytes() / 256) {
        throw ShapeError(
            fmt::format("split: {} pieces of size {} along dim {} of {} do not fit "
                        "in memory",
                        pieces, split_size, dim, shape_str(x.shape())));
    }
    std::vector<std::int64_t> sizes;
    for (std::int64_t left = extent; left > 0; left -= split_size) {
        sizes.push_back(std::min(split_size, left));
    }
    return split(x, sizes, dim);
}

}  // namespace descent
