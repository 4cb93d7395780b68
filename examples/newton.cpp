// Newton's method from the Taylor-series view of the lecture: near θ, f(θ + d) ≈ f(θ) + gᵀd +
// ½dᵀHd, minimised by the step d = −H⁻¹g. The Hessian comes from autograd itself: each column
// H·eᵢ is a Hessian-vector product, the gradient of gᵀeᵢ with the first gradient recorded
// (create_graph). Compared on Rosenbrock's function with plain gradient descent.

#include <fmt/format.h>
#include <Eigen/Dense>
#include <descent/autograd.hpp>

namespace dc = descent;

namespace {
dc::Tensor rosenbrock(const dc::Tensor& p) {  // (1 − x)² + 100(y − x²)², minimum at (1, 1)
    const dc::Tensor x = p.slice(0, 0, 1), y = p.slice(0, 1, 2);
    const dc::Tensor a = 1.0 - x, b = y - x * x;
    return (a * a + b * b * 100.0).sum();
}

dc::Tensor start() {
    return dc::tensor({-1.5, 2.0}, {2}, {.dtype = dc::float64, .requires_grad = true});
}
}  // namespace

int main() {
    dc::Tensor p = start();
    for (int step = 0; step < 10; ++step) {
        const dc::Tensor f = rosenbrock(p);
        const dc::Tensor g = dc::grad({f}, {p}, {.create_graph = true})[0];
        Eigen::Matrix2d hessian;
        for (int i = 0; i < 2; ++i) {  // column i of H = ∂(gᵀeᵢ)/∂θ
            dc::Tensor e = dc::zeros({2}, {.dtype = dc::float64});
            e.mutable_data<double>()[i] = 1.0;
            const dc::Tensor column = dc::grad({(g * e).sum()}, {p}, {.retain_graph = true})[0];
            hessian.col(i) = Eigen::Vector2d(column.at({0}), column.at({1}));
        }
        const Eigen::Vector2d gradient(g.at({0}), g.at({1}));
        const Eigen::Vector2d d = -hessian.ldlt().solve(gradient);  // d = −H⁻¹g
        fmt::print("newton step {:2d}  f {:.3e}  θ ({:+.6f}, {:+.6f})\n", step, f.item(), p.at({0}),
                   p.at({1}));
        p = dc::tensor({p.at({0}) + d(0), p.at({1}) + d(1)}, {2},
                       {.dtype = dc::float64, .requires_grad = true});
    }
    fmt::print("Newton:           f {:.3e} at ({:+.6f}, {:+.6f}) after 10 steps\n",
               rosenbrock(p).item(), p.at({0}), p.at({1}));

    dc::Tensor q = start();  // plain gradient descent, fixed rate 1e-3, until f < 1e-10
    int steps = 0;
    for (; steps < 100000 && rosenbrock(q).item() > 1e-10; ++steps) {
        q.set_grad({});
        rosenbrock(q).backward();
        const dc::NoGradGuard no_grad;
        q.sub_(q.grad(), 1e-3);
    }
    fmt::print("gradient descent: f {:.3e} at ({:+.6f}, {:+.6f}) after {} steps\n",
               rosenbrock(q).item(), q.at({0}), q.at({1}), steps);
    return 0;
}
