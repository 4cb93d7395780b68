// Trigonometric and hyperbolic functions, and the two-argument atan2 and hypot. Each states its
// forward kernel and, beside it, its derivative written with differentiable ops.

#include <cmath>

#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {
using kernel::map_floating;
using kernel::zip_floating;

Tensor sin(const Tensor& x) {  // y = sin x;  y' = cos x
    Tensor y = map_floating(x, "sin", [](const auto& a) { return a.sin(); });
    return record(Op::sin, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{g * cos(c.saved(0))};
    });
}

Tensor cos(const Tensor& x) {  // y = cos x;  y' = −sin x
    Tensor y = map_floating(x, "cos", [](const auto& a) { return a.cos(); });
    return record(Op::cos, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{-g * sin(c.saved(0))};
    });
}

Tensor tan(const Tensor& x) {  // y = tan x;  y' = 1 + y²
    Tensor y = map_floating(x, "tan", [](const auto& a) { return a.tan(); });
    return record(Op::tan, {x}, y, {y}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor yy = c.saved(0);
        return Grads{g * (yy * yy + 1.0)};
    });
}

Tensor asin(const Tensor& x) {  // y = arcsin x;  y' = 1/√(1 − x²)
    Tensor y = map_floating(x, "asin", [](const auto& a) { return a.asin(); });
    return record(Op::asin, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor xx = c.saved(0);
        return Grads{g * rsqrt(1.0 - xx * xx)};
    });
}

Tensor acos(const Tensor& x) {  // y = arccos x;  y' = −1/√(1 − x²)
    Tensor y = map_floating(x, "acos", [](const auto& a) { return a.acos(); });
    return record(Op::acos, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor xx = c.saved(0);
        return Grads{-g * rsqrt(1.0 - xx * xx)};
    });
}

Tensor atan(const Tensor& x) {  // y = arctan x;  y' = 1/(1 + x²)
    Tensor y = map_floating(x, "atan", [](const auto& a) { return a.atan(); });
    return record(Op::atan, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor xx = c.saved(0);
        return Grads{g / (xx * xx + 1.0)};
    });
}

Tensor sinh(const Tensor& x) {  // y = sinh x;  y' = cosh x
    Tensor y = map_floating(x, "sinh", [](const auto& a) { return a.sinh(); });
    return record(Op::sinh, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{g * cosh(c.saved(0))};
    });
}

Tensor cosh(const Tensor& x) {  // y = cosh x;  y' = sinh x
    Tensor y = map_floating(x, "cosh", [](const auto& a) { return a.cosh(); });
    return record(Op::cosh, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{g * sinh(c.saved(0))};
    });
}

Tensor atan2(const Tensor& a, const Tensor& b) {
    // z = atan2(a, b), the angle of the point (b, a);  ∂z/∂a = b/(a² + b²),  ∂z/∂b = −a/(a² + b²)
    Tensor z = zip_floating(a, b, "atan2", [](const auto& y, const auto& x) {
        using T = typename std::decay_t<decltype(y)>::Scalar;
        return y.binaryExpr(x, [](T u, T v) { return std::atan2(u, v); });
    });
    return record(Op::atan2, {a, b}, std::move(z), {a, b},
                  [](const BackwardContext& c, const Tensor& g) {
                      const Tensor aa = c.saved(0), bb = c.saved(1);
                      const Tensor scale = g / (aa * aa + bb * bb);
                      return Grads{c.needs_grad(0) ? scale * bb : Tensor{},
                                   c.needs_grad(1) ? -scale * aa : Tensor{}};
                  });
}

Tensor hypot(const Tensor& a, const Tensor& b) {
    // z = √(a² + b²) without overflow;  ∂z/∂a = a/z,  ∂z/∂b = b/z
    Tensor z = zip_floating(a, b, "hypot", [](const auto& x, const auto& y) {
        using T = typename std::decay_t<decltype(x)>::Scalar;
        return x.binaryExpr(y, [](T u, T v) { return std::hypot(u, v); });
    });
    return record(Op::hypot, {a, b}, z, {a, b, z}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor scale = g / c.saved(2);
        return Grads{c.needs_grad(0) ? scale * c.saved(0) : Tensor{},
                     c.needs_grad(1) ? scale * c.saved(1) : Tensor{}};
    });
}

}  // namespace descent
