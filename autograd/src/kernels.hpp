#pragma once
// Kernel plumbing shared by the op files: dtype dispatch, Eigen maps over tensors, and the
// strided copies (broadcast, permute) that contiguous tensors need.

#include <fmt/format.h>

#include <cstdint>
#include <string_view>

#include "descent/error.hpp"
#include "descent/tensor.hpp"
#include "tensor_impl.hpp"

namespace descent::kernel {

/// Calls f(T{}) with T = float or double for the dtype; other dtypes are a DtypeError.
template <class F>
decltype(auto) dispatch_floating(Dtype dtype, std::string_view op, F&& f) {
    switch (dtype) {
        case Dtype::float32: return f(float{});
        case Dtype::float64: return f(double{});
        default:
            throw DtypeError(fmt::format("{}: expected a float32 or float64 tensor, got {}", op,
                                         dtype_name(dtype)));
    }
}

/// Calls f(T{}) for any dtype.
template <class F>
decltype(auto) dispatch_any(Dtype dtype, F&& f) {
    switch (dtype) {
        case Dtype::float32: return f(float{});
        case Dtype::float64: return f(double{});
        case Dtype::int64: return f(std::int64_t{});
        case Dtype::boolean: return f(bool{});
    }
    throw DtypeError("unknown dtype");
}

template <class T>
ConstArrayMap<T> in(const Tensor& t) {
    return ConstArrayMap<T>(static_cast<const T*>(t.impl()->storage->data), t.numel());
}
/// Writable map without a version bump: only for freshly created results.
template <class T>
ArrayMap<T> out(Tensor& t) {
    return ArrayMap<T>(static_cast<T*>(t.impl()->storage->data), t.numel());
}

/// y = f(x) elementwise on a floating tensor; f maps an Eigen array expression.
template <class F>
Tensor map_floating(const Tensor& x, std::string_view op, F&& f) {
    Tensor y = empty(x.shape(), x.dtype());
    dispatch_floating(x.dtype(), op, [&](auto tag) {
        using T = decltype(tag);
        out<T>(y) = f(in<T>(x));
    });
    return y;
}

/// y = f(x) for a tensor already known to hold T (inside a dispatch).
template <class T, class F>
Tensor map_as(const Tensor& x, F&& f) {
    Tensor y = empty(x.shape(), x.dtype());
    out<T>(y) = f(in<T>(x));
    return y;
}

/// Throws a DtypeError naming op unless a and b share a dtype.
void check_same_dtype(const Tensor& a, const Tensor& b, std::string_view op);

/// x materialised at `shape` (NumPy broadcasting); x itself when it already has that shape.
Tensor broadcast_copy(const Tensor& x, const Shape& shape);

/// z = f(a, b) with broadcasting, a and b of one floating dtype.
template <class F>
Tensor zip_floating(const Tensor& a, const Tensor& b, std::string_view op, F&& f) {
    check_same_dtype(a, b, op);
    const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
    const Tensor wa = broadcast_copy(a, shape);
    const Tensor wb = broadcast_copy(b, shape);
    Tensor z = empty(shape, a.dtype());
    dispatch_floating(a.dtype(), op, [&](auto tag) {
        using T = decltype(tag);
        out<T>(z) = f(in<T>(wa), in<T>(wb));
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
