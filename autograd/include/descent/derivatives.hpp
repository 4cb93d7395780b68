#pragma once
// Jacobians, Hessians and their products with vectors, exact from the tape, as
// torch.autograd.functional: the Taylor view of the lecture (f(x + d) ≈ f(x) + gᵀd + ½dᵀHd)
// and Newton's method need them. f is evaluated at a copy of x that requires grad, so x itself
// is left alone; create_graph keeps the results differentiable.
//
//   auto H = descent::hessian([](const Tensor& x) { return rosenbrock(x); }, x);   // [2, 2]
//   auto Hv = descent::hvp(f, x, v);                                               // H·v

#include <functional>

#include "descent/tensor.hpp"

namespace descent {

using VectorFn = std::function<Tensor(const Tensor&)>;

struct DerivativeOptions {
    bool create_graph = false;  ///< the result stays on the tape (derivatives of derivatives)
};

/// J with J[i…, j…] = ∂f(x)[i…]/∂x[j…]: shape f(x).shape + x.shape. One backward per output
/// element; entries for outputs that do not depend on x are zero.
Tensor jacobian(const VectorFn& f, const Tensor& x, DerivativeOptions options = {});
/// The Hessian of a scalar f (a one-element output): shape x.shape + x.shape.
Tensor hessian(const VectorFn& f, const Tensor& x, DerivativeOptions options = {});
/// vᵀJ for f with output of v's shape: shape x.shape.
Tensor vjp(const VectorFn& f, const Tensor& x, const Tensor& v, DerivativeOptions options = {});
/// J·v for v of x's shape: shape f(x).shape (by the double-vjp trick: two backward passes).
Tensor jvp(const VectorFn& f, const Tensor& x, const Tensor& v, DerivativeOptions options = {});
/// H·v for a scalar f and v of x's shape (torch.autograd.functional.hvp: the double-vjp trick).
Tensor hvp(const VectorFn& f, const Tensor& x, const Tensor& v, DerivativeOptions options = {});
/// vᵀH for a scalar f (torch.autograd.functional.vhp: ∇(∇f·v)); equal to H·v when the Hessian
/// is symmetric, as it is for twice continuously differentiable f.
Tensor vhp(const VectorFn& f, const Tensor& x, const Tensor& v, DerivativeOptions options = {});

}  // namespace descent
