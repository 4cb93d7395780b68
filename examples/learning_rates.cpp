// The lecture's Tip 1, "tune your learning rates", drawn: full-batch gradient descent on one
// least-squares model with a learning rate too small, just right, too large and far too large,
// and the 1/√(t+1) decay rescuing the far-too-large one. The curvature says where the limits
// are (the Taylor view): on a quadratic loss, GD is stable exactly when η < 2/λ_max, λ_max the
// largest Hessian eigenvalue, found here by power iteration on Hessian-vector products.
//
// Model: the wine data's alcohol content from its 12 other measurements (all standardised),
// ŷ = X·w + b, loss = mean((ŷ − y)²).

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <Eigen/Dense>
#include <cmath>
#include <string>
#include <vector>

#include "support/plot.hpp"

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;

namespace {

struct Problem {
    dc::Tensor x1;  // [N, 13]: the standardised measurements and a column of ones (the bias)
    dc::Tensor y;   // [N, 1]
    dc::Tensor loss(const dc::Tensor& theta) const {
        const dc::Tensor r = dc::matmul(x1, theta.reshape({13, 1})) - y;
        return (r * r).mean();
    }
};

Problem wine_alcohol() {
    const dc::Tensor all = data::wine().features.to(dc::float64);
    const std::int64_t n = all.size(0);
    const dc::Tensor x = data::Standardizer().fit_transform(all.slice(1, 1, 13));
    const dc::Tensor alcohol = data::Standardizer().fit_transform(all.slice(1, 0, 1));
    return {dc::concat({x, dc::ones({n, 1}, {.dtype = dc::float64})}, 1), alcohol};
}

/// λ_max of the loss's Hessian: power iteration v ← Hv/‖Hv‖ (the Hessian is constant here).
double largest_curvature(const Problem& p) {
    const auto f = [&](const dc::Tensor& theta) { return p.loss(theta); };
    const dc::Tensor at = dc::zeros({13}, {.dtype = dc::float64});
    dc::Tensor v = dc::ones({13}, {.dtype = dc::float64});
    double lambda = 0.0;
    for (int i = 0; i < 200; ++i) {
        const dc::Tensor hv = dc::hvp(f, at, v);
        lambda = dc::sqrt((hv * hv).sum()).item();
        v = hv / lambda;
    }
    return lambda;
}

/// The least-squares minimum: θ* = −H⁻¹∇L(0), one Newton step from 0.
double minimum_loss(const Problem& p) {
    const auto f = [&](const dc::Tensor& theta) { return p.loss(theta); };
    const dc::Tensor at = dc::zeros({13}, {.dtype = dc::float64});
    const std::vector<double> h = dc::hessian(f, at).to_vector();
    const std::vector<double> g = dc::jacobian(f, at).to_vector();
    const Eigen::Map<const Eigen::Matrix<double, 13, 13, Eigen::RowMajor>> H(h.data());
    const Eigen::Map<const Eigen::Matrix<double, 13, 1>> G(g.data());
    const Eigen::Matrix<double, 13, 1> step = -H.ldlt().solve(G);
    return p
        .loss(dc::tensor(std::vector<double>(step.data(), step.data() + 13), {13},
                         {.dtype = dc::float64}))
        .item();
}

struct Run {
    std::string name;
    double lr;
    bool decay;  // η/√(t+1)
    std::vector<double> losses;
};

void train(const Problem& p, Run& run, int steps) {
    dc::Tensor theta = dc::zeros({13}, {.dtype = dc::float64, .requires_grad = true});
    opt::SGD sgd({theta}, {.lr = run.lr});
    opt::LRScheduler schedule(sgd, run.decay ? opt::inverse_sqrt() : opt::constant());
    for (int t = 0; t <= steps; ++t) {
        const dc::Tensor loss = p.loss(theta);
        run.losses.push_back(loss.item());
        if (t == steps || !std::isfinite(loss.item())) break;
        sgd.zero_grad();
        loss.backward();
        sgd.step();
        schedule.step();
    }
}

}  // namespace

int main() {
    const Problem p = wine_alcohol();
    const double lambda = largest_curvature(p);
    const double limit = 2.0 / lambda;
    fmt::print(
        "largest Hessian eigenvalue λ_max = {:.4f}: gradient descent is stable for "
        "η < 2/λ_max = {:.4f}\n",
        lambda, limit);
    const double best = minimum_loss(p);
    fmt::print("least-squares minimum (one Newton step, exact on a quadratic): {:.6f}\n", best);
    const int steps = 100;
    std::vector<Run> runs{{"too small", 0.02 / lambda, false, {}},
                          {"just right", 1.0 / lambda, false, {}},
                          {"too large", 1.99 / lambda, false, {}},
                          {"far too large", 2.2 / lambda, false, {}},
                          {"far too large, decayed by 1/sqrt(t+1)", 2.2 / lambda, true, {}}};
    support::Panel panel{.title = "full-batch gradient descent on least squares (wine: alcohol)",
                         .xlabel = "updates",
                         .ylabel = "loss above the minimum, L - L* (log scale)",
                         .log_y = true};
    for (Run& run : runs) {
        train(p, run, steps);
        const double first = run.losses.front(), last = run.losses.back();
        // converged: within 1 % of the way from the start to the minimum
        const char* verdict = !(last < first)                       ? "diverged"
                              : last - best < 0.01 * (first - best) ? "converged"
                                                                    : "still descending";
        fmt::print(
            "{:38} η = {:.4f} ({:.2f}·2/λ_max): loss {:.4f} → {:.4g} after {} updates, "
            "{}\n",
            run.name, run.lr, run.lr / limit, first, last, run.losses.size() - 1, verdict);
        std::vector<double> x, excess;
        for (std::size_t i = 0; i < run.losses.size(); ++i)
            x.push_back(static_cast<double>(i)), excess.push_back(run.losses[i] - best);
        panel.curves.push_back(
            {fmt::format("{} (η = {:.2f}·2/λ)", run.name, run.lr / limit), x, excess});
    }
    panel.y_range = std::pair{1e-8, 1e3};
    support::draw({.title = "Tip 1: tune your learning rates", .panels = {panel}},
                  "learning_rates.png");
    return 0;
}
