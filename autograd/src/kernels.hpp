#pragma once
// Kernel plumbing shared by the op files: dtype dispatch, Eigen maps over tensors, and the
// strided copies (broadcast, permute) that contiguous tensors need.

#include <fmt/format.h>

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "chunks.hpp"
#include "descent/check.hpp"
#include "descent/eigen.hpp"
#include "descent/error.hpp"
#include "descent/tensor.hpp"
#include "same_shape.hpp"
#include "tensor_impl.hpp"

namespace descent::kernel {

/// Calls f(T{}) with T = float or double for the dtype; other dtypes are a DtypeError.
template <class F>
decltype(auto) dispatch_floating(Dtype dtype, std::string_view op, F&& f) {
    switch (dtype) {
        case Dtype::float32:
            return f(float{});
        case Dtype::float64:
            return f(double{});
        default:
            throw DtypeError(fmt::format("{}: expected a float32 or float64 tensor, got {}", op,
                                         dtype_name(dtype)));
    }
}

/// Calls f(T{}) for any dtype.
template <class F>
decltype(auto) dispatch_any(Dtype dtype, F&& f) {
    switch (dtype) {
        case Dtype::float32:
            return f(float{});
        case Dtype::float64:
            return f(double{});
        case Dtype::int64:
            return f(std::int64_t{});
        case Dtype::boolean:
            return f(bool{});
    }
    throw DtypeError("unknown dtype");
}

/// A double option or value as the element type T: int64 refuses NaN, ±inf and values out of
/// range (an Error naming op), bool is v ≠ 0, floats round.
template <class T>
T from_double(double v, std::string_view op) {
    if constexpr (std::is_same_v<T, std::int64_t>) {
        return checked_int64(v, op, "the value");
    } else if constexpr (std::is_same_v<T, bool>) {
        return v != 0.0;
    } else {
        return static_cast<T>(v);
    }
}

template <class T>
ConstArrayMap<T> in(const Tensor& t) {
    return ConstArrayMap<T>(elements<T>(t), t.impl()->numel);
}
/// Writable map without a version bump: only for freshly created results.
template <class T>
ArrayMap<T> out(Tensor& t) {
    return ArrayMap<T>(elements<T>(t), t.impl()->numel);
}

/// Elements [first, first + count) of t, first a multiple of kChunkElements (aligned).
template <class T>
ConstArrayMap<T> in(const Tensor& t, std::int64_t first, std::int64_t count) {
    return ConstArrayMap<T>(elements<T>(t) + first, count);
}
/// Writable, as out(t), over elements [first, first + count).
template <class T>
ArrayMap<T> out(Tensor& t, std::int64_t first, std::int64_t count) {
    return ArrayMap<T>(elements<T>(t) + first, count);
}

/// The Error of check_defined.
[[noreturn]] void throw_undefined_input(std::string_view op);
/// Throws an Error naming op if t is undefined.
inline void check_defined(const Tensor& t, std::string_view op) {
    if (!t.defined()) throw_undefined_input(op);
}

/// y = f(x) elementwise on a floating tensor; f maps an Eigen array expression.
template <class F>
Tensor map_floating(const Tensor& x, std::string_view op, F&& f) {
    check_defined(x, op);
    Tensor y = empty_as(x);
    dispatch_floating(x.dtype(), op, [&](auto tag) {
        using T = decltype(tag);
        for_each_chunk(y.impl()->numel, [&](std::int64_t first, std::int64_t count) {
            out<T>(y, first, count) = f(in<T>(x, first, count));
        });
    });
    return y;
}

/// y = f(x) for a tensor already known to hold T (inside a dispatch).
template <class T, class F>
Tensor map_as(const Tensor& x, F&& f) {
    Tensor y = empty_as(x);
    for_each_chunk(y.impl()->numel, [&](std::int64_t first, std::int64_t count) {
        out<T>(y, first, count) = f(in<T>(x, first, count));
    });
    return y;
}

/// Op(a, b) elementwise with Eigen's scalar_max_op or scalar_min_op, NaN where either is NaN;
/// b an array expression or a scalar.
template <template <class, class, int> class Op, class A, class B>
auto nan_propagating(const A& a, const B& b) {
    using T = typename A::Scalar;
    if constexpr (std::is_arithmetic_v<B>) {
        return a.binaryExpr(A::PlainObject::Constant(a.size(), T(b)),
                            Op<T, T, Eigen::PropagateNaN>());
    } else {
        return a.binaryExpr(b, Op<T, T, Eigen::PropagateNaN>());
    }
}
/// max(a, b) elementwise, NaN where either is NaN (torch.maximum).
template <class A, class B>
auto nan_max(const A& a, const B& b) {
    return nan_propagating<Eigen::internal::scalar_max_op>(a, b);
}
/// min(a, b) elementwise, NaN where either is NaN (torch.minimum).
template <class A, class B>
auto nan_min(const A& a, const B& b) {
    return nan_propagating<Eigen::internal::scalar_min_op>(a, b);
}

/// Throws a DtypeError naming op unless x is float32 or float64 (an op with no integer
/// meaning, as torch's mean): it says to convert an int64 or bool x with .to(float32).
void require_floating(const Tensor& x, std::string_view op);

/// The DtypeError of check_same_dtype.
[[noreturn]] void throw_different_dtypes(const Tensor& a, const Tensor& b, std::string_view op);
/// Throws an Error naming op unless a and b are defined, and a DtypeError unless they share a
/// dtype.
inline void check_same_dtype(const Tensor& a, const Tensor& b, std::string_view op) {
    check_defined(a, op);
    check_defined(b, op);
    if (a.impl()->dtype != b.impl()->dtype) throw_different_dtypes(a, b, op);
}

/// x materialised at `shape` (NumPy broadcasting); x itself when it already has that shape.
Tensor broadcast_copy(const Tensor& x, const Shape& shape);

/// True when `small` (after dropping leading 1s) is the trailing part of `big`: it then repeats
/// as one contiguous block, e.g. a bias [C] against activations [N,C].
bool is_trailing_block(const Shape& small, const Shape& big);

/// z = f(a, b) elementwise at `shape` (their broadcast shape), T the operands' element type and
/// R the result's. A scalar operand or a trailing block is read in place; other broadcasts are
/// materialised first.
template <class T, class R, class F>
void broadcast_apply(const Tensor& a, const Tensor& b, Tensor& z, F&& f) {
    using Column = Eigen::Array<T, Eigen::Dynamic, 1>;
    const Shape& shape = z.impl()->shape;
    const Eigen::Index n = z.impl()->numel;
    auto o = out<R>(z);
    const bool a_full = same_shape(a.impl()->shape, shape);
    const bool b_full = same_shape(b.impl()->shape, shape);
    if (a_full && b_full) {
        for_each_chunk(n, [&](std::int64_t first, std::int64_t count) {
            out<R>(z, first, count) = f(in<T>(a, first, count), in<T>(b, first, count));
        });
    } else if (a_full && b.numel() == 1) {
        const T v = in<T>(b)[0];
        for_each_chunk(n, [&](std::int64_t first, std::int64_t count) {
            out<R>(z, first, count) = f(in<T>(a, first, count), Column::Constant(count, v));
        });
    } else if (b_full && a.numel() == 1) {
        const T v = in<T>(a)[0];
        for_each_chunk(n, [&](std::int64_t first, std::int64_t count) {
            out<R>(z, first, count) = f(Column::Constant(count, v), in<T>(b, first, count));
        });
    } else if (a_full && b.numel() > 0 && is_trailing_block(b.shape(), shape)) {
        const Eigen::Index block = b.numel();
        for_each_block(n, block, [&](Eigen::Index s) {
            o.segment(s, block) = f(in<T>(a).segment(s, block), in<T>(b));
        });
    } else if (b_full && a.numel() > 0 && is_trailing_block(a.shape(), shape)) {
        const Eigen::Index block = a.numel();
        for_each_block(n, block, [&](Eigen::Index s) {
            o.segment(s, block) = f(in<T>(a), in<T>(b).segment(s, block));
        });
    } else {
        o = f(in<T>(broadcast_copy(a, shape)), in<T>(broadcast_copy(b, shape)));
    }
}

/// z = f(a, b) with broadcasting, a and b of one floating dtype.
template <class F>
Tensor zip_floating(const Tensor& a, const Tensor& b, std::string_view op, F&& f) {
    check_same_dtype(a, b, op);
    const TensorImpl &ai = *a.impl(), &bi = *b.impl();
    Tensor z = same_shape(ai.shape, bi.shape)
                   ? empty_as(a)
                   : empty(broadcast_shapes(ai.shape, bi.shape, op), ai.dtype);
    dispatch_floating(ai.dtype, op, [&](auto tag) {
        using T = decltype(tag);
        broadcast_apply<T, T>(a, b, z, f);
    });
    return z;
}

/// Copy of x with its dims reordered: result dim i is x's dim order[i].
Tensor permute_copy(const Tensor& x, const Dims& order);

/// The extents of x around `dim` as [outer, dim, inner] (row-major blocks).
struct Blocks {
    std::int64_t outer, extent, inner;
};
Blocks blocks_around(const Shape& shape, std::int64_t dim);

/// A floating tensor of x's dtype holding 1 where mask is true and 0 elsewhere.
Tensor mask_as(const Tensor& mask, Dtype dtype);

}  // namespace descent::kernel
