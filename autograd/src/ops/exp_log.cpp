// The exponential and logarithm's accurate variants (log1p, expm1, log2, log10), rsqrt, and
// reciprocal and square composed from the arithmetic ops. Forward kernel and derivative side by
// side; log1p and expm1 keep their digits near 0 where log(1 + x) and exp(x) − 1 lose them.

#include <cmath>
#include <numbers>

#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {
using kernel::map_floating;

namespace {
/// f applied to every element of an Eigen array expression (for the functions Eigen lacks).
template <class F>
auto each(F f) {
    return [f](const auto& a) {
        using T = typename std::decay_t<decltype(a)>::Scalar;
        return a.unaryExpr([f](T v) -> T { return f(v); });
    };
}
}  // namespace

Tensor log1p(const Tensor& x) {  // y = ln(1 + x);  y' = 1/(1 + x)
    Tensor y = map_floating(x, "log1p", [](const auto& a) { return a.log1p(); });
    return record(Op::log1p, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{g / (c.saved(0) + 1.0)};
    });
}

Tensor expm1(const Tensor& x) {  // y = eˣ − 1;  y' = eˣ = y + 1
    Tensor y = map_floating(x, "expm1", [](const auto& a) { return a.expm1(); });
    return record(Op::expm1, {x}, y, {y}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{g * (c.saved(0) + 1.0)};
    });
}

Tensor log2(const Tensor& x) {  // y = log₂ x;  y' = 1/(x ln 2)
    Tensor y = map_floating(x, "log2", each([](auto v) { return std::log2(v); }));
    return record(Op::log2, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{g / (c.saved(0) * std::numbers::ln2)};
    });
}

Tensor log10(const Tensor& x) {  // y = log₁₀ x;  y' = 1/(x ln 10)
    Tensor y = map_floating(x, "log10", [](const auto& a) { return a.log10(); });
    return record(Op::log10, {x}, std::move(y), {x}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{g / (c.saved(0) * std::numbers::ln10)};
    });
}

Tensor rsqrt(const Tensor& x) {  // y = 1/√x;  y' = −½x^(−3/2) = −½y³
    Tensor y = map_floating(x, "rsqrt", [](const auto& a) { return a.sqrt().inverse(); });
    return record(Op::rsqrt, {x}, y, {y}, [](const BackwardContext& c, const Tensor& g) {
        const Tensor yy = c.saved(0);
        return Grads{g * yy * yy * yy * -0.5};
    });
}

Tensor reciprocal(const Tensor& x) {  // 1/x
    return rdiv(1.0, x);
}

Tensor square(const Tensor& x) {  // x·x
    return mul(x, x);
}

}  // namespace descent
