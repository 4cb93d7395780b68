// Jacobians, Hessians and vector products (derivatives.hpp), each a few calls of grad().

#include "descent/derivatives.hpp"

#include <fmt/format.h>

#include "descent/engine.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

namespace descent {
namespace {

/// What f is evaluated at: a new leaf holding x's values, or — with create_graph, when x
/// requires grad — a step of x's own graph, so that the result can be differentiated in x.
Tensor prepare(const Tensor& x, DerivativeOptions options, std::string_view op) {
    if (!x.defined() || !is_floating(x.dtype())) {
        throw DtypeError(fmt::format("{}: x must be a float32 or float64 tensor", op));
    }
    const GradModeGuard grad_mode(true);
    if (options.create_graph && x.requires_grad()) return reshape(x, x.shape());
    return x.detach().clone().requires_grad_();
}

Tensor evaluate(const VectorFn& f, const Tensor& at, std::string_view op) {
    if (!f) throw Error(fmt::format("{}: the function is empty", op));
    const GradModeGuard grad_mode(true);
    Tensor y = f(at);
    if (!y.defined() || !is_floating(y.dtype())) {
        throw DtypeError(
            fmt::format("{}: the function must return a float32 or float64 tensor", op));
    }
    return y;
}

void check_like(const Tensor& v, const Tensor& like, std::string_view op, std::string_view what) {
    if (!v.defined() || v.shape() != like.shape() || v.dtype() != like.dtype()) {
        throw ShapeError(fmt::format(
            "{}: v must be {} {} like {}, got {}", op, dtype_name(like.dtype()),
            shape_str(like.shape()), what,
            v.defined() ? fmt::format("{} {}", dtype_name(v.dtype()), shape_str(v.shape()))
                        : std::string("an undefined tensor")));
    }
}

/// Σ v·y differentiated in `at`; zeros where y does not depend on it.
Tensor pullback(const Tensor& y, const Tensor& at, const Tensor& v, bool create_graph) {
    if (!y.requires_grad()) return zeros_like(at);
    Tensor g = grad({y}, {at}, {v},
                    {.retain_graph = true, .create_graph = create_graph, .allow_unused = true})[0];
    return g.defined() ? g : zeros_like(at);
}

/// ∇f at `at`, recorded (so that it can be differentiated again).
Tensor gradient(const VectorFn& f, const Tensor& at, std::string_view op) {
    const Tensor y = evaluate(f, at, op);
    if (y.numel() != 1) {
        throw ShapeError(
            fmt::format("{}: f must return one element, got shape {}", op, shape_str(y.shape())));
    }
    return pullback(y, at, ones_like(y), true);
}

/// 1 at flat index i, 0 elsewhere, of like's shape and dtype.
Tensor onehot(const Tensor& like, std::int64_t i) {
    Tensor e = zeros_like(like);
    if (e.dtype() == Dtype::float64) {
        e.mutable_data<double>()[i] = 1.0;
    } else {
        e.mutable_data<float>()[i] = 1.0f;
    }
    return e;
}

Shape joined(const Shape& a, const Shape& b) {
    Shape s = a;
    s.insert(s.end(), b.begin(), b.end());
    return s;
}

/// The Jacobian of y (computed from `at`) in at, of shape y.shape + at.shape: one pullback of
/// each one-hot row.
Tensor jacobian_of(const Tensor& y, const Tensor& at, bool create_graph) {
    std::vector<Tensor> rows;
    for (std::int64_t i = 0; i < y.numel(); ++i) {  // row i = e_iᵀJ = ∂y[i]/∂x
        rows.push_back(reshape(pullback(y, at, onehot(y, i), create_graph), {-1}));
    }
    const Shape shape = joined(y.shape(), at.shape());
    if (rows.empty()) return zeros(shape, {.dtype = at.dtype()});
    return reshape(stack(rows), shape);
}

/// J·v for y(at) by two reverse passes: u ↦ uᵀJ is linear in u, so J·v = ∂(uᵀJ·v)/∂u at any u
/// (taken as 0).
Tensor forward_product(const Tensor& y, const Tensor& at, const Tensor& v, bool create_graph) {
    const GradModeGuard grad_mode(true);
    const Tensor u = zeros_like(y).requires_grad_();
    return pullback(pullback(y, at, u, true), u, v, create_graph);
}

}  // namespace

Tensor jacobian(const VectorFn& f, const Tensor& x, DerivativeOptions options) {
    const Tensor at = prepare(x, options, "jacobian");
    return jacobian_of(evaluate(f, at, "jacobian"), at, options.create_graph);
}

Tensor hessian(const VectorFn& f, const Tensor& x, DerivativeOptions options) {
    const Tensor at = prepare(x, options, "hessian");
    return jacobian_of(gradient(f, at, "hessian"), at, options.create_graph);  // H = J(∇f)
}

Tensor vjp(const VectorFn& f, const Tensor& x, const Tensor& v, DerivativeOptions options) {
    const Tensor at = prepare(x, options, "vjp");
    const Tensor y = evaluate(f, at, "vjp");
    check_like(v, y, "vjp", "f(x)");
    return pullback(y, at, v, options.create_graph);
}

Tensor jvp(const VectorFn& f, const Tensor& x, const Tensor& v, DerivativeOptions options) {
    check_like(v, x, "jvp", "x");
    const Tensor at = prepare(x, options, "jvp");
    return forward_product(evaluate(f, at, "jvp"), at, v, options.create_graph);
}

Tensor hvp(const VectorFn& f, const Tensor& x, const Tensor& v, DerivativeOptions options) {
    check_like(v, x, "hvp", "x");
    const Tensor at = prepare(x, options, "hvp");
    return forward_product(gradient(f, at, "hvp"), at, v, options.create_graph);  // H = J(∇f)
}

Tensor vhp(const VectorFn& f, const Tensor& x, const Tensor& v, DerivativeOptions options) {
    check_like(v, x, "vhp", "x");
    const Tensor at = prepare(x, options, "vhp");
    return pullback(gradient(f, at, "vhp"), at, v, options.create_graph);  // ∇(∇f·v) = vᵀH
}

}  // namespace descent
