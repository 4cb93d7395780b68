// Reductions. sum, amax and amin are primitives over any set of dims; mean, var, std,
// logsumexp, softmax and log_softmax are composed from them (and so differentiate twice).
// Integer tensors, never on the tape: sum of int64 or bool is int64 (wrapping; of bool, the
// count of trues), max and min keep int64 or bool; the composed reductions refuse them.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "reduce_kernel.hpp"
#include "softmax_kernel.hpp"

namespace descent {
namespace {
using kernel::Blocks;
using kernel::Reduction;

/// Sorted, distinct, non-negative dims.
Dims normalize_dims(const Dims& dims, const Tensor& x, std::string_view op) {
    kernel::check_defined(x, op);
    const std::int64_t rank = x.dim();
    Dims out;
    for (const auto d : dims) out.push_back(wrap_dim(d, std::max<std::int64_t>(rank, 1), op));
    if (rank == 0) out.clear();  // a 0-d tensor accepts dim 0 / -1 and has nothing to reduce
    std::sort(out.begin(), out.end());
    if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
        throw IndexError(fmt::format("{}: dim listed twice in [{}]", op, joined(dims, ",")));
    }
    return out;
}

Dims all_dims(const Tensor& x) {
    Dims d(static_cast<std::size_t>(x.dim()));
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::int64_t>(i);
    return d;
}

Shape kept_shape(const Shape& shape, const Dims& dims) {
    Shape s = shape;
    for (const auto d : dims) s[d] = 1;
    return s;
}

Shape reduced_shape(const Shape& shape, const Dims& dims, bool keepdim) {
    if (keepdim) return kept_shape(shape, dims);
    Shape s;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (!std::binary_search(dims.begin(), dims.end(), static_cast<std::int64_t>(d))) {
            s.push_back(shape[d]);
        }
    }
    return s;
}

/// amax/amin: the gradient goes to the extreme elements, shared equally among ties.
Tensor extreme(const Tensor& x, const Dims& dims_in, bool keepdim, Reduction kind, Op op) {
    const std::string_view name = op_name(op);
    const Dims dims = normalize_dims(dims_in, x, name);
    if (!is_floating(x.dtype())) {  // of bool: any (max) or all (min), through int64
        const Tensor y = kernel::reduce(x.to(Dtype::int64), dims, kind, name).to(x.dtype());
        return alias(y, reduced_shape(x.shape(), dims, keepdim));
    }
    const Shape keep = kept_shape(x.shape(), dims);
    Tensor y = alias(kernel::reduce(x, dims, kind, name), reduced_shape(x.shape(), dims, keepdim));
    return record(op, {x}, y, {x, y}, [dims, keep](const BackwardContext& c, const Tensor& g) {
        const Tensor xx = c.saved(0);
        const Tensor hit =
            kernel::mask_as(eq(xx, expand(reshape(c.saved(1), keep), xx.shape())), g.dtype());
        const Tensor count = sum(hit, dims, true);
        return Grads{reshape(g, keep) * hit / count};
    });
}

std::int64_t count_of(const Shape& shape, const Dims& dims) {
    std::int64_t n = 1;
    for (const auto d : dims) n *= shape[d];
    return n;
}

/// Index of the first extreme element along dim (int64).
Tensor arg_extreme(const Tensor& x, std::int64_t dim_in, bool keepdim, bool largest,
                   std::string_view op) {
    if (x.dim() == 0) return zeros({}, {.dtype = Dtype::int64});
    const std::int64_t dim = wrap_dim(dim_in, x.dim(), op);
    const Blocks b = kernel::blocks_around(x.shape(), dim);
    if (b.extent == 0) {
        throw ShapeError(fmt::format("{}: cannot take the {} over dim {} of size 0 in {}", op,
                                     largest ? "maximum" : "minimum", dim, shape_str(x.shape())));
    }
    Tensor idx = empty(reduced_shape(x.shape(), {dim}, keepdim), Dtype::int64);
    auto* out = elements<std::int64_t>(idx);
    kernel::dispatch_floating(x.dtype(), op, [&](auto tag) {
        using T = decltype(tag);
        const T* src = static_cast<const T*>(x.raw_data());
        for (std::int64_t o = 0; o < b.outer; ++o) {
            for (std::int64_t i = 0; i < b.inner; ++i) {
                const T* base = src + o * b.extent * b.inner + i;
                std::int64_t best = 0;
                for (std::int64_t k = 1; k < b.extent; ++k) {
                    const T v = base[k * b.inner], w = base[best * b.inner];
                    if (std::isnan(w)) break;  // NaN is the extreme, as in torch: first one wins
                    if (std::isnan(v) || (largest ? v > w : v < w)) best = k;
                }
                out[o * b.inner + i] = best;
            }
        }
    });
    return idx;
}
}  // namespace

Tensor sum(const Tensor& x, const Dims& dims_in, bool keepdim) {  // ∂/∂x = 1, broadcast back
    const Dims dims = normalize_dims(dims_in, x, "sum");
    if (!is_floating(x.dtype())) {
        return alias(kernel::reduce(x.to(Dtype::int64), dims, Reduction::sum, "sum"),
                     reduced_shape(x.shape(), dims, keepdim));
    }
    const Shape keep = kept_shape(x.shape(), dims);
    Tensor y = alias(kernel::reduce(x, dims, Reduction::sum, "sum"),
                     reduced_shape(x.shape(), dims, keepdim));
    return record(Op::sum, {x}, std::move(y), {},
                  [keep](const BackwardContext& c, const Tensor& g) {
                      return Grads{expand(reshape(g, keep), c.input_shape(0))};
                  });
}

Tensor sum(const Tensor& x) {
    return sum(x, all_dims(x));
}

Tensor max(const Tensor& x, const Dims& dims, bool keepdim) {
    return extreme(x, dims, keepdim, Reduction::max, Op::amax);
}
Tensor max(const Tensor& x) {
    return max(x, all_dims(x));
}
Tensor min(const Tensor& x, const Dims& dims, bool keepdim) {
    return extreme(x, dims, keepdim, Reduction::min, Op::amin);
}
Tensor min(const Tensor& x) {
    return min(x, all_dims(x));
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {  // Σx / n
    kernel::require_floating(x, "mean");
    const auto n = count_of(x.shape(), normalize_dims(dims, x, "mean"));
    return sum(x, dims, keepdim) / static_cast<double>(n);
}
Tensor mean(const Tensor& x) {
    return mean(x, all_dims(x));
}

Tensor var(const Tensor& x, const Dims& dims, bool unbiased, bool keepdim) {
    // Σ(x − x̄)² / (n − 1) unbiased, / n biased
    kernel::require_floating(x, "var");
    const auto n = count_of(x.shape(), normalize_dims(dims, x, "var"));
    const Tensor centered = x - mean(x, dims, true);
    return sum(centered * centered, dims, keepdim) / static_cast<double>(n - (unbiased ? 1 : 0));
}
Tensor var(const Tensor& x) {
    return var(x, all_dims(x));
}

Tensor std(const Tensor& x, const Dims& dims, bool unbiased, bool keepdim) {
    kernel::require_floating(x, "std");
    return sqrt(var(x, dims, unbiased, keepdim));
}
Tensor std(const Tensor& x) {
    return std(x, all_dims(x));
}

namespace {
/// x − m with m = max x over dims (kept), a constant: none of the results below depends on it,
/// and shifting by it keeps every exp ≤ 1. Slices that are all ±∞ shift by 0.
std::pair<Tensor, Tensor> shift_by_max(const Tensor& x, const Dims& dims, std::string_view op) {
    Tensor m;
    {
        NoGradGuard no_grad;
        m = kernel::reduce(x, dims, Reduction::max, op);
        kernel::dispatch_floating(m.dtype(), op, [&](auto tag) {
            using T = decltype(tag);
            auto v = kernel::out<T>(m);
            v = v.isFinite().select(v, T(0));
        });
    }
    return {x - m, m};
}
}  // namespace

Tensor logsumexp(const Tensor& x, const Dims& dims_in, bool keepdim) {
    // log Σ eˣ = m + log Σ e^(x − m)
    kernel::require_floating(x, "logsumexp");
    const Dims dims = normalize_dims(dims_in, x, "logsumexp");
    const auto [shifted, m] = shift_by_max(x, dims, "logsumexp");
    const Tensor kept = log(sum(exp(shifted), dims, true)) + m;
    return keepdim ? kept : reshape(kept, reduced_shape(x.shape(), dims, false));
}

Tensor softmax(const Tensor& x, std::int64_t dim) {  // y = e^(x − m) / Σ e^(x − m)
    kernel::require_floating(x, "softmax");
    const Dims dims = normalize_dims({dim}, x, "softmax");
    const std::int64_t d = dims.empty() ? 0 : dims.front();  // a 0-d tensor: a row of one
    Tensor y = kernel::softmax_forward(x, d);
    return record(Op::softmax, {x}, y, {y}, [d](const BackwardContext& c, const Tensor& g) {
        return Grads{kernel::softmax_backward(g, c.saved(0), d)};  // y ⊙ (g − Σ g ⊙ y)
    });
}

Tensor log_softmax(const Tensor& x, std::int64_t dim) {  // (x − m) − log Σ e^(x − m)
    kernel::require_floating(x, "log_softmax");
    const Dims dims = normalize_dims({dim}, x, "log_softmax");
    const Tensor shifted = shift_by_max(x, dims, "log_softmax").first;
    return shifted - log(sum(exp(shifted), dims, true));
}

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) {
    return arg_extreme(x, dim, keepdim, true, "argmax");
}
Tensor argmax(const Tensor& x) {
    return arg_extreme(reshape(x.detach(), {-1}), 0, false, true, "argmax");
}
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim) {
    return arg_extreme(x, dim, keepdim, false, "argmin");
}
Tensor argmin(const Tensor& x) {
    return arg_extreme(reshape(x.detach(), {-1}), 0, false, false, "argmin");
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
    if (x.shape() == shape) return x;
    const Shape& from = x.shape();
    if (shape.size() > from.size()) {
        throw ShapeError(
            fmt::format("sum_to: cannot reduce {} to {}", shape_str(from), shape_str(shape)));
    }
    const std::size_t lead = from.size() - shape.size();
    Dims dims;
    for (std::size_t d = 0; d < from.size(); ++d) {
        if (d < lead) {
            dims.push_back(static_cast<std::int64_t>(d));
        } else if (shape[d - lead] != from[d]) {
            if (shape[d - lead] != 1) {
                throw ShapeError(fmt::format("sum_to: cannot reduce {} to {}", shape_str(from),
                                             shape_str(shape)));
            }
            dims.push_back(static_cast<std::int64_t>(d));
        }
    }
    return reshape(sum(x, dims, true), shape);
}

}  // namespace descent
