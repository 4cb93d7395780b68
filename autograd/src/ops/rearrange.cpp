// Rearranging elements: flip and roll (primitives reordering rows along dims, each the other's
// own adjoint), masked_fill (a primitive) with triu and tril built on it, and repeat and tile
// (a reshape, an expand and a reshape, whose backward sums the copies back).

#include <fmt/format.h>

#include <algorithm>

#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "row_copy.hpp"

namespace descent {
namespace {

/// The dims wrapped into [0, rank), each at most once (a 0-d tensor takes 0 and −1 and has
/// no dim to act on).
Dims distinct_dims(const Dims& dims, const Tensor& x, std::string_view op) {
    Dims out;
    for (const auto d : dims) out.push_back(wrap_dim(d, std::max<std::int64_t>(x.dim(), 1), op));
    Dims sorted = out;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
        throw IndexError(fmt::format("{}: a dim appears twice in [{}]", op, joined(dims, ",")));
    }
    if (x.dim() == 0) out.clear();
    return out;
}

/// Rows [0, rows) × columns [0, cols) of the last two dims outside the band triu/tril keeps:
/// column − row < diagonal for triu, > diagonal for tril. A single false for an empty x.
Tensor outside_band(const Tensor& x, std::int64_t diagonal, bool upper, std::string_view op) {
    kernel::check_defined(x, op);
    if (x.dim() < 2) {
        throw ShapeError(
            fmt::format("{}: needs a tensor of at least 2 dims, got {}", op, shape_str(x.shape())));
    }
    if (x.numel() == 0) return zeros({}, {.dtype = Dtype::boolean});
    const std::int64_t rows = x.size(-2), cols = x.size(-1);
    Tensor mask = empty({rows, cols}, Dtype::boolean);
    bool* m = elements<bool>(mask);
    for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t c = 0; c < cols; ++c) {
            m[r * cols + c] = upper ? (c - r < diagonal) : (c - r > diagonal);
        }
    }
    return mask;
}

/// Refuses a result of `shape` that could never fit in this machine's memory.
void check_fits(const Shape& shape, Dtype dtype, std::string_view op, const Tensor& x,
                const std::vector<std::int64_t>& counts) {
    const auto n = static_cast<std::uint64_t>(checked_numel(shape, op));
    if (n > memory_bytes() / dtype_size(dtype)) {
        throw ShapeError(
            fmt::format("{}: [{}] copies of {} make {}, more than this machine's memory", op,
                        joined(counts, ","), shape_str(x.shape()), shape_str(shape)));
    }
}

/// torch.Tensor.repeat: x (with leading 1s added up to repeats.size() dims) repeated repeats[i]
/// times along dim i = expand([1, s₀, 1, s₁, ..] → [r₀, s₀, r₁, s₁, ..]) reshaped to [r₀s₀, ..].
Tensor repeated(const Tensor& x, const std::vector<std::int64_t>& repeats, std::string_view op) {
    kernel::check_defined(x, op);
    const std::size_t rank = repeats.size();
    if (rank < x.shape().size()) {
        throw ShapeError(fmt::format("{}: {} repeat counts [{}] for the {} dims of {}", op, rank,
                                     joined(repeats, ","), x.dim(), shape_str(x.shape())));
    }
    Shape extents(rank - x.shape().size(), 1);
    extents.insert(extents.end(), x.shape().begin(), x.shape().end());
    Shape interleaved, expanded, result(rank);
    for (std::size_t d = 0; d < rank; ++d) {
        if (repeats[d] < 0 || __builtin_mul_overflow(repeats[d], extents[d], &result[d])) {
            throw ShapeError(fmt::format("{}: repeat counts [{}] are negative or overflow for {}",
                                         op, joined(repeats, ","), shape_str(x.shape())));
        }
        interleaved.insert(interleaved.end(), {1, extents[d]});
        expanded.insert(expanded.end(), {repeats[d], extents[d]});
    }
    check_fits(result, x.dtype(), op, x, repeats);
    // no element: the (differentiable) empty slice, without expanding to counts that may not fit
    if (numel_of(result) == 0) return reshape(slice(reshape(x, {-1}), 0, 0, 0), result);
    return reshape(expand(reshape(x, interleaved), expanded), result);
}
}  // namespace

Tensor flip(const Tensor& x, const Dims& dims_in) {  // y = x reversed along dims;  ∂x = flip(g)
    kernel::check_defined(x, "flip");
    const Dims dims = distinct_dims(dims_in, x, "flip");
    Tensor y = dims.empty() ? copy_of(x) : x;
    for (const auto d : dims) {
        const std::int64_t last = x.size(d) - 1;
        y = kernel::gather_rows(y, d, y.size(d), [last](std::int64_t k) { return last - k; });
    }
    return record(Op::flip, {x}, std::move(y), {},
                  [dims](const BackwardContext&, const Tensor& g) { return Grads{flip(g, dims)}; });
}

Tensor roll(const Tensor& x, const std::vector<std::int64_t>& shifts_in, const Dims& dims_in) {
    // y[k] = x[(k − s) mod n] along each dim;  ∂x = roll(g, −s)
    kernel::check_defined(x, "roll");
    if (dims_in.empty()) {
        if (shifts_in.size() != 1) {
            throw ShapeError(
                fmt::format("roll: without dims, x rolls flattened by one shift, got [{}]",
                            joined(shifts_in, ",")));
        }
        return reshape(roll(reshape(x, {-1}), shifts_in, {0}), x.shape());
    }
    if (shifts_in.size() != dims_in.size()) {
        throw ShapeError(fmt::format("roll: {} shifts [{}] for {} dims [{}]", shifts_in.size(),
                                     joined(shifts_in, ","), dims_in.size(), joined(dims_in, ",")));
    }
    Dims dims;
    std::vector<std::int64_t> shifts;  // each in [0, n)
    for (std::size_t i = 0; i < dims_in.size(); ++i) {
        const std::int64_t d = wrap_dim(dims_in[i], std::max<std::int64_t>(x.dim(), 1), "roll");
        if (x.dim() == 0) continue;  // a 0-d tensor takes dim 0 or −1 and has nothing to roll
        const std::int64_t n = x.size(d), r = n == 0 ? 0 : shifts_in[i] % n;
        dims.push_back(d);
        shifts.push_back(r < 0 ? r + n : r);
    }
    Tensor y = dims.empty() ? copy_of(x) : x;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        const std::int64_t n = x.size(dims[i]), s = shifts[i];
        y = kernel::gather_rows(y, dims[i], y.size(dims[i]),
                                [n, s](std::int64_t k) { return k >= s ? k - s : k + (n - s); });
    }
    std::vector<std::int64_t> back(shifts.size());
    std::transform(shifts.begin(), shifts.end(), back.begin(), [](auto s) { return -s; });
    return record(Op::roll, {x}, std::move(y), {},
                  [back, dims](const BackwardContext&, const Tensor& g) {
                      return Grads{roll(g, back, dims)};
                  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
    // y = mask ? value : x (broadcast);  ∂x = masked_fill(g, mask, 0) summed back to x's shape
    kernel::check_defined(x, "masked_fill");
    kernel::check_defined(mask, "masked_fill");
    if (mask.dtype() != Dtype::boolean) {
        throw DtypeError(fmt::format("masked_fill: the mask must be bool, got {} of shape {}",
                                     dtype_name(mask.dtype()), shape_str(mask.shape())));
    }
    const Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
    Tensor y = x.shape() == shape ? copy_of(x) : kernel::broadcast_copy(x, shape);
    const Tensor full_mask = kernel::broadcast_copy(mask, shape);
    kernel::dispatch_any(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T fill = kernel::from_double<T>(value, "masked_fill");
        kernel::out<T>(y) = kernel::in<bool>(full_mask).select(fill, kernel::in<T>(y));
    });
    return record(Op::masked_fill, {x}, std::move(y), {mask},
                  [](const BackwardContext& c, const Tensor& g) {
                      return Grads{sum_to(masked_fill(g, c.saved(0), 0.0), c.input_shape(0))};
                  });
}

Tensor triu(const Tensor& x, std::int64_t diagonal) {  // x where column − row ≥ diagonal, else 0
    return masked_fill(x, outside_band(x, diagonal, true, "triu"), 0.0);
}

Tensor tril(const Tensor& x, std::int64_t diagonal) {  // x where column − row ≤ diagonal, else 0
    return masked_fill(x, outside_band(x, diagonal, false, "tril"), 0.0);
}

Tensor repeat(const Tensor& x, const std::vector<std::int64_t>& repeats) {
    return repeated(x, repeats, "repeat");
}

Tensor tile(const Tensor& x, const std::vector<std::int64_t>& reps) {  // reps padded with 1s
    kernel::check_defined(x, "tile");
    std::vector<std::int64_t> padded;
    if (reps.size() < x.shape().size()) padded.assign(x.shape().size() - reps.size(), 1);
    padded.insert(padded.end(), reps.begin(), reps.end());
    return repeated(x, padded, "tile");
}

}  // namespace descent
