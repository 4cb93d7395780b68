// Matrix products (the GEMM kernel: gemm.hpp). One primitive, op(a)·op(b) with
// optional transposes, serves the forward and every backward product without copying a
// transpose: for C = A·B, ∂A = G·Bᵀ and ∂B = Aᵀ·G.

#include <fmt/format.h>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "gemm.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "ops_internal.hpp"

namespace descent {
namespace {

Shape batch_of(const Shape& s) {
    return Shape(s.begin(), s.end() - 2);
}

Shape with_batch(Shape batch, std::int64_t rows, std::int64_t cols) {
    batch.push_back(rows);
    batch.push_back(cols);
    return batch;
}

[[noreturn]] void throw_mismatch(std::string_view op, const Shape& a, const Shape& b) {
    throw ShapeError(fmt::format("{}: cannot multiply {} by {}", op, shape_str(a), shape_str(b)));
}
}  // namespace

namespace detail {

Tensor matmul_t(const Tensor& a, const Tensor& b, bool ta, bool tb) {
    kernel::check_same_dtype(a, b, "matmul");
    if (a.dim() < 2 || b.dim() < 2) throw_mismatch("matmul", a.shape(), b.shape());
    const std::int64_t ar = a.size(-2), ac = a.size(-1), br = b.size(-2), bc = b.size(-1);
    const std::int64_t n = ta ? ac : ar, k = ta ? ar : ac, m = tb ? br : bc;
    if (k != (tb ? bc : br)) throw_mismatch("matmul", a.shape(), b.shape());
    if (b.dim() == 2 && a.dim() > 2 && !ta) {  // fold a's batch into rows: one large GEMM
        Shape out_shape = a.shape();
        out_shape.back() = m;
        return reshape(matmul_t(reshape(a, {-1, ac}), b, false, tb), out_shape);
    }
    const bool plain = a.dim() == 2 && b.dim() == 2;  // no batch to broadcast
    const Shape batch =
        plain ? Shape{} : broadcast_shapes(batch_of(a.shape()), batch_of(b.shape()), "matmul");
    const Tensor wa = plain ? a : kernel::broadcast_copy(a, with_batch(batch, ar, ac));
    const Tensor wb = plain ? b : kernel::broadcast_copy(b, with_batch(batch, br, bc));
    Tensor c = plain ? empty({n, m}, a.dtype(), "matmul")
                     : empty(with_batch(batch, n, m), a.dtype(), "matmul");
    const std::int64_t batches = plain ? 1 : numel_of(batch);
    kernel::dispatch_floating(a.dtype(), "matmul", [&](auto tag) {
        using T = decltype(tag);
        const T* pa = static_cast<const T*>(wa.raw_data());
        const T* pb = static_cast<const T*>(wb.raw_data());
        T* pc = elements<T>(c);
        for (std::int64_t i = 0; i < batches; ++i) {
            gemm(pa + i * ar * ac, ar, ac, ta, pb + i * br * bc, br, bc, tb, pc + i * n * m);
        }
    });
    return record(Op::matmul, {a, b}, std::move(c), {a, b},
                  [ta, tb](const BackwardContext& ctx, const Tensor& g) {
                      const Tensor A = ctx.saved(0), B = ctx.saved(1);
                      Grads grads(2);
                      // C = op(A)·op(B):  ∂op(A) = G·op(B)ᵀ,  ∂op(B) = op(A)ᵀ·G, transposed back
                      // where op = ᵀ
                      if (ctx.needs_grad(0)) {
                          grads[0] = ta ? matmul_t(B, g, tb, true) : matmul_t(g, B, false, !tb);
                      }
                      if (ctx.needs_grad(1)) {
                          grads[1] = tb ? matmul_t(g, A, true, ta) : matmul_t(A, g, !ta, false);
                      }
                      return grads;
                  });
}

}  // namespace detail

Tensor matmul(const Tensor& a, const Tensor& b) {
    if (a.dim() == 0 || b.dim() == 0) throw_mismatch("matmul", a.shape(), b.shape());
    const std::int64_t k_b = b.dim() == 1 ? b.size(0) : b.size(-2);
    if (a.size(-1) != k_b) throw_mismatch("matmul", a.shape(), b.shape());
    if (a.dim() == 1 && b.dim() == 1) {  // dot product
        return reshape(detail::matmul_t(unsqueeze(a, 0), unsqueeze(b, 1), false, false), {});
    }
    if (a.dim() == 1) return squeeze(detail::matmul_t(unsqueeze(a, 0), b, false, false), -2);
    if (b.dim() == 1) return squeeze(detail::matmul_t(a, unsqueeze(b, 1), false, false), -1);
    return detail::matmul_t(a, b, false, false);
}

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
    return detail::matmul_t(a, b, transpose_a, transpose_b);
}

namespace {
/// The layer's step as one node: y = x·Wᵀ + b for x [N, in], W [out, in], b [out];
/// ∂x = G·W, ∂W = Gᵀ·x, ∂b = Σ_rows G (one node and one tensor fewer than a product and a sum).
Tensor linear_2d(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    Tensor y;
    {
        const NoGradGuard unrecorded;
        y = detail::matmul_t(x, weight, false, true);
    }
    kernel::dispatch_floating(y.dtype(), "linear", [&](auto tag) {
        using T = decltype(tag);
        Eigen::Map<RowMatrix<T>> rows(elements<T>(y), y.size(0), y.size(1));
        rows.rowwise() +=
            Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(bias.data<T>(), bias.numel());
    });
    return record(Op::linear, {x, weight, bias}, std::move(y), {x, weight},
                  [](const BackwardContext& ctx, const Tensor& g) {
                      Grads grads(3);
                      if (ctx.needs_grad(0))
                          grads[0] = detail::matmul_t(g, ctx.saved(1), false, false);
                      if (ctx.needs_grad(1))
                          grads[1] = detail::matmul_t(g, ctx.saved(0), true, false);
                      if (ctx.needs_grad(2)) grads[2] = sum(g, {0});
                      return grads;
                  });
}
}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    kernel::check_same_dtype(x, weight, "linear");
    if (x.dim() < 1 || weight.dim() != 2 || x.size(-1) != weight.size(1)) {
        throw ShapeError(fmt::format("linear: input {} does not fit weight {}",
                                     shape_str(x.shape()), shape_str(weight.shape())));
    }
    if (bias.defined()) kernel::check_same_dtype(x, bias, "linear");
    if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0))) {
        throw ShapeError(fmt::format("linear: bias {} does not fit weight {}",
                                     shape_str(bias.shape()), shape_str(weight.shape())));
    }
    if (x.dim() == 2 && bias.defined()) return linear_2d(x, weight, bias);
    const Tensor x2 = x.dim() == 1 ? unsqueeze(x, 0) : x;
    Tensor y = detail::matmul_t(x2, weight, false, true);  // x·Wᵀ
    if (x.dim() == 1) y = squeeze(y, 0);
    return bias.defined() ? y + bias : y;
}

}  // namespace descent
