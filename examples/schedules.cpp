// Every learning-rate schedule of optim over 300 updates from a base lr of 0.1, in one figure
// grid: warm-up, step and multi-step decay, exponential, cosine, SGDR, cyclic in its three
// modes and one-cycle (with the momentum they cycle the other way), 1/√(t+1), polynomial and
// linear decay, and ReduceLROnPlateau reacting to a made-up validation metric. Schedules are
// pure functions of the step count, so most are evaluated directly; the plateau one needs an
// optimizer to act on.

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "support/plot.hpp"

namespace dc = descent;
namespace opt = descent::optim;

namespace {

constexpr std::int64_t T = 300;
constexpr double base_lr = 0.1, base_momentum = 0.9;

std::vector<double> steps() {
    std::vector<double> t(T + 1);
    for (std::int64_t i = 0; i <= T; ++i) t[static_cast<std::size_t>(i)] = static_cast<double>(i);
    return t;
}

std::vector<double> values(const opt::Schedule& s, double base) {
    std::vector<double> v;
    for (std::int64_t t = 0; t <= T; ++t) v.push_back(s(t, base));
    return v;
}

/// "starts 0.01, peaks 0.1 at t = 89, lowest 1e-05, ends 4e-07".
void describe(const std::string& name, const std::vector<double>& v) {
    const auto peak = std::max_element(v.begin(), v.end());
    const auto low = std::min_element(v.begin(), v.end());
    fmt::print(
        "{:34} starts {:.4g}, peaks {:.4g} at t = {}, lowest {:.4g} at t = {}, ends {:.4g}\n",
        name + ":", v.front(), *peak, peak - v.begin(), *low, low - v.begin(), v.back());
}

support::Curve curve(const std::string& name, const opt::Schedule& s, double base = base_lr) {
    const std::vector<double> v = values(s, base);
    describe(name, v);
    return {name, steps(), v};
}

support::Panel panel(std::string title, std::vector<support::Curve> curves,
                     std::vector<support::Curve> right = {}) {
    const bool momentum = !right.empty();
    return {.title = std::move(title),
            .xlabel = "update t",
            .ylabel = "lr",
            .curves = std::move(curves),
            .right = std::move(right),
            .y2label = momentum ? "momentum" : ""};
}

/// ReduceLROnPlateau on a metric that improves until t = 120 and then only wobbles.
support::Panel plateau() {
    dc::Tensor w = dc::zeros({1}, {.requires_grad = true});
    opt::SGD sgd({w}, {.lr = base_lr});
    opt::ReduceLROnPlateau schedule(sgd, {.factor = 0.5, .patience = 20});
    std::vector<double> lr, metric;
    for (std::int64_t t = 0; t <= T; ++t) {
        const double m = 0.2 +
                         0.8 / (1.0 + static_cast<double>(std::min<std::int64_t>(t, 120)) / 15) +
                         0.005 * std::sin(static_cast<double>(t));
        lr.push_back(sgd.param_groups()[0].lr());
        metric.push_back(m);
        schedule.step(m);
    }
    describe("plateau (patience 20, ×0.5)", lr);
    support::Panel p = panel("ReduceLROnPlateau on a validation metric",
                             {{"lr", steps(), lr, "steps"}}, {{"metric", steps(), metric}});
    p.y2label = "metric";
    return p;
}

}  // namespace

int main() {
    const opt::CyclicOptions cyc{.base_lr = 0.01, .max_lr = base_lr, .step_size_up = 40};
    auto with = [cyc](opt::CyclicMode mode, double gamma) {
        opt::CyclicOptions o = cyc;
        o.mode = mode;
        o.gamma = gamma;
        return o;
    };
    const opt::CyclicOptions tri = with(opt::CyclicMode::triangular, 1.0),
                             tri2 = with(opt::CyclicMode::triangular2, 1.0),
                             expo = with(opt::CyclicMode::exp_range, 0.995);
    const opt::OneCycleOptions one{.max_lr = base_lr, .total_steps = T + 1};
    std::vector<support::Panel> panels{
        panel("warm-up (then constant)",
              {curve("linear warm-up, 30 steps", opt::warmup(opt::constant(), 30)),
               curve("constant warm-up, 30 steps", opt::constant_warmup(opt::constant(), 30))}),
        panel("step decay",
              {curve("step: x0.5 every 75", opt::step_decay(75, 0.5)),
               curve("multistep: x0.1 at 100, 200", opt::multistep({100, 200}, 0.1))}),
        panel("exponential", {curve("exponential, gamma 0.99", opt::exponential(0.99))}),
        panel("cosine annealing", {curve("cosine, T_max 300", opt::cosine(T))}),
        panel("SGDR (warm restarts)",
              {curve("SGDR, T_0 30, T_mult 2", opt::cosine_warm_restarts(30, 2))}),
        panel("cyclic, triangular", {curve("cyclic triangular", opt::cyclic(tri))},
              {curve("momentum", opt::cyclic_momentum(tri), base_momentum)}),
        panel("cyclic, triangular2", {curve("cyclic triangular2", opt::cyclic(tri2))},
              {curve("momentum (triangular2)", opt::cyclic_momentum(tri2), base_momentum)}),
        panel("cyclic, exp_range", {curve("cyclic exp_range, gamma 0.995", opt::cyclic(expo))},
              {curve("momentum (exp_range)", opt::cyclic_momentum(expo), base_momentum)}),
        panel("one-cycle", {curve("one-cycle", opt::one_cycle(one))},
              {curve("momentum (one-cycle)", opt::one_cycle_momentum(one), base_momentum)}),
        panel("1/sqrt(t+1) decay", {curve("inverse sqrt", opt::inverse_sqrt())}),
        panel("polynomial and linear", {curve("polynomial, power 2", opt::polynomial(T, 2.0)),
                                        curve("linear 1 -> 0.01", opt::linear(1.0, 0.01, T))}),
        plateau(),
    };
    for (support::Panel& p : panels) p.y_range = std::pair{0.0, 0.11};
    support::draw({.title = "every learning-rate schedule of descent::optim, base lr 0.1",
                   .panels = panels,
                   .columns = 4,
                   .width = 1800,
                   .height = 1100},
                  "schedules.png");
    return 0;
}
