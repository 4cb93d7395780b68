// The result type of a binary op, and the int64 and bool arithmetic (see promotion.hpp).

#include "promotion.hpp"

#include <fmt/format.h>

#include <cstdint>

#include "descent/ops.hpp"
#include "kernels.hpp"

namespace descent::promotion {
namespace {

std::string_view name_of(Arith op) {
    switch (op) {
        case Arith::add:
            return "add";
        case Arith::sub:
            return "sub";
        case Arith::mul:
            return "mul";
        case Arith::div:
            return "div";
    }
    return "?";
}

/// int64 arithmetic in two's complement: computed on the std::uint64_t bit patterns, where
/// overflow wraps by definition, and converted back (modular since C++20).
std::uint64_t bits(std::int64_t v) {
    return static_cast<std::uint64_t>(v);
}
std::int64_t from_bits(std::uint64_t v) {
    return static_cast<std::int64_t>(v);
}
const auto wrapping_add = [](std::int64_t x, std::int64_t y) {
    return from_bits(bits(x) + bits(y));
};
const auto wrapping_sub = [](std::int64_t x, std::int64_t y) {
    return from_bits(bits(x) - bits(y));
};
const auto wrapping_mul = [](std::int64_t x, std::int64_t y) {
    return from_bits(bits(x) * bits(y));
};

/// z = f(a, b) elementwise with broadcasting, a and b holding T (int64 or bool), f a function
/// of two T.
template <class T, class F>
Tensor zip_as(const Tensor& a, const Tensor& b, std::string_view op, F f) {
    Tensor z = empty(broadcast_shapes(a.shape(), b.shape(), op), dtype_of<T>());
    kernel::broadcast_apply<T, T>(a, b, z,
                                  [f](const auto& x, const auto& y) { return x.binaryExpr(y, f); });
    return z;
}

std::string operands(const Tensor& a, const Tensor& b) {
    return fmt::format("{} {} and {} {}", dtype_name(a.dtype()), shape_str(a.shape()),
                       dtype_name(b.dtype()), shape_str(b.shape()));
}

}  // namespace

Dtype result_type(const Tensor& a, const Tensor& b, std::string_view op) {
    kernel::check_defined(a, op);
    kernel::check_defined(b, op);
    const Dtype x = a.dtype(), y = b.dtype();
    if (x == y) return x;
    if (is_floating(x) && is_floating(y)) {
        kernel::check_same_dtype(a, b, op);  // float32 with float64: its DtypeError
    }
    if (is_floating(x)) return x;
    if (is_floating(y)) return y;
    return Dtype::int64;  // int64 with bool
}

bool is_integer(const Tensor& x) {
    return x.defined() && !is_floating(x.dtype());
}

Tensor arithmetic(Arith op, const Tensor& a, const Tensor& b) {
    const std::string_view name = name_of(op);
    const Dtype type = result_type(a, b, name);
    const bool a_bool = a.dtype() == Dtype::boolean, b_bool = b.dtype() == Dtype::boolean;
    if (op == Arith::sub && a_bool && b_bool) {
        throw DtypeError(
            fmt::format("sub: subtracting two bool tensors is not supported ({}); use logical_xor",
                        operands(a, b)));
    }
    if (op == Arith::sub && (a_bool || b_bool)) {
        throw DtypeError(fmt::format(
            "sub: subtraction with a bool tensor is not supported ({}); invert a mask with "
            "logical_not, or convert it with .to()",
            operands(a, b)));
    }
    const Dtype dtype = op == Arith::div && !is_floating(type) ? Dtype::float32 : type;
    if (is_floating(dtype)) {
        const Tensor x = a.to(dtype), y = b.to(dtype);
        switch (op) {
            case Arith::add:
                return add(x, y);
            case Arith::sub:
                return sub(x, y);
            case Arith::mul:
                return mul(x, y);
            case Arith::div:
                return div(x, y);
        }
    }
    if (dtype == Dtype::boolean) {  // add or mul of two bool tensors
        if (op == Arith::add)
            return zip_as<bool>(a, b, name, [](bool x, bool y) { return x || y; });
        return zip_as<bool>(a, b, name, [](bool x, bool y) { return x && y; });
    }
    const Tensor x = a.to(Dtype::int64), y = b.to(Dtype::int64);
    if (op == Arith::add) return zip_as<std::int64_t>(x, y, name, wrapping_add);
    if (op == Arith::sub) return zip_as<std::int64_t>(x, y, name, wrapping_sub);
    return zip_as<std::int64_t>(x, y, name, wrapping_mul);
}

Tensor negate(const Tensor& x) {
    if (x.dtype() == Dtype::boolean) {
        throw DtypeError(fmt::format(
            "neg: negating a bool tensor ({}) is not supported; invert a mask with logical_not",
            shape_str(x.shape())));
    }
    Tensor y = empty(x.shape(), Dtype::int64);
    kernel::out<std::int64_t>(y) = kernel::in<std::int64_t>(x).unaryExpr(
        [](std::int64_t v) { return from_bits(std::uint64_t{0} - bits(v)); });
    return y;
}

}  // namespace descent::promotion
