// Elementwise functions of two tensors (pow, maximum, minimum), where(), and the comparisons
// and logical ops that make bool masks.

#include <fmt/format.h>

#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "promotion.hpp"

namespace descent {
using kernel::zip_floating;

namespace {

/// A bool mask z = f(a, b) with broadcasting, a and b compared in their promoted dtype (any),
/// checked in the order the caller of `op` gave them. `swapped`: f compares (b, a) — gt and ge
/// are lt and le with the operands exchanged (the same answers, NaN included), so only three
/// kernels exist.
template <class F>
Tensor compare(const Tensor& a, const Tensor& b, std::string_view op, F&& f, bool swapped = false) {
    const Dtype dtype = promotion::result_type(a, b, op);
    const Tensor x = a.to(dtype), y = b.to(dtype);
    Tensor z = empty(broadcast_shapes(a.shape(), b.shape(), op), Dtype::boolean);
    kernel::dispatch_any(dtype, [&](auto tag) {
        using T = decltype(tag);
        if (swapped) {
            kernel::broadcast_apply<T, bool>(y, x, z, f);
        } else {
            kernel::broadcast_apply<T, bool>(x, y, z, f);
        }
    });
    return z;
}

/// A bool mask z = f(a, b) with broadcasting for bool tensors a and b.
template <class F>
Tensor logical(const Tensor& a, const Tensor& b, std::string_view op, F&& f) {
    kernel::check_defined(a, op);
    kernel::check_defined(b, op);
    if (a.dtype() != Dtype::boolean || b.dtype() != Dtype::boolean) {
        throw DtypeError(fmt::format("{}: expected bool tensors, got {} and {}", op,
                                     dtype_name(a.dtype()), dtype_name(b.dtype())));
    }
    Tensor z = empty(broadcast_shapes(a.shape(), b.shape(), op), Dtype::boolean);
    kernel::broadcast_apply<bool, bool>(a, b, z, f);
    return z;
}

const auto equal = [](const auto& x, const auto& y) { return x == y; };
const auto less = [](const auto& x, const auto& y) { return x < y; };
const auto less_equal = [](const auto& x, const auto& y) { return x <= y; };

Tensor scalar_like(double value, const Tensor& like) {
    return scalar_tensor(value, {.dtype = like.dtype()});
}

/// A double compared with a tensor: of its dtype when floating, else float64, in which an
/// int64 or bool tensor is then compared — exact for every integer up to 2⁵³ in magnitude (and
/// 0 < 0.5 holds where a conversion of 0.5 to int64 would give 0 < 0).
Tensor compared_scalar(double value, const Tensor& with) {
    return scalar_tensor(value,
                         {.dtype = is_floating(with.dtype()) ? with.dtype() : Dtype::float64});
}

/// Share of the gradient that maximum/minimum route to a: 1 where a wins, ½ on ties, else 0.
Tensor winner_share(const Tensor& a_wins, const Tensor& tie, Dtype dtype) {
    return kernel::mask_as(a_wins, dtype) + kernel::mask_as(tie, dtype) * 0.5;
}
}  // namespace

Tensor pow(const Tensor& a, const Tensor& b) {
    // z = aᵇ;  ∂z/∂a = b·aᵇ⁻¹,  ∂z/∂b = aᵇ·ln a (taken as 0 where a = 0 and b ≥ 0, as PyTorch)
    Tensor z = zip_floating(a, b, "pow", [](const auto& x, const auto& y) { return x.pow(y); });
    return record(Op::pow, {a, b}, z, {a, b, z}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor aa = c.saved(0), bb = c.saved(1);
        Grads grads(2);
        if (c.needs_grad(0)) grads[0] = g * bb * pow(aa, bb - 1.0);
        if (c.needs_grad(1)) {
            const Tensor zero_base = logical_and(eq(aa, zeros_like(aa)), ge(bb, zeros_like(bb)));
            grads[1] = g * where(zero_base, zeros_like(g), c.saved(2) * log(aa));
        }
        return grads;
    });
}

Tensor maximum(const Tensor& a, const Tensor& b) {  // z = max(a, b); ties split the gradient
    Tensor z = zip_floating(a, b, "maximum",
                            [](const auto& x, const auto& y) { return kernel::nan_max(x, y); });
    return record(Op::maximum, {a, b}, std::move(z), {a, b},
                  [](const BackwardContext& c, const Tensor& g) {
                      const Tensor aa = c.saved(0), bb = c.saved(1);
                      const Tensor share = winner_share(gt(aa, bb), eq(aa, bb), g.dtype());
                      return Grads{g * share, g * (1.0 - share)};
                  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {  // z = min(a, b); ties split the gradient
    Tensor z = zip_floating(a, b, "minimum",
                            [](const auto& x, const auto& y) { return kernel::nan_min(x, y); });
    return record(Op::minimum, {a, b}, std::move(z), {a, b},
                  [](const BackwardContext& c, const Tensor& g) {
                      const Tensor aa = c.saved(0), bb = c.saved(1);
                      const Tensor share = winner_share(lt(aa, bb), eq(aa, bb), g.dtype());
                      return Grads{g * share, g * (1.0 - share)};
                  });
}

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
    // z = mask ? a : b;  ∂z/∂a = mask,  ∂z/∂b = ¬mask
    if (mask.dtype() != Dtype::boolean) {
        throw DtypeError(fmt::format("where: the mask must be bool, got {} of shape {}",
                                     dtype_name(mask.dtype()), shape_str(mask.shape())));
    }
    const Dtype dtype = promotion::result_type(a, b, "where");
    const Tensor pa = a.to(dtype), pb = b.to(dtype);  // int64 and bool ones: no gradient lost
    const Shape shape =
        broadcast_shapes(broadcast_shapes(mask.shape(), a.shape(), "where"), b.shape(), "where");
    const Tensor wm = kernel::broadcast_copy(mask, shape);
    const Tensor wa = kernel::broadcast_copy(pa, shape);
    const Tensor wb = kernel::broadcast_copy(pb, shape);
    Tensor z = empty(shape, dtype);
    kernel::dispatch_any(dtype, [&](auto tag) {
        using T = decltype(tag);
        kernel::out<T>(z) = kernel::in<bool>(wm).select(kernel::in<T>(wa), kernel::in<T>(wb));
    });
    return record(Op::where, {pa, pb}, std::move(z), {wm},
                  [](const BackwardContext& c, const Tensor& g) {
                      const Tensor m = c.saved(0);
                      const Tensor zero = scalar_like(0.0, g);
                      return Grads{c.needs_grad(0) ? where(m, g, zero) : Tensor{},
                                   c.needs_grad(1) ? where(m, zero, g) : Tensor{}};
                  });
}

Tensor eq(const Tensor& a, const Tensor& b) {
    return compare(a, b, "eq", equal);
}
Tensor ne(const Tensor& a, const Tensor& b) {  // a ≠ b is ¬(a = b), true where either is NaN
    return logical_not(compare(a, b, "ne", equal));
}
Tensor lt(const Tensor& a, const Tensor& b) {
    return compare(a, b, "lt", less);
}
Tensor le(const Tensor& a, const Tensor& b) {
    return compare(a, b, "le", less_equal);
}
Tensor gt(const Tensor& a, const Tensor& b) {  // a > b is b < a
    return compare(a, b, "gt", less, true);
}
Tensor ge(const Tensor& a, const Tensor& b) {  // a ≥ b is b ≤ a
    return compare(a, b, "ge", less_equal, true);
}

Tensor logical_not(const Tensor& mask) {
    if (mask.dtype() != Dtype::boolean) {
        throw DtypeError(
            fmt::format("logical_not: expected a bool tensor, got {}", dtype_name(mask.dtype())));
    }
    Tensor z = empty(mask.shape(), Dtype::boolean);
    kernel::out<bool>(z) = !kernel::in<bool>(mask);
    return z;
}

Tensor logical_and(const Tensor& a, const Tensor& b) {
    return logical(a, b, "logical_and", [](const auto& x, const auto& y) { return x && y; });
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
    return logical(a, b, "logical_or", [](const auto& x, const auto& y) { return x || y; });
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
    return logical(a, b, "logical_xor", [](const auto& x, const auto& y) { return x != y; });
}

Tensor operator==(const Tensor& a, const Tensor& b) {
    return eq(a, b);
}
Tensor operator!=(const Tensor& a, const Tensor& b) {
    return ne(a, b);
}
Tensor operator==(const Tensor& a, double b) {
    return eq(a, compared_scalar(b, a));
}
Tensor operator!=(const Tensor& a, double b) {
    return ne(a, compared_scalar(b, a));
}
Tensor operator==(double a, const Tensor& b) {
    return eq(compared_scalar(a, b), b);
}
Tensor operator!=(double a, const Tensor& b) {
    return ne(compared_scalar(a, b), b);
}

Tensor operator<(const Tensor& a, const Tensor& b) {
    return lt(a, b);
}
Tensor operator<=(const Tensor& a, const Tensor& b) {
    return le(a, b);
}
Tensor operator>(const Tensor& a, const Tensor& b) {
    return gt(a, b);
}
Tensor operator>=(const Tensor& a, const Tensor& b) {
    return ge(a, b);
}
Tensor operator<(const Tensor& a, double b) {
    return lt(a, compared_scalar(b, a));
}
Tensor operator<=(const Tensor& a, double b) {
    return le(a, compared_scalar(b, a));
}
Tensor operator>(const Tensor& a, double b) {
    return gt(a, compared_scalar(b, a));
}
Tensor operator>=(const Tensor& a, double b) {
    return ge(a, compared_scalar(b, a));
}

}  // namespace descent
