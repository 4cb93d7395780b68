#pragma once
// The strong Wolfe line search of L-BFGS, as torch.optim.lbfgs._strong_wolfe (Nocedal & Wright,
// "Numerical Optimization", algorithms 3.5 and 3.6): bracket a step t satisfying
//   f(θ + t·d) ≤ f(θ) + c₁·t·gᵀd        (sufficient decrease)
//   |g(θ + t·d)ᵀd| ≤ −c₂·gᵀd            (curvature)
// by cubic interpolation, then zoom into the bracket.

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

namespace descent::optim::detail {

/// The loss and its gradient at θ + t·d.
using Directional = std::function<std::pair<double, Eigen::VectorXd>(double t)>;

struct LineSearchResult {
    double f;
    Eigen::VectorXd g;
    double t;
    std::int64_t evaluations;
};

/// From step t along d, with f, g and gᵀd at t = 0. torch's defaults: c₁ = 1e-4, c₂ = 0.9, a
/// bracket narrower than 1e-9/max|d| ends the zoom, at most 25 evaluations.
LineSearchResult strong_wolfe(const Directional& phi, double t, const Eigen::VectorXd& d, double f,
                              const Eigen::VectorXd& g, double gtd);

/// The minimiser of the cubic through (x₁, f₁, f₁′) and (x₂, f₂, f₂′), clamped to `bounds`
/// (default: between x₁ and x₂); their midpoint when the cubic has no minimum.
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::pair<double, double>> bounds = {});

}  // namespace descent::optim::detail
