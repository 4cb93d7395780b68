// Fused forms of compositions a training step repeats: one node, and one short backward, where
// the composition records several. squared_error gives the composition's bits;
// softmax_cross_entropy sums in double and agrees with its composition to rounding.

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "descent/grad_mode.hpp"
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
    if (mean) loss = loss / n;
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

/// onehot(y) [N, C] in the given dtype.
Tensor one_hot(const Tensor& target, std::int64_t classes, Dtype dtype) {
    Tensor t = zeros({target.numel(), classes}, {.dtype = dtype});
    const std::int64_t* y = target.data<std::int64_t>();
    kernel::dispatch_floating(dtype, "softmax_cross_entropy", [&](auto tag) {
        using T = decltype(tag);
        T* p = t.mutable_data<T>();
        for (std::int64_t i = 0; i < target.numel(); ++i) p[i * classes + y[i]] = T(1);
    });
    return t;
}

/// Row i of z as softmax(zᵢ) in `probs` (the exponentials e^{zᵢc − max}, then divided by their
/// sum, formed in double); returns log Σ_c e^{zᵢc}.
template <class T>
double softmax_row(const T* z, std::int64_t classes, T* probs) {
    using Row = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
    const Row row(z, classes);
    const T m = row.maxCoeff();
    Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> e(probs, classes);
    e = (row - m).exp();
    double s = 0;
    for (std::int64_t c = 0; c < classes; ++c) s += double(probs[c]);
    e *= T(1.0 / s);
    return double(m) + std::log(s);
}
}  // namespace

/// L = Σᵢ wᵢ·(log Σ_c e^{zᵢc} − zᵢ,yᵢ) / divisor, in double;
/// ∂z = (softmax(z) − onehot(y)) ⊙ wᵢ·g / divisor by row. Without create_graph one pass writes
/// it; with create_graph it is recorded from softmax(), so it differentiates again.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weights,
                             double divisor) {
    check_cross_entropy(logits, target, weights);
    const std::int64_t rows = logits.size(0), classes = logits.size(1);
    Tensor loss = empty({}, logits.dtype(), "softmax_cross_entropy");
    kernel::dispatch_floating(logits.dtype(), "softmax_cross_entropy", [&](auto tag) {
        using T = decltype(tag);
        const T *z = logits.data<T>(), *w = weights.data<T>();
        const std::int64_t* y = target.data<std::int64_t>();
        std::vector<T> probs(static_cast<std::size_t>(classes));
        double total = 0;
        for (std::int64_t i = 0; i < rows; ++i) {
            const double lse = softmax_row(z + i * classes, classes, probs.data());
            total += double(w[i]) * (lse - double(z[i * classes + y[i]]));
        }
        *loss.mutable_data<T>() = T(total / divisor);
    });
    return record(Op::softmax_cross_entropy, {logits}, loss, {logits, target, weights},
                  [divisor, rows, classes](const BackwardContext& c, const Tensor& g) {
                      const Tensor z = c.saved(0), y = c.saved(1), w = c.saved(2);
                      Grads grads(1);
                      if (is_grad_enabled()) {  // create_graph: differentiable ops
                          const Tensor scale = reshape(w * (g / divisor), {rows, 1});
                          grads[0] = (softmax(z, 1) - one_hot(y, classes, z.dtype())) * scale;
                          return grads;
                      }
                      Tensor dz = empty({rows, classes}, z.dtype(), "softmax_cross_entropy");
                      kernel::dispatch_floating(z.dtype(), "softmax_cross_entropy", [&](auto tag) {
                          using T = decltype(tag);
                          const T *pz = z.data<T>(), *pw = w.data<T>();
                          const std::int64_t* py = y.data<std::int64_t>();
                          T* out = dz.mutable_data<T>();
                          const double upstream = g.item() / divisor;
                          for (std::int64_t i = 0; i < rows; ++i) {
                              T* row = out + i * classes;
                              softmax_row(pz + i * classes, classes, row);
                              row[py[i]] -= T(1);
                              Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(row, classes) *=
                                  T(double(pw[i]) * upstream);
                          }
                      });
                      grads[0] = dz;
                      return grads;
                  });
}

}  // namespace descent
