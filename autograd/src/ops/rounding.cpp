// Rounding to integers (floor, ceil, round, trunc: zero gradient, as torch) and the two
// remainders: fmod (the sign of the dividend, C's fmod) and remainder (the sign of the divisor,
// Python's %).

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {
using kernel::map_floating;
using kernel::zip_floating;

namespace {
/// Records a rounding op: piecewise constant, so its gradient is 0 wherever it exists.
Tensor record_step_function(Op op, const Tensor& x, Tensor y) {
    return record(op, {x}, std::move(y), {},
                  [](const BackwardContext&, const Tensor& g) { return Grads{zeros_like(g)}; });
}

/// f on every pair of elements of two Eigen array expressions.
template <class F>
auto each_pair(F f) {
    return [f](const auto& a, const auto& b) {
        using T = typename std::decay_t<decltype(a)>::Scalar;
        return a.binaryExpr(b, [f](T u, T v) -> T { return f(u, v); });
    };
}

/// The divisor b of a floating tensor's remainder as a 0-d tensor of its dtype.
Tensor divisor_like(double b, const Tensor& a, std::string_view op) {
    kernel::check_defined(a, op);
    kernel::dispatch_floating(a.dtype(), op, [](auto) {});
    return scalar_tensor(b, {.dtype = a.dtype()});
}
}  // namespace

Tensor floor(const Tensor& x) {  // ⌊x⌋
    return record_step_function(Op::floor, x,
                                map_floating(x, "floor", [](const auto& a) { return a.floor(); }));
}

Tensor ceil(const Tensor& x) {  // ⌈x⌉
    return record_step_function(Op::ceil, x,
                                map_floating(x, "ceil", [](const auto& a) { return a.ceil(); }));
}

Tensor trunc(const Tensor& x) {  // x rounded toward 0
    return record_step_function(Op::trunc, x, map_floating(x, "trunc", [](const auto& a) {
                                    using T = typename std::decay_t<decltype(a)>::Scalar;
                                    return a.unaryExpr([](T v) { return std::trunc(v); });
                                }));
}

Tensor round(const Tensor& x, std::int64_t decimals) {
    // The nearest integer, ties to even (as torch: round(2.5) = 2); with decimals d, that of
    // x·10ᵈ divided by 10ᵈ (x / 10⁻ᵈ and back for d < 0, as torch computes it). Where x·10ᵈ
    // is at least 2⁵² (2²³ in float32) it has no fraction to round and x is kept (torch gives
    // inf where x·10ᵈ overflows).
    Tensor y = kernel::dispatch_floating(x.dtype(), "round", [&](auto tag) {
        using T = decltype(tag);
        const std::int64_t limit = std::numeric_limits<T>::max_exponent10;  // 10ᵈ finite in T
        if (decimals < -limit || decimals > limit) {
            throw Error(fmt::format("round: decimals must be in [{}, {}] for {}, got {}", -limit,
                                    limit, dtype_name(x.dtype()), decimals));
        }
        const T scale = std::pow(T(10), static_cast<T>(decimals < 0 ? -decimals : decimals));
        return kernel::map_as<T>(x, [&](const auto& a) {
            auto nearest = [](T v) { return std::nearbyint(v); };
            if (decimals > 0) {  // x itself where x·10ᵈ is already an integer (or overflows)
                const T integral = T(1) / std::numeric_limits<T>::epsilon();
                return ((a * scale).abs() < integral)
                    .select((a * scale).unaryExpr(nearest) / scale, a)
                    .eval();
            }
            if (decimals < 0) return ((a / scale).unaryExpr(nearest) * scale).eval();
            return a.unaryExpr(nearest).eval();
        });
    });
    return record_step_function(Op::round, x, std::move(y));
}

Tensor fmod(const Tensor& a, const Tensor& b) {
    // z = a − b·trunc(a/b), the sign of a;  ∂z/∂a = 1,  ∂z/∂b = −trunc(a/b)
    Tensor z =
        zip_floating(a, b, "fmod", each_pair([](auto u, auto v) { return std::fmod(u, v); }));
    return record(
        Op::fmod, {a, b}, std::move(z), {a, b}, [](const BackwardContext& c, const Tensor& g) {
            return Grads{g, c.needs_grad(1) ? -g * trunc(c.saved(0) / c.saved(1)) : Tensor{}};
        });
}

Tensor remainder(const Tensor& a, const Tensor& b) {
    // z = a − b·⌊a/b⌋, the sign of b;  ∂z/∂a = 1,  ∂z/∂b = −⌊a/b⌋. Computed from fmod, which is
    // exact, and moved by b where the signs differ (a − b·⌊a/b⌋ itself loses digits).
    Tensor z = zip_floating(a, b, "remainder", each_pair([](auto u, auto v) {
                                const auto r = std::fmod(u, v);
                                return r != 0 && (r < 0) != (v < 0) ? r + v : r;
                            }));
    return record(
        Op::remainder, {a, b}, std::move(z), {a, b}, [](const BackwardContext& c, const Tensor& g) {
            return Grads{g, c.needs_grad(1) ? -g * floor(c.saved(0) / c.saved(1)) : Tensor{}};
        });
}

Tensor fmod(const Tensor& a, double b) {
    return fmod(a, divisor_like(b, a, "fmod"));
}

Tensor remainder(const Tensor& a, double b) {
    return remainder(a, divisor_like(b, a, "remainder"));
}

}  // namespace descent
