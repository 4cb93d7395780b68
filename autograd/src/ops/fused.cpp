// Fused forms of compositions a training step repeats: one node, and one short backward, where
// the composition records several. Each gives the bits of the composition it replaces.

#include <fmt/format.h>

#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"
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
    if (mean) loss = alias(loss / n, {});
    return record(Op::squared_error, {a, b}, loss, {a, b},
                  [mean, n](const BackwardContext& c, const Tensor& g) {
                      const Tensor scale = (mean ? g / n : g) * 2.0;
                      const Tensor ga = (c.saved(0) - c.saved(1)) * scale;
                      Grads grads(2);
                      if (c.needs_grad(0)) grads[0] = ga;
                      if (c.needs_grad(1)) grads[1] = neg(ga);
                      return grads;
                  });
}

}  // namespace descent
