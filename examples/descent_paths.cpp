// Optimizer paths over the contours of 2-D functions, the lecture's pictures of gradient
// descent: the gradient is normal to the contour lines; an elongated quadratic (features on
// different scales) makes gradient descent zig-zag and crawl where its standardised, round
// version goes straight in; too large a rate diverges; momentum carries through a saddle;
// Adagrad's and RMSProp's per-parameter rates cope with Beale's steep valley; Lookahead's slow
// weights trail its fast ones on Rosenbrock.

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/plot.hpp"

namespace dc = descent;
namespace opt = descent::optim;

namespace {

using Function = std::function<dc::Tensor(const dc::Tensor& x, const dc::Tensor& y)>;
using MakeOptimizer = std::function<std::unique_ptr<opt::Optimizer>(dc::Tensor)>;

struct Path {
    std::string name;
    std::vector<double> x, y, f;
    std::vector<double> slow_x, slow_y;  // Lookahead's slow weights, every k steps
};

double value(const Function& f, double x, double y) {
    return f(dc::tensor({x}, {1}, {.dtype = dc::float64}),
             dc::tensor({y}, {1}, {.dtype = dc::float64}))
        .item();
}

/// `steps` updates from `start`, stopping early once f is within `tolerance` of `minimum`
/// or the path leaves [-1e3, 1e3]².
Path descend(const std::string& name, const Function& f, std::pair<double, double> start,
             const MakeOptimizer& make, int steps, double minimum = -INFINITY,
             double tolerance = 0.0, int lookahead_k = 0) {
    dc::Tensor p =
        dc::tensor({start.first, start.second}, {2}, {.dtype = dc::float64, .requires_grad = true});
    std::unique_ptr<opt::Optimizer> inner = make(p);
    std::unique_ptr<opt::Lookahead> lookahead;
    if (lookahead_k > 0)
        lookahead =
            std::make_unique<opt::Lookahead>(*inner, opt::LookaheadOptions{.k = lookahead_k});
    opt::Optimizer& optimizer = lookahead ? *lookahead : *inner;
    Path path{name, {}, {}, {}, {}, {}};
    for (int t = 0;; ++t) {
        const dc::Tensor loss = f(p.slice(0, 0, 1), p.slice(0, 1, 2)).sum();
        const std::vector<double> at = p.to_vector();
        path.x.push_back(at[0]), path.y.push_back(at[1]), path.f.push_back(loss.item());
        if (lookahead && t % lookahead_k == 0)
            path.slow_x.push_back(at[0]), path.slow_y.push_back(at[1]);
        if (t == steps || loss.item() - minimum <= tolerance || std::abs(at[0]) > 1e3 ||
            std::abs(at[1]) > 1e3 || !std::isfinite(loss.item()))
            break;
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
    return path;
}

/// The x and y ranges of a path, with a margin.
std::pair<std::pair<double, double>, std::pair<double, double>> around(const Path& p) {
    const auto [x0, x1] = std::minmax_element(p.x.begin(), p.x.end());
    const auto [y0, y1] = std::minmax_element(p.y.begin(), p.y.end());
    const double mx = 0.15 * (*x1 - *x0) + 1e-3, my = 0.15 * (*y1 - *y0) + 1e-3;
    return {{*x0 - mx, *x1 + mx}, {*y0 - my, *y1 + my}};
}

int updates(const Path& p) {
    return static_cast<int>(p.x.size()) - 1;
}

/// The contour lines of f over the ranges (support::contour_grid).
support::Contours contours(const Function& f, std::pair<double, double> xr,
                           std::pair<double, double> yr, double fmin, double lo, double hi,
                           int count) {
    return support::contour_grid([&](double x, double y) { return value(f, x, y); }, xr, yr, fmin,
                                 lo, hi, count);
}

support::Panel panel(std::string title, const std::vector<Path>& paths, support::Contours c,
                     std::pair<double, double> xr, std::pair<double, double> yr, bool equal) {
    support::Panel p{.title = std::move(title),
                     .xlabel = "x",
                     .ylabel = "y",
                     .contours = std::move(c),
                     .x_range = xr,
                     .y_range = yr,
                     .equal_axes = equal};
    for (const Path& path : paths) {
        p.curves.push_back({fmt::format("{} ({} steps)", path.name, updates(path)), path.x, path.y,
                            "linespoints pt 7 ps 0.3"});
        if (!path.slow_x.empty())
            p.curves.push_back({path.name + ": slow weights", path.slow_x, path.slow_y,
                                "linespoints pt 6 ps 1.5 lw 2 lc rgb \"#d62728\""});
    }
    return p;
}

MakeOptimizer sgd(double lr, double momentum = 0.0) {
    return [=](dc::Tensor p) {
        return std::make_unique<opt::SGD>(std::vector{p},
                                          opt::SGDOptions{.lr = lr, .momentum = momentum});
    };
}
MakeOptimizer adam(double lr) {
    return [=](dc::Tensor p) {
        return std::make_unique<opt::Adam>(std::vector{p}, opt::AdamOptions{.lr = lr});
    };
}
MakeOptimizer adagrad(double lr) {
    return [=](dc::Tensor p) {
        return std::make_unique<opt::Adagrad>(std::vector{p}, opt::AdagradOptions{.lr = lr});
    };
}
MakeOptimizer rmsprop(double lr) {
    return [=](dc::Tensor p) {
        return std::make_unique<opt::RMSprop>(std::vector{p}, opt::RMSpropOptions{.lr = lr});
    };
}

}  // namespace

int main() {
    // Quadratics: ½(x² + 25y²), and the same after standardising y (u = 5y): ½(x² + u²).
    // GD runs at its best fixed rate on each, 2/(λ_min + λ_max): 2/26 and 1.
    const Function elongated = [](const dc::Tensor& x, const dc::Tensor& y) {
        return (x * x + y * y * 25.0) * 0.5;
    };
    const Function round = [](const dc::Tensor& x, const dc::Tensor& y) {
        return (x * x + y * y) * 0.5;
    };
    const double tol = 1e-6;
    const Path zigzag =
        descend("GD, best lr 2/26", elongated, {-4, 1.5}, sgd(2.0 / 26), 2000, 0, tol);
    const Path diverging =
        descend("GD, lr 2.1/25 (too large)", elongated, {-4, 1.5}, sgd(2.1 / 25), 12);
    const Path straight = descend("GD, best lr 1", round, {-4, 7.5}, sgd(1.0), 2000, 0, tol);

    // The gradient is normal to the contour: a step along the contour (⊥ ∇f) changes f only to
    // second order, a step of the same length along ∇f to first order.
    const double px = -2, py = 1, gx = px, gy = 25 * py, norm = std::hypot(gx, gy), h = 1e-4;
    const double f0 = value(elongated, px, py);
    const double along_contour = value(elongated, px - h * gy / norm, py + h * gx / norm) - f0;
    const double along_gradient = value(elongated, px + h * gx / norm, py + h * gy / norm) - f0;
    fmt::print(
        "at (-2, 1) a step of 1e-4 along the contour changes f by {:.1e}, along the "
        "gradient by {:.1e}: the gradient is normal to the contour\n",
        along_contour, along_gradient);
    fmt::print(
        "elongated quadratic: {} steps to f < 1e-6; standardised (round): {} steps; feature "
        "scaling makes the path direct: {}\n",
        updates(zigzag), updates(straight), updates(straight) < updates(zigzag) ? "yes" : "no");
    fmt::print("lr 2.1/λ_max > 2/λ_max: f {:.3g} -> {:.3g} in {} steps: diverged: {}\n",
               diverging.f.front(), diverging.f.back(), updates(diverging),
               diverging.f.back() > diverging.f.front() ? "yes" : "no");

    // Saddle ½x² + ¼y⁴ − ½y² at (0, 0), minima (0, ±1) with f = −¼, approached from y ≈ 0.
    const Function saddle = [](const dc::Tensor& x, const dc::Tensor& y) {
        return x * x * 0.5 + y * y * y * y * 0.25 - y * y * 0.5;
    };
    const Path gd_saddle =
        descend("GD, lr 0.05", saddle, {2.0, 1e-3}, sgd(0.05), 3000, -0.25, 1e-4);
    const Path momentum_saddle =
        descend("momentum 0.9, lr 0.05", saddle, {2.0, 1e-3}, sgd(0.05, 0.9), 3000, -0.25, 1e-4);
    fmt::print(
        "saddle: GD needs {} steps to reach a minimum, momentum {}: momentum carries through: "
        "{}\n",
        updates(gd_saddle), updates(momentum_saddle),
        updates(momentum_saddle) < updates(gd_saddle) ? "yes" : "no");

    // Rosenbrock (1 − x)² + 100(y − x²)², minimum 0 at (1, 1).
    const Function rosenbrock = [](const dc::Tensor& x, const dc::Tensor& y) {
        return (1.0 - x) * (1.0 - x) + (y - x * x) * (y - x * x) * 100.0;
    };
    const std::vector<Path> rosen{
        descend("GD, lr 5e-4", rosenbrock, {-1.5, 2}, sgd(5e-4), 3000, 0, 1e-6),
        descend("momentum 0.9, lr 1e-4", rosenbrock, {-1.5, 2}, sgd(1e-4, 0.9), 3000, 0, 1e-6),
        descend("Adam, lr 0.05", rosenbrock, {-1.5, 2}, adam(0.05), 3000, 0, 1e-6)};
    // Lookahead: k = 5 fast Adam steps, then the slow weights move halfway towards them.
    const Path lookahead =
        descend("Lookahead(Adam, lr 0.05), k 5", rosenbrock, {-1.5, 2}, adam(0.05), 123, 0, 0, 5);
    // Beale, minimum 0 at (3, 0.5): a narrow curved valley, far steeper in y than in x.
    const Function beale = [](const dc::Tensor& x, const dc::Tensor& y) {
        const dc::Tensor a = 1.5 - x + x * y, b = 2.25 - x + x * y * y,
                         c = 2.625 - x + x * y * y * y;
        return a * a + b * b + c * c;
    };
    const std::vector<Path> beal{
        descend("GD, lr 1e-3", beale, {1, 1.5}, sgd(1e-3), 3000, 0, 1e-6),
        descend("Adagrad, lr 0.5", beale, {1, 1.5}, adagrad(0.5), 3000, 0, 1e-6),
        descend("RMSProp, lr 0.01", beale, {1, 1.5}, rmsprop(0.01), 3000, 0, 1e-6),
        descend("Adam, lr 0.05", beale, {1, 1.5}, adam(0.05), 3000, 0, 1e-6)};
    fmt::print(
        "Lookahead(Adam): after {} fast steps the slow weights are at ({:+.4f}, {:+.4f}), "
        "the fast ones at ({:+.4f}, {:+.4f})\n",
        updates(lookahead), lookahead.slow_x.back(), lookahead.slow_y.back(), lookahead.x.back(),
        lookahead.y.back());
    for (const auto* group : {&rosen, &beal})
        for (const Path& p : *group)
            fmt::print("{:10} {:32} {:4} steps, ends at ({:+.4f}, {:+.4f}), f = {:.2e}\n",
                       group == &rosen ? "Rosenbrock" : "Beale", p.name + ":", updates(p),
                       p.x.back(), p.y.back(), p.f.back());

    const std::pair<double, double> qx{-5, 5}, qy{-2.5, 2.5}, rx{-5, 5}, ry{-8, 8};
    const auto [lx, ly] = around(lookahead);
    std::vector<support::Panel> panels{
        panel("elongated quadratic: zig-zag, then a crawl", {zigzag, diverging},
              contours(elongated, qx, qy, 0, 0.05, 200, 12), qx, qy, true),
        panel("standardised (round): straight in", {straight},
              contours(round, rx, ry, 0, 0.05, 60, 12), rx, ry, true),
        panel("saddle: momentum carries through", {gd_saddle, momentum_saddle},
              contours(saddle, {-2.5, 2.5}, {-1.5, 1.5}, -0.25, 0.002, 4, 14), {-2.5, 2.5},
              {-1.5, 1.5}, true),
        panel("Rosenbrock", rosen, contours(rosenbrock, {-2, 2}, {-1, 3}, 0, 0.01, 2000, 16),
              {-2, 2}, {-1, 3}, false),
        panel("Beale: per-parameter rates", beal,
              contours(beale, {-0.5, 4}, {-1, 2}, 0, 0.01, 100, 16), {-0.5, 4}, {-1, 2}, false),
        panel("Lookahead on Rosenbrock, zoomed: slow weights trail the fast ones", {lookahead},
              contours(rosenbrock, lx, ly, 0, 0.01, 2000, 40), lx, ly, false),
    };
    support::draw({.title = "descent paths on contour lines",
                   .panels = panels,
                   .columns = 2,
                   .width = 1500,
                   .height = 1700},
                  "descent_paths.png");
    return 0;
}
