// Products and norms: outer, bmm and baddbmm (composed from mul and matmul), and vector_norm —
// max/min/sum of |x| for ord ±inf and 1, and a primitive for any other p ≥ 0 whose gradient is
// 0 where the norm is 0 (composing it would give 0/0 there) and 0 for the count p = 0.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {
namespace {

/// Two defined operands of one floating dtype (the products here are floating only).
void check_floating_pair(const Tensor& a, const Tensor& b, std::string_view op) {
    kernel::check_same_dtype(a, b, op);
    if (!is_floating(a.dtype())) {
        throw DtypeError(fmt::format("{}: expected float32 or float64 operands, got {} {} and {}",
                                     op, dtype_name(a.dtype()), shape_str(a.shape()),
                                     shape_str(b.shape())));
    }
}

/// a [B, n, m] · b [B, m, p] with every extent matching exactly, as torch.bmm.
Tensor batched_product(const Tensor& a, const Tensor& b, std::string_view op) {
    check_floating_pair(a, b, op);
    if (a.dim() != 3 || b.dim() != 3 || a.size(0) != b.size(0) || a.size(2) != b.size(1)) {
        throw ShapeError(fmt::format("{}: cannot multiply {} by {} (expected [B,n,m] and [B,m,p])",
                                     op, shape_str(a.shape()), shape_str(b.shape())));
    }
    return matmul(a, b);
}

/// x·factor (x itself for 1).
Tensor scaled(const Tensor& x, double factor) {
    return factor == 1.0 ? x : x * factor;
}

/// The dims a norm reduces: every dim when none are listed, each wrapped and at most once.
Dims norm_dims(const Tensor& x, const Dims& dims_in) {
    const std::int64_t rank = x.dim();
    Dims dims;
    for (const auto d : dims_in)
        dims.push_back(wrap_dim(d, std::max<std::int64_t>(rank, 1), "vector_norm"));
    if (dims_in.empty()) {
        for (std::int64_t d = 0; d < rank; ++d) dims.push_back(d);
    }
    std::sort(dims.begin(), dims.end());
    if (std::adjacent_find(dims.begin(), dims.end()) != dims.end()) {
        throw IndexError(
            fmt::format("vector_norm: a dim appears twice in [{}]", joined(dims_in, ",")));
    }
    return rank == 0 ? Dims{} : dims;  // a 0-d tensor takes dim 0 or −1 and has none to reduce
}

Shape kept_shape(const Shape& shape, const Dims& dims) {
    Shape kept = shape;
    for (const auto d : dims) kept[d] = 1;
    return kept;
}

Shape reduced_shape(const Shape& shape, const Dims& dims) {
    Shape reduced;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (!std::binary_search(dims.begin(), dims.end(), static_cast<std::int64_t>(d))) {
            reduced.push_back(shape[d]);
        }
    }
    return reduced;
}

/// The bool mask v = 0.
Tensor is_zero(const Tensor& v) {
    return eq(v, scalar_tensor(0.0, {.dtype = v.dtype()}));
}

/// Σ over dims (kept) of x ≠ 0 for p = 0, else (Σ|x|ᵖ)^(1/p); off the tape.
Tensor norm_value(const Tensor& x, double p, const Dims& dims) {
    const NoGradGuard forward_only;
    if (p == 0.0) return sum(kernel::mask_as(logical_not(is_zero(x)), x.dtype()), dims, true);
    if (p == 2.0) return sqrt(sum(x * x, dims, true));
    return pow(sum(pow(abs(x), p), dims, true), 1.0 / p);
}

/// The norm node for p ∉ {1, ±inf}: y = (Σ|x|ᵖ)^(1/p) over dims;  ∂x = sign(x)·|x|ᵖ⁻¹ · g / yᵖ⁻¹
/// (x·g/y for p = 2), 0 where y = 0. The zeros of |x| and y are replaced by 1 inside the formula so
/// that its own derivative stays finite there. p = 0: y = the count of non-zeros;  ∂x = 0.
Tensor p_norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
    const Shape keep = kept_shape(x.shape(), dims);
    const Tensor norm = norm_value(x, p, dims);
    Tensor y = keepdim ? norm : alias(norm, reduced_shape(x.shape(), dims));
    return record(Op::vector_norm, {x}, y, {x, y},
                  [p, keep](const BackwardContext& c, const Tensor& g) {
                      if (p == 0.0) return Grads{zeros(c.input_shape(0), {.dtype = g.dtype()})};
                      const Tensor xx = c.saved(0), yy = reshape(c.saved(1), keep);
                      const Tensor zero_norm = is_zero(yy);
                      const Tensor safe_norm = masked_fill(yy, zero_norm, 1.0);
                      const Tensor g_kept = masked_fill(reshape(g, keep), zero_norm, 0.0);
                      if (p == 2.0) return Grads{xx * (g_kept / safe_norm)};
                      const Tensor scale = g_kept / pow(safe_norm, p - 1.0);
                      const Tensor safe_abs = masked_fill(abs(xx), is_zero(xx), 1.0);
                      return Grads{sign(xx) * pow(safe_abs, p - 1.0) * scale};
                  });
}
}  // namespace

Tensor outer(const Tensor& a, const Tensor& b) {  // y_ij = a_i b_j (through mul)
    check_floating_pair(a, b, "outer");
    if (a.dim() != 1 || b.dim() != 1) {
        throw ShapeError(fmt::format("outer: expects two 1-D tensors, got {} and {}",
                                     shape_str(a.shape()), shape_str(b.shape())));
    }
    return unsqueeze(a, 1) * unsqueeze(b, 0);
}

Tensor bmm(const Tensor& a, const Tensor& b) {  // y_b = a_b · b_b (through matmul)
    return batched_product(a, b, "bmm");
}

Tensor baddbmm(const Tensor& input, const Tensor& a, const Tensor& b, double beta, double alpha) {
    // y = β·input + α·(a_b · b_b)
    check_option(beta, finite(), "baddbmm", "beta");
    check_option(alpha, finite(), "baddbmm", "alpha");
    const Tensor product = batched_product(a, b, "baddbmm");
    kernel::check_same_dtype(input, a, "baddbmm");
    if (broadcast_shapes(input.shape(), product.shape(), "baddbmm") != product.shape()) {
        throw ShapeError(fmt::format("baddbmm: input {} does not broadcast to the product's {}",
                                     shape_str(input.shape()), shape_str(product.shape())));
    }
    if (beta == 0.0) return scaled(product, alpha);  // input's values ignored, NaN included
    return scaled(input, beta) + scaled(product, alpha);
}

Tensor vector_norm(const Tensor& x, double ord, const Dims& dims_in, bool keepdim) {
    kernel::check_defined(x, "vector_norm");
    if (!is_floating(x.dtype())) {
        throw DtypeError(fmt::format("vector_norm: expected a float32 or float64 tensor, got {} {}",
                                     dtype_name(x.dtype()), shape_str(x.shape())));
    }
    if (!(ord >= 0.0 || ord == -inf)) {
        throw Error(fmt::format("vector_norm: ord must be > 0, 0, inf or -inf, got {}", ord));
    }
    const Dims dims = norm_dims(x, dims_in);
    if (std::isinf(ord)) {  // max or min |x|: the gradient goes to the extreme entries
        for (const auto d : dims) {
            if (x.size(d) == 0) {
                throw ShapeError(
                    fmt::format("vector_norm: the {} norm over dim {} of size 0 in {} has no value",
                                ord, d, shape_str(x.shape())));
            }
        }
        return ord > 0 ? max(abs(x), dims, keepdim) : min(abs(x), dims, keepdim);
    }
    if (ord == 1.0) return sum(abs(x), dims, keepdim);
    return p_norm(x, ord, dims, keepdim);
}

}  // namespace descent
