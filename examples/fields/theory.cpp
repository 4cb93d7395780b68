// Wilson et al. 2017, §3.3, measured with descent's optimizers on the squared loss.
//
// The data (the paper's construction, coordinates counted from 1 as there): y_i = +1 with
// probability p > 1/2, else −1, and
//   (x_i)_j = y_i  for j = 1,
//           = 1    for j = 2, 3,
//           = 1    for j = 4 + 5(i − 1), …, 4 + 5(i − 1) + 2(1 − y_i),
//           = 0    otherwise:
// one feature only sample i has when y_i = +1, five when y_i = −1, so d = 3 + 5n > n. Only
// the first feature tells the classes apart. A fresh sample's own features are coordinates no
// training sample has: their weights start at zero and receive no gradient, so its score is
// ⟨w, x⟩ = w₁y + w₂ + w₃.
//
// The paper's argument: X sign(Xᵀy) = 4y when Σy_i > 0, and then AdaGrad, RMSProp and Adam
// started from zero keep w ∝ sign(Xᵀy) (each step's gradient is a multiple of Xᵀy and the
// per-coordinate scaling turns it into a multiple of its sign), ending at w = sign(Xᵀy)/4:
// the score (y + 2)/4 > 0 calls every fresh sample positive, a test error of 1 − p. Gradient
// descent and SGD from zero stay in the row space and reach the minimum-norm solution, whose
// score has the sign of y.

#include "fields/theory.hpp"

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>
#include <descent/random.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "support/plot.hpp"

namespace fields {
namespace dc = descent;
namespace opt = descent::optim;

// The protocol, fixed before any result was seen. Rates: a half-decade grid for every method,
// the one with the lowest final training loss on the tuning data set wins (Wilson et al.'s
// rule). p = 0.55 keeps the adaptive methods' predicted error 1 − p = 0.45 near one half while
// Σy > 0 (the argument's condition) holds with probability 0.99 for n = 500.
TheoryProtocol theory_protocol(Scale scale) {
    const std::vector<double> grid{1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0};
    if (scale == Scale::quick)
        return {.train_samples = 60,
                .test_samples = 2000,
                .p = 0.6,
                .full_batch_steps = 300,
                .sgd_epochs = 20,
                .lr_grid = grid,
                .tuning_seed = 1000,
                .seeds = {0, 1}};
    return {.train_samples = 500,
            .test_samples = 10000,
            .p = 0.55,
            .full_batch_steps = 2000,
            .sgd_epochs = 100,
            .lr_grid = grid,
            .tuning_seed = 1000,
            .seeds = {0, 1, 2, 3, 4}};
}

namespace {

enum class Kind { gd, sgd, sgdm, adagrad, rmsprop, adam };
struct Method {
    const char* name;
    Kind kind;
    bool adaptive, stochastic;  // stochastic: one sample per update, else the full batch
};
// Adaptive methods run full batch, as in the paper's argument; torch's defaults otherwise
// (AdaGrad ε 1e-10; RMSProp α 0.99, ε 1e-8; Adam β (0.9, 0.999), ε 1e-8; momentum 0.9).
constexpr Method methods[] = {{"GD", Kind::gd, false, false},
                              {"SGD", Kind::sgd, false, true},
                              {"SGD momentum", Kind::sgdm, false, true},
                              {"AdaGrad", Kind::adagrad, true, false},
                              {"RMSProp", Kind::rmsprop, true, false},
                              {"Adam", Kind::adam, true, false}};

std::unique_ptr<opt::Optimizer> make_optimizer(Kind kind, const dc::Tensor& w, double lr) {
    switch (kind) {
        case Kind::gd:
        case Kind::sgd:
            return std::make_unique<opt::SGD>(std::vector{w}, opt::SGDOptions{.lr = lr});
        case Kind::sgdm:
            return std::make_unique<opt::SGD>(std::vector{w},
                                              opt::SGDOptions{.lr = lr, .momentum = 0.9});
        case Kind::adagrad:
            return std::make_unique<opt::Adagrad>(std::vector{w}, opt::AdagradOptions{.lr = lr});
        case Kind::rmsprop:
            return std::make_unique<opt::RMSprop>(std::vector{w}, opt::RMSpropOptions{.lr = lr});
        case Kind::adam:
            return std::make_unique<opt::Adam>(std::vector{w}, opt::AdamOptions{.lr = lr});
    }
    return nullptr;
}

/// One draw of the construction: training set, sign(Xᵀy), fresh test labels.
struct Problem {
    std::int64_t n = 0, d = 0;
    std::vector<double> x{}, y{};               // x: n × d, row-major
    dc::Tensor X, Y;                            // the same as float64 tensors
    std::vector<dc::Tensor> rows{}, targets{};  // one sample each, [1, d] and [1]
    std::vector<double> sign{};                 // sign(Xᵀy)
    std::vector<double> test_y{};
};

Problem draw_problem(const TheoryProtocol& protocol, std::uint64_t seed) {
    dc::Generator gen(seed);
    Problem pr;
    pr.n = protocol.train_samples;
    pr.d = 3 + 5 * pr.n;
    const auto n = static_cast<std::size_t>(pr.n), d = static_cast<std::size_t>(pr.d);
    pr.x.assign(n * d, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const double y = gen.uniform() < protocol.p ? 1.0 : -1.0;
        pr.y.push_back(y);
        double* row = &pr.x[i * d];
        row[0] = y;
        row[1] = row[2] = 1.0;
        const std::size_t own = y > 0 ? 1 : 5;  // 1 + 2(1 − y) features of its own
        for (std::size_t k = 0; k < own; ++k) row[3 + 5 * i + k] = 1.0;
    }
    const dc::TensorOptions f64{.dtype = dc::float64};
    pr.X = dc::tensor(pr.x, {pr.n, pr.d}, f64);
    pr.Y = dc::tensor(pr.y, {pr.n}, f64);
    for (std::int64_t i = 0; i < pr.n; ++i) {
        pr.rows.push_back(pr.X.slice(0, i, i + 1));
        pr.targets.push_back(pr.Y.slice(0, i, i + 1));
    }
    pr.sign.assign(d, 0.0);
    for (std::size_t j = 0; j < d; ++j) {
        double s = 0.0;  // (Xᵀy)_j
        for (std::size_t i = 0; i < n; ++i) s += pr.x[i * d + j] * pr.y[i];
        pr.sign[j] = static_cast<double>((s > 0) - (s < 0));
    }
    for (std::int64_t i = 0; i < protocol.test_samples; ++i)
        pr.test_y.push_back(gen.uniform() < protocol.p ? 1.0 : -1.0);
    return pr;
}

struct Measures {
    double loss, error, cosine;
};

Measures measure(const Problem& pr, const std::vector<double>& w) {
    const auto n = static_cast<std::size_t>(pr.n), d = static_cast<std::size_t>(pr.d);
    double loss = 0.0;  // (1/n)·Σ(⟨x_i, w⟩ − y_i)²
    for (std::size_t i = 0; i < n; ++i) {
        double r = -pr.y[i];
        for (std::size_t j = 0; j < d; ++j) r += pr.x[i * d + j] * w[j];
        loss += r * r;
    }
    double errors = 0.0;  // score w₁y + w₂ + w₃; zero counts as wrong
    for (const double y : pr.test_y) errors += (w[0] * y + w[1] + w[2]) * y > 0 ? 0.0 : 1.0;
    double ws = 0.0, ww = 0.0, ss = 0.0;  // cos = ⟨w, s⟩ / (‖w‖‖s‖)
    for (std::size_t j = 0; j < d; ++j) {
        ws += w[j] * pr.sign[j];
        ww += w[j] * w[j];
        ss += pr.sign[j] * pr.sign[j];
    }
    return {loss / static_cast<double>(n), errors / static_cast<double>(pr.test_y.size()),
            ww > 0 && ss > 0 ? ws / std::sqrt(ww * ss) : 0.0};
}

/// Passes over the training set after which the measures are recorded: 1, 2, 5, 10, 20, …
std::vector<std::int64_t> record_points(std::int64_t last) {
    std::vector<std::int64_t> at;
    for (std::int64_t decade = 1; decade <= last; decade *= 10)
        for (const std::int64_t m : {1, 2, 5})
            if (m * decade <= last) at.push_back(m * decade);
    if (at.empty() || at.back() != last) at.push_back(last);
    return at;
}

struct Trace {
    std::vector<double> passes{};
    std::vector<Measures> at{};
};

/// Trains w from zero on the squared loss; the sample order of SGD is drawn from `seed`.
Trace train(const Problem& pr, const Method& m, double lr, std::int64_t passes,
            std::uint64_t seed) {
    const dc::Tensor w = dc::zeros({pr.d}, {.dtype = dc::float64, .requires_grad = true});
    const auto optimizer = make_optimizer(m.kind, w, lr);
    dc::Generator order_gen(seed ^ 0x5eedULL);
    std::vector<std::size_t> order(static_cast<std::size_t>(pr.n));
    const std::vector<std::int64_t> at = record_points(passes);
    Trace trace;
    std::size_t next = 0;
    for (std::int64_t pass = 1; pass <= passes; ++pass) {
        if (m.stochastic) {
            for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
            for (std::size_t i = order.size(); i > 1; --i)  // Fisher–Yates
                std::swap(order[i - 1], order[order_gen.below(i)]);
            for (const std::size_t i : order) {
                const dc::Tensor r = dc::matmul(pr.rows[i], w) - pr.targets[i];
                const dc::Tensor loss = (r * r).sum();  // (⟨x_i, w⟩ − y_i)²
                optimizer->zero_grad();
                loss.backward();
                optimizer->step();
            }
        } else {
            const dc::Tensor r = dc::matmul(pr.X, w) - pr.Y;
            const dc::Tensor loss = (r * r).mean();  // (1/n)‖Xw − y‖²
            optimizer->zero_grad();
            loss.backward();
            optimizer->step();
        }
        if (next < at.size() && pass == at[next]) {
            trace.passes.push_back(static_cast<double>(pass));
            trace.at.push_back(measure(pr, w.to_vector()));
            ++next;
        }
    }
    return trace;
}

}  // namespace

std::int64_t theory_runs(const TheoryProtocol& protocol) {
    return static_cast<std::int64_t>(std::size(methods) *
                                     (protocol.lr_grid.size() + protocol.seeds.size()));
}

TheoryResult run_theory(const TheoryProtocol& protocol, Runs* runs) {
    TheoryResult result{.protocol = protocol, .rows = {}};
    const Problem tuning = draw_problem(protocol, protocol.tuning_seed);
    std::vector<Problem> problems;
    for (const std::uint64_t seed : protocol.seeds) {
        problems.push_back(draw_problem(protocol, seed));
        double negatives = 0.0;
        for (const double y : problems.back().test_y) negatives += y < 0 ? 1.0 : 0.0;
        result.negatives.push_back(negatives / static_cast<double>(protocol.test_samples));
    }
    for (const Method& m : methods) {
        const std::int64_t passes = m.stochastic ? protocol.sgd_epochs : protocol.full_batch_steps;
        TheoryRow row{.name = m.name, .adaptive = m.adaptive};
        double best = std::numeric_limits<double>::infinity();
        for (const double lr : protocol.lr_grid) {  // a diverged run (NaN) never wins
            const double loss = train(tuning, m, lr, passes, protocol.tuning_seed).at.back().loss;
            if (loss < best) best = loss, row.lr = lr;
            if (runs) runs->done("theory");
        }
        std::vector<Trace> traces;
        for (std::size_t s = 0; s < problems.size(); ++s) {
            traces.push_back(train(problems[s], m, row.lr, passes, protocol.seeds[s]));
            const Measures& end = traces.back().at.back();
            row.train_loss.push_back(end.loss);
            row.test_error.push_back(end.error);
            row.cosine.push_back(end.cosine);
            if (runs) runs->done("theory");
        }
        row.passes = traces.front().passes;
        for (std::size_t k = 0; k < row.passes.size(); ++k) {
            double loss = 0, error = 0, cosine = 0;
            for (const Trace& t : traces)
                loss += t.at[k].loss, error += t.at[k].error, cosine += t.at[k].cosine;
            const auto count = static_cast<double>(traces.size());
            row.curve_loss.push_back(loss / count);
            row.curve_error.push_back(error / count);
            row.curve_cosine.push_back(cosine / count);
        }
        result.rows.push_back(std::move(row));
    }
    return result;
}

std::string theory_table(const TheoryResult& result) {
    const TheoryProtocol& p = result.protocol;
    std::string out = fmt::format(
        "Theory (Wilson et al. 2017, §3.3): n = {} samples, d = {} features, p = {}, {} fresh "
        "samples, {} seeds\n(full batch {} steps; SGD {} epochs of single samples; rate by final "
        "training loss on seed {})\n",
        p.train_samples, 3 + 5 * p.train_samples, p.p, p.test_samples, p.seeds.size(),
        p.full_batch_steps, p.sgd_epochs, p.tuning_seed);
    out += fmt::format("{:<14} {:>6}  {:>24}  {:>17}  {:>17}\n", "method", "lr", "train loss",
                       "test error", "cos(w, sign(Xᵀy))");
    for (const TheoryRow& r : result.rows)
        out +=
            fmt::format("{:<14} {:>6}  {:>24}  {:>17}  {:>17}\n", r.name, r.lr,
                        fmt::format("{:.2e} ± {:.1e}", summarize(r.train_loss).mean,
                                    summarize(r.train_loss).sd),
                        format_pm(summarize(r.test_error), 3), format_pm(summarize(r.cosine), 3));
    out += fmt::format("fresh samples with y = −1 (the error of calling all positive): {}\n",
                       format_pm(summarize(result.negatives), 3));
    return out;
}

void draw_theory(const TheoryResult& result, const std::filesystem::path& png) {
    support::Panel loss{.title = "training loss (1/n)·|Xw − y|²",
                        .xlabel = "passes over the training set",
                        .ylabel = "mean over seeds",
                        .log_x = true,
                        .log_y = true};
    support::Panel error{.title = "test error on fresh samples",
                         .xlabel = "passes over the training set",
                         .ylabel = "mean over seeds",
                         .log_x = true,
                         .y_range = std::pair{-0.02, 0.6}};
    support::Panel cosine{.title = "cos(w, sign(X^T y))",
                          .xlabel = "passes over the training set",
                          .ylabel = "mean over seeds",
                          .log_x = true,
                          .y_range = std::pair{0.0, 1.02}};
    for (const TheoryRow& r : result.rows) {
        const std::string title = fmt::format("{} (lr {})", r.name, r.lr);
        const std::string style = r.adaptive ? "linespoints pt 7 ps 0.6" : "linespoints dt 2 pt 6";
        loss.curves.push_back({title, r.passes, r.curve_loss, style});
        error.curves.push_back({title, r.passes, r.curve_error, style});
        cosine.curves.push_back({title, r.passes, r.curve_cosine, style});
    }
    error.key = "right center";
    cosine.key = "right center";
    support::draw({.title = "Wilson et al.'s construction: adaptive methods find sign(X^T y) "
                            "and call every fresh sample positive",
                   .panels = {loss, error, cosine},
                   .columns = 3,
                   .width = 1650,
                   .height = 550},
                  png);
}

}  // namespace fields
