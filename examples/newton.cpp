// Newton's method from the Taylor-series view of the lecture: near θ, f(θ + d) ≈ f(θ) + gᵀd +
// ½dᵀHd, minimised by the step d = −H⁻¹g. Three ways on Rosenbrock's function, against plain
// gradient descent:
//   Newton      the Hessian from autograd (descent::hessian), the step by a direct solve;
//   Newton-CG   H is never formed: conjugate gradients solve H·d = −g with Hessian-vector
//               products (descent::hvp, two backward passes each) — what scales to many
//               parameters;
//   L-BFGS      the quasi-Newton method of optim, which needs only gradients.
// It draws the paths of Newton's method and of gradient descent on Rosenbrock's contours.

#include <fmt/format.h>

#include <Eigen/Dense>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/eigen.hpp>
#include <descent/optim.hpp>
#include <vector>

#include "support/plot.hpp"

namespace dc = descent;

namespace {
dc::Tensor rosenbrock(const dc::Tensor& p) {  // (1 − x)² + 100(y − x²)², minimum at (1, 1)
    const dc::Tensor x = p.slice(0, 0, 1), y = p.slice(0, 1, 2);
    const dc::Tensor a = 1.0 - x, b = y - x * x;
    return (a * a + b * b * 100.0).sum();
}

dc::Tensor start() {
    return dc::tensor({-1.5, 2.0}, {2}, {.dtype = dc::float64});
}

dc::Tensor gradient(const dc::Tensor& p) {
    return dc::jacobian(rosenbrock, p);
}

/// d ≈ −H⁻¹g by conjugate gradients on H·d = −g, H only through products H·v.
dc::Tensor conjugate_gradient(const dc::Tensor& p, const dc::Tensor& g, int* products) {
    dc::Tensor d = dc::zeros_like(g), r = -g, s = r;  // residual r = −g − H·d, direction s
    double rr = (r * r).sum().item();
    for (int k = 0; k < 10 && rr > 1e-20; ++k) {
        const dc::Tensor hs = dc::hvp(rosenbrock, p, s);
        ++*products;
        const double curvature = (s * hs).sum().item();
        if (curvature <= 0) break;  // H not positive definite along s: stop with what we have
        const double alpha = rr / curvature;  // exact minimiser of the quadratic along s
        d = d + s * alpha;
        r = r - hs * alpha;
        const double rr_next = (r * r).sum().item();
        s = r + s * (rr_next / rr);
        rr = rr_next;
    }
    return d;
}

/// The points a method visited, for the figure.
struct Path {
    std::vector<double> x, y;
    void add(const dc::Tensor& p) { x.push_back(p.at({0})), y.push_back(p.at({1})); }
};

void draw(const Path& newton, const Path& gd, int newton_steps, int gd_steps) {
    const auto f = [](double x, double y) {
        return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
    };
    support::Panel panel{
        .title = "Rosenbrock (1 - x)^2 + 100(y - x^2)^2 from (-1.5, 2) to its minimum (1, 1)",
        .xlabel = "x",
        .ylabel = "y",
        .curves = {{fmt::format("Newton's method ({} steps)", newton_steps), newton.x, newton.y,
                    "linespoints pt 7 ps 1.2 lw 2"},
                   {fmt::format("gradient descent, lr 1e-3 ({} steps)", gd_steps), gd.x, gd.y,
                    "lines lw 2"}},
        .contours = support::contour_grid(f, {-2, 2}, {-1, 3}, 0, 0.01, 2000, 16),
        .x_range = std::pair{-2.0, 2.0},
        .y_range = std::pair{-1.0, 3.0}};
    support::draw({.title = "Newton's method vs gradient descent", .panels = {panel}},
                  "newton.png");
}

void report(const char* method, const dc::Tensor& p, int steps, const std::string& extra = "") {
    fmt::print("{:<17} f {:.3e} at ({:+.6f}, {:+.6f}) after {} steps{}\n", method,
               rosenbrock(p).item(), p.at({0}), p.at({1}), steps, extra);
}
}  // namespace

int main() {
    dc::Tensor p = start();
    Path newton_path, gd_path;
    newton_path.add(p);
    int newton_steps = 0;
    for (; newton_steps < 20 && rosenbrock(p).item() > 1e-20; ++newton_steps) {
        const dc::Tensor H = dc::hessian(rosenbrock, p), g = gradient(p);
        const Eigen::Matrix2d h = H.matrix<double>();
        const Eigen::Vector2d d = -h.ldlt().solve(Eigen::Vector2d(g.at({0}), g.at({1})));  // −H⁻¹g
        fmt::print("newton step {:2d}  f {:.3e}  θ ({:+.6f}, {:+.6f})\n", newton_steps,
                   rosenbrock(p).item(), p.at({0}), p.at({1}));
        p = p + dc::tensor({d(0), d(1)}, {2}, {.dtype = dc::float64});
        newton_path.add(p);
    }
    report("Newton:", p, newton_steps);

    dc::Tensor q = start();
    int cg_steps = 0, products = 0;
    for (; cg_steps < 20 && rosenbrock(q).item() > 1e-20; ++cg_steps) {
        q = q + conjugate_gradient(q, gradient(q), &products);
    }
    report("Newton-CG:", q, cg_steps, fmt::format(" ({} Hessian-vector products)", products));

    dc::Tensor w = start().requires_grad_();
    dc::optim::LBFGS lbfgs({w}, {.tolerance_grad = 1e-12,
                                 .tolerance_change = 1e-20,
                                 .line_search = dc::optim::LineSearch::strong_wolfe});
    int lbfgs_steps = 0;
    for (; lbfgs_steps < 20 && rosenbrock(w).item() > 1e-20; ++lbfgs_steps) {
        lbfgs.step([&] {
            lbfgs.zero_grad();
            dc::Tensor f = rosenbrock(w);
            f.backward();
            return f;
        });
    }
    report("L-BFGS:", w.detach(), lbfgs_steps,
           fmt::format(" ({} iterations, {} function evaluations)", lbfgs.iterations(),
                       lbfgs.function_evaluations()));

    dc::Tensor r = start().requires_grad_();  // plain gradient descent, fixed rate 1e-3
    int steps = 0;
    gd_path.add(r);
    for (; steps < 100000 && rosenbrock(r).item() > 1e-10; ++steps) {
        r.set_grad({});
        rosenbrock(r).backward();
        const dc::NoGradGuard no_grad;
        r.sub_(r.grad(), 1e-3);
        gd_path.add(r);
    }
    report("gradient descent:", r.detach(), steps, " (until f < 1e-10)");
    draw(newton_path, gd_path, newton_steps, steps);
    return 0;
}
