// Elementwise functions of one tensor. Each states its forward kernel and, beside it, its
// derivative, written with differentiable ops so that gradients of gradients work.

#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "one_pass.hpp"

namespace descent {
using kernel::map_floating;

namespace {

/// 1 where the predicate holds, else 0, as a constant tensor of x's dtype.
Tensor mask_of(const Tensor& predicate, const Tensor& like) {
    return kernel::mask_as(predicate, like.dtype());
}
}  // namespace

Tensor exp(const Tensor& x) {  // y = eˣ;  y' = y
    Tensor y = map_floating(x, "exp", [](const auto& a) { return a.exp(); });
    return record(Op::exp, {x}, y, {y},
                  [](const BackwardContext& c, const Tensor& g) { return Grads{g * c.saved(0)}; });
}

Tensor log(const Tensor& x) {  // y = ln x;  y' = 1/x
    Tensor y = map_floating(x, "log", [](const auto& a) { return a.log(); });
    return record(Op::log, {x}, std::move(y), {x},
                  [](const BackwardContext& c, const Tensor& g) { return Grads{g / c.saved(0)}; });
}

Tensor sqrt(const Tensor& x) {  // y = √x;  y' = 1/(2y)
    Tensor y = map_floating(x, "sqrt", [](const auto& a) { return a.sqrt(); });
    return record(Op::sqrt, {x}, y, {y}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{g / (c.saved(0) * 2.0)};
    });
}

Tensor sign(const Tensor& x) {  // −1, 0, +1; not differentiable (zero almost everywhere)
    return map_floating(x, "sign", [](const auto& a) { return a.sign(); });
}

Tensor abs(const Tensor& x) {  // y = |x|;  y' = sign(x) (0 at 0, as PyTorch)
    Tensor y = map_floating(x, "abs", [](const auto& a) { return a.abs(); });
    return record(Op::abs, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{g * sign(c.saved(0))};
    });
}

Tensor tanh(const Tensor& x) {  // y = tanh x;  y' = 1 − y²
    Tensor y = map_floating(x, "tanh", [](const auto& a) { return a.tanh(); });
    return record(Op::tanh, {x}, y, {y}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor yy = c.saved(0);
        return Grads{g * (1.0 - yy * yy)};
    });
}

Tensor sigmoid(const Tensor& x) {  // y = 1/(1 + e⁻ˣ);  y' = y(1 − y)
    Tensor y = map_floating(x, "sigmoid", [](const auto& a) { return (1 + (-a).exp()).inverse(); });
    return record(Op::sigmoid, {x}, y, {y}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor yy = c.saved(0);
        return Grads{g * yy * (1.0 - yy)};
    });
}

Tensor erf(const Tensor& x) {  // y = erf x;  y' = 2/√π · e^(−x²)
    Tensor y = kernel::dispatch_floating(x.dtype(), "erf", [&](auto tag) {
        using T = decltype(tag);
        return kernel::map_as<T>(
            x, [](const auto& a) { return a.unaryExpr([](T v) { return std::erf(v); }); });
    });
    return record(Op::erf, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor xx = c.saved(0);
        return Grads{g * exp(-(xx * xx)) * (2.0 / std::sqrt(std::numbers::pi))};
    });
}

Tensor relu(const Tensor& x) {  // y = max(x, 0);  y' = [x > 0] = [y > 0]
    Tensor y = map_floating(x, "relu", [](const auto& a) { return kernel::nan_max(a, 0); });
    return record(Op::relu, {x}, y, {y}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{kernel::relu_backward(g, c.saved(0))};  // g·[y > 0]
    });
}

Tensor leaky_relu(const Tensor& x, double slope) {  // y = x if x > 0 else s·x;  y' = 1 or s
    check_option(slope, finite(), "leaky_relu", "negative_slope");
    Tensor y = kernel::dispatch_floating(x.dtype(), "leaky_relu", [&](auto tag) {
        using T = decltype(tag);
        const T s = static_cast<T>(slope);
        return kernel::map_as<T>(x, [s](const auto& a) { return (a > 0).select(a, a * s); });
    });
    return record(Op::leaky_relu, {x}, std::move(y), {x},
                  [slope](const BackwardContext& c, const Tensor& g) {
                      const Tensor m = mask_of(c.saved(0) > 0.0, g);
                      return Grads{g * (m * (1.0 - slope) + slope)};
                  });
}

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
    constexpr double kInvSqrt2 = 0.70710678118654752440;
    const double k_sqrt_2_over_pi = std::sqrt(2.0 / std::numbers::pi);
    constexpr double kCubic = 0.044715;
    Tensor y = kernel::dispatch_floating(x.dtype(), "gelu", [&](auto tag) {
        using T = decltype(tag);
        if (approximate == GeluApproximation::none) {  // y = x·Φ(x) = ½x(1 + erf(x/√2))
            return kernel::map_as<T>(x, [](const auto& a) {
                return T(0.5) * a *
                       (T(1) + (a * T(kInvSqrt2)).unaryExpr([](T v) { return std::erf(v); }));
            });
        }
        const T k = static_cast<T>(k_sqrt_2_over_pi);  // y = ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
        return kernel::map_as<T>(x, [k](const auto& a) {
            return T(0.5) * a * (T(1) + (k * (a + T(kCubic) * a * a * a)).tanh());
        });
    });
    return record(Op::gelu, {x}, y, {x}, [=](const BackwardContext& c, const Tensor& g) {
        const Tensor xx = c.saved(0);
        if (approximate == GeluApproximation::none) {
            // y' = Φ(x) + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)
            const Tensor cdf = (erf(xx * kInvSqrt2) + 1.0) * 0.5;
            const Tensor pdf = exp(xx * xx * -0.5) * (1.0 / std::sqrt(2.0 * std::numbers::pi));
            return Grads{g * (cdf + xx * pdf)};
        }
        // u = √(2/π)(x + 0.044715x³), t = tanh u:  y' = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 +
        // 3·0.044715x²)
        const Tensor x2 = xx * xx;
        const Tensor t = tanh((xx + x2 * xx * kCubic) * k_sqrt_2_over_pi);
        const Tensor du = (x2 * (3.0 * kCubic) + 1.0) * k_sqrt_2_over_pi;
        return Grads{g * ((t + 1.0) * 0.5 + xx * (1.0 - t * t) * du * 0.5)};
    });
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
    // y = log(1 + e^(βx))/β, or x where βx > threshold;  y' = σ(βx), or 1 there
    if (!(std::isfinite(beta) && beta != 0.0) || std::isnan(threshold)) {
        throw Error(
            fmt::format("softplus: beta must be finite and non-zero and threshold a "
                        "number, got beta {} and threshold {}",
                        beta, threshold));
    }
    Tensor y = kernel::dispatch_floating(x.dtype(), "softplus", [&](auto tag) {
        using T = decltype(tag);
        const T b = static_cast<T>(beta), th = static_cast<T>(threshold);
        return kernel::map_as<T>(x, [b, th](const auto& a) {
            const auto z = a * b;  // log(1 + eᶻ) = max(z, 0) + log1p(e^(−|z|)), stable for any z
            return (z > th).select(a, (z.max(T(0)) + (-z.abs()).exp().log1p()) / b);
        });
    });
    return record(Op::softplus, {x}, y, {x}, [=](const BackwardContext& c, const Tensor& g) {
        const Tensor z = c.saved(0) * beta;
        const Tensor linear = mask_of(z > threshold, g);
        return Grads{g * (linear + (1.0 - linear) * sigmoid(z))};
    });
}

Tensor pow(const Tensor& x, double p) {  // y = xᵖ;  y' = p·xᵖ⁻¹ (0 for p = 0)
    Tensor y = kernel::dispatch_floating(x.dtype(), "pow", [&](auto tag) {
        using T = decltype(tag);
        const T e = static_cast<T>(p);
        return kernel::map_as<T>(x, [e](const auto& a) { return a.pow(e); });
    });
    return record(Op::pow_scalar, {x}, std::move(y), {x},
                  [p](const BackwardContext& c, const Tensor& g) {
                      if (p == 0.0) return Grads{zeros_like(g)};
                      return Grads{g * pow(c.saved(0), p - 1.0) * p};
                  });
}

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
    // y = min(max(x, lo), hi);  y' = [lo ≤ x ≤ hi]
    Tensor y = kernel::dispatch_floating(x.dtype(), "clamp", [&](auto tag) {
        using T = decltype(tag);
        const T l = lo ? static_cast<T>(*lo) : -std::numeric_limits<T>::infinity();
        const T h = hi ? static_cast<T>(*hi) : std::numeric_limits<T>::infinity();
        return kernel::map_as<T>(
            x, [l, h](const auto& a) { return kernel::nan_min(kernel::nan_max(a, l), h); });
    });
    return record(Op::clamp, {x}, std::move(y), {x},
                  [lo, hi](const BackwardContext& c, const Tensor& g) {
                      const Tensor xx = c.saved(0);
                      Tensor inside = ones_like(g);
                      if (lo) inside = inside * mask_of(xx >= *lo, g);
                      if (hi) inside = inside * mask_of(xx <= *hi, g);
                      return Grads{g * inside};
                  });
}

}  // namespace descent
