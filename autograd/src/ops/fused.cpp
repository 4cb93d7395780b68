// Fused forms of compositions a training step repeats: one node, and one short backward, where
// the composition records several. squared_error gives the composition's bits;
// softmax_cross_entropy sums in double and agrees with its composition to rounding.

#include <fmt/format.h>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "one_pass.hpp"
#include "reduce_kernel.hpp"

namespace descent {

/// L = Σ(a − b)² (/ n when mean), the sum in double as sum() does;
/// ∂a = 2(a − b)·g (/ n), ∂b = −∂a — written with differentiable ops, so it differentiates twice.
/// (a − b)·(2s) = 2((a − b)·s) exactly (a power of two), so the gradient has the bits of the
/// composition mean((a − b)·(a − b)), whose backward adds (a − b)·s to itself.
Tensor squared_error(const Tensor& a, const Tensor& b, bool mean) {
    kernel::check_defined(a, "squared_error");
    kernel::check_defined(b, "squared_error");
    kernel::check_same_dtype(a, b, "squared_error");
    if (a.shape() != b.shape()) {
        throw ShapeError(fmt::format("squared_error: {} and {} differ in shape",
                                     shape_str(a.shape()), shape_str(b.shape())));
    }
    Tensor squares = empty(a.shape(), a.dtype(), "squared_error");
    kernel::dispatch_floating(a.dtype(), "squared_error", [&](auto tag) {
        using T = decltype(tag);
        kernel::out<T>(squares) = (kernel::in<T>(a) - kernel::in<T>(b)).square();
    });
    Dims every(static_cast<std::size_t>(a.dim()));
    for (std::size_t d = 0; d < every.size(); ++d) every[d] = static_cast<std::int64_t>(d);
    Tensor loss =
        alias(kernel::reduce(squares, every, kernel::Reduction::sum, "squared_error"), {});
    const auto n = static_cast<double>(a.numel());
    if (mean) loss = loss / n;
    return record(Op::squared_error, {a, b}, std::move(loss), {a, b},
                  [mean, n](const BackwardContext& c, const Tensor& g) {
                      const Tensor scale = (mean ? g / n : g) * 2.0;
                      const Tensor ga = (c.saved(0) - c.saved(1)) * scale;
                      Grads grads(2);
                      if (c.needs_grad(0)) grads[0] = ga;
                      if (c.needs_grad(1)) grads[1] = neg(ga);
                      return grads;
                  });
}

namespace {
/// The checks of softmax_cross_entropy: logits [N, C] floating, targets [N] int64 in [0, C),
/// weights [N] of the logits' dtype, not requiring grad.
void check_cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weights) {
    constexpr std::string_view op = "softmax_cross_entropy";
    kernel::check_defined(logits, op);
    kernel::check_defined(target, op);
    kernel::check_defined(weights, op);
    kernel::check_same_dtype(logits, weights, op);
    if (target.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format("{}: targets must be int64 class indices, got {}", op,
                                     dtype_name(target.dtype())));
    }
    if (logits.dim() != 2 || target.dim() != 1 || weights.dim() != 1 ||
        target.size(0) != logits.size(0) || weights.size(0) != logits.size(0)) {
        throw ShapeError(fmt::format(
            "{}: expected logits [N, C], targets [N] and weights [N], "
            "got {}, {} and {}",
            op, shape_str(logits.shape()), shape_str(target.shape()), shape_str(weights.shape())));
    }
    if (weights.requires_grad()) {
        throw AutogradError(fmt::format("{}: the weights must not require grad", op));
    }
    const std::int64_t classes = logits.size(1);
    const std::int64_t* y = target.data<std::int64_t>();
    for (std::int64_t i = 0; i < target.numel(); ++i) {
        if (y[i] < 0 || y[i] >= classes) {
            throw IndexError(
                fmt::format("{}: target {} out of range for {} classes", op, y[i], classes));
        }
    }
}

}  // namespace

/// L = Σᵢ wᵢ·(log Σ_c e^{zᵢc} − zᵢ,yᵢ) / divisor, in double;
/// ∂z = (softmax(z) − onehot(y)) ⊙ wᵢ·g / divisor by row.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weights,
                             double divisor) {
    check_cross_entropy(logits, target, weights);
    const Tensor loss = kernel::softmax_cross_entropy_loss(logits, target, weights, divisor);
    return record(Op::softmax_cross_entropy, {logits}, std::move(loss), {logits, target, weights},
                  [divisor](const BackwardContext& c, const Tensor& g) {
                      return Grads{kernel::softmax_cross_entropy_backward(c.saved(0), c.saved(1),
                                                                          c.saved(2), g, divisor)};
                  });
}

}  // namespace descent
