// + − × ÷ and negation, tensor–tensor (broadcasting) and tensor–scalar. The engine sums each
// gradient back to its input's shape, so the formulas below are written at the output's shape.
// Each op's float path is for floating operands of one dtype; other operands are promoted
// first (promotion.hpp), and a double beside an int64 or bool tensor is a float32 scalar.

#include <fmt/format.h>

#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "promotion.hpp"

namespace descent {
using kernel::map_floating;
using kernel::zip_floating;
using promotion::Arith;

namespace {
/// A double beside an int64 or bool tensor: a 0-d float32 tensor, torch's default dtype.
Tensor default_float(double c) {
    return scalar_tensor(c, {.dtype = Dtype::float32});
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {  // z = a + b;  ∂z/∂a = 1, ∂z/∂b = 1
    if (!promotion::same_floating(a, b)) return promotion::arithmetic(Arith::add, a, b);
    Tensor z = zip_floating(a, b, "add", [](const auto& x, const auto& y) { return x + y; });
    return record(Op::add, {a, b}, std::move(z), {},
                  [](const BackwardContext&, const Tensor& g) -> Grads {
                      return {g, g};
                  });
}

Tensor sub(const Tensor& a, const Tensor& b) {  // z = a − b;  ∂z/∂a = 1, ∂z/∂b = −1
    if (!promotion::same_floating(a, b)) return promotion::arithmetic(Arith::sub, a, b);
    Tensor z = zip_floating(a, b, "sub", [](const auto& x, const auto& y) { return x - y; });
    return record(Op::sub, {a, b}, std::move(z), {},
                  [](const BackwardContext& c, const Tensor& g) -> Grads {
                      return {g, c.needs_grad(1) ? neg(g) : Tensor{}};
                  });
}

Tensor mul(const Tensor& a, const Tensor& b) {  // z = a·b;  ∂z/∂a = b, ∂z/∂b = a
    if (!promotion::same_floating(a, b)) return promotion::arithmetic(Arith::mul, a, b);
    Tensor z = zip_floating(a, b, "mul", [](const auto& x, const auto& y) { return x * y; });
    return record(Op::mul, {a, b}, std::move(z), {a, b},
                  [](const BackwardContext& c, const Tensor& g) -> Grads {
                      return {c.needs_grad(0) ? g * c.saved(1) : Tensor{},
                              c.needs_grad(1) ? g * c.saved(0) : Tensor{}};
                  });
}

Tensor div(const Tensor& a, const Tensor& b) {  // z = a/b;  ∂z/∂a = 1/b, ∂z/∂b = −a/b²
    if (!promotion::same_floating(a, b)) return promotion::arithmetic(Arith::div, a, b);
    Tensor z = zip_floating(a, b, "div", [](const auto& x, const auto& y) { return x / y; });
    return record(Op::div, {a, b}, std::move(z), {a, b},
                  [](const BackwardContext& c, const Tensor& g) -> Grads {
                      const Tensor bb = c.saved(1);
                      return {c.needs_grad(0) ? g / bb : Tensor{},
                              c.needs_grad(1) ? -g * c.saved(0) / (bb * bb) : Tensor{}};
                  });
}

Tensor neg(const Tensor& x) {  // y = −x;  ∂y/∂x = −1
    if (promotion::is_integer(x)) return promotion::negate(x);
    Tensor y = map_floating(x, "neg", [](const auto& a) { return -a; });
    return record(Op::neg, {x}, std::move(y), {},
                  [](const BackwardContext&, const Tensor& g) { return Grads{neg(g)}; });
}

Tensor add(const Tensor& x, double c) {  // y = x + c;  ∂y/∂x = 1
    if (promotion::is_integer(x)) return add(x, default_float(c));
    Tensor y = kernel::dispatch_floating(x.dtype(), "add", [&](auto tag) {
        using T = decltype(tag);
        return kernel::map_as<T>(x, [c](const auto& a) { return a + static_cast<T>(c); });
    });
    return record(Op::add_scalar, {x}, std::move(y), {},
                  [](const BackwardContext&, const Tensor& g) { return Grads{g}; });
}

Tensor mul(const Tensor& x, double c) {  // y = c·x;  ∂y/∂x = c
    if (promotion::is_integer(x)) return mul(x, default_float(c));
    Tensor y = kernel::dispatch_floating(x.dtype(), "mul", [&](auto tag) {
        using T = decltype(tag);
        return kernel::map_as<T>(x, [c](const auto& a) { return a * static_cast<T>(c); });
    });
    return record(Op::mul_scalar, {x}, std::move(y), {},
                  [c](const BackwardContext&, const Tensor& g) { return Grads{mul(g, c)}; });
}

Tensor div(const Tensor& x, double c) {  // y = x/c;  ∂y/∂x = 1/c (a true division, not x·(1/c))
    if (promotion::is_integer(x)) return div(x, default_float(c));
    Tensor y = kernel::dispatch_floating(x.dtype(), "div", [&](auto tag) {
        using T = decltype(tag);
        return kernel::map_as<T>(x, [c](const auto& a) { return a / static_cast<T>(c); });
    });
    return record(Op::div_scalar, {x}, std::move(y), {},
                  [c](const BackwardContext&, const Tensor& g) { return Grads{div(g, c)}; });
}

Tensor rdiv(double c, const Tensor& x) {  // y = c/x;  ∂y/∂x = −c/x² = −y/x
    if (promotion::is_integer(x)) return div(default_float(c), x);
    Tensor y = kernel::dispatch_floating(x.dtype(), "div", [&](auto tag) {
        using T = decltype(tag);
        return kernel::map_as<T>(x, [c](const auto& a) { return static_cast<T>(c) / a; });
    });
    return record(Op::rdiv_scalar, {x}, y, {x, y}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{-g * c.saved(1) / c.saved(0)};
    });
}

Tensor operator+(const Tensor& a, const Tensor& b) {
    return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
    return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
    return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
    return div(a, b);
}
Tensor operator+(const Tensor& a, double b) {
    return add(a, b);
}
Tensor operator-(const Tensor& a, double b) {
    return promotion::is_integer(a) ? sub(a, default_float(b)) : add(a, -b);
}
Tensor operator*(const Tensor& a, double b) {
    return mul(a, b);
}
Tensor operator/(const Tensor& a, double b) {
    return div(a, b);
}
Tensor operator+(double a, const Tensor& b) {
    return add(b, a);
}
Tensor operator-(double a, const Tensor& b) {
    return promotion::is_integer(b) ? sub(default_float(a), b) : add(neg(b), a);
}
Tensor operator*(double a, const Tensor& b) {
    return mul(b, a);
}
Tensor operator/(double a, const Tensor& b) {
    return rdiv(a, b);
}
Tensor operator-(const Tensor& x) {
    return neg(x);
}

void detail::throw_beyond_int64(std::uint64_t v, std::string_view op) {
    throw Error(fmt::format("{}: the integer scalar {} does not fit in int64", op, v));
}

}  // namespace descent
