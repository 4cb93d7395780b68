// Team SGD against Team Adam (the lecture's race): every optimizer of optim, plus Lookahead
// over SGD with momentum and over Adam, each with and without a linear warm-up, trained from
// the same initial weights on the same batch order, on two tasks — the digits MLP on
// standardised pixels, and a softmax regression on the raw wine measurements (proline ~10³
// next to hue ~1), where per-parameter rates matter. Each optimizer's learning rate comes from a
// sweep over half-decades 1e-5 … 1 (a few epochs each, lowest validation loss wins), the same rate
// with and without warm-up. Prints a ranked table per task and draws every loss curve.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "support/choices.hpp"
#include "support/plot.hpp"

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;

namespace {

struct Task {
    std::string name;
    data::DataSplit data;
    std::function<nn::Sequential()> model;
    std::int64_t batch_size;
    std::int64_t epoch_factor;  ///< epochs of this task per epoch asked for (small data: more)
    std::pair<double, double> loss_range;  ///< of the figure
};

Task digits_task() {
    const data::Dataset d = data::digits();
    data::DataSplit s = data::train_val_test_split(
        d.features, d.labels, {.validation = 0.1, .test = 0.2, .stratify = true});
    data::Standardizer scaler;
    s.x_train = scaler.fit_transform(s.x_train);
    s.x_validation = scaler.transform(s.x_validation);
    s.x_test = scaler.transform(s.x_test);
    return {"digits MLP 64-128-10, standardised",
            s,
            [] {
                return nn::Sequential{nn::Linear(64, 128), nn::ReLU(), nn::Linear(128, 10)};
            },
            32,
            1,
            {1e-5, 10}};
}

Task wine_task() {
    const data::Dataset d = data::wine();
    return {"wine softmax regression, raw features",
            data::train_val_test_split(d.features, d.labels,
                                       {.validation = 0.2, .test = 0.2, .stratify = true}),
            [] { return nn::Sequential{nn::Linear(13, 3)}; },
            16,
            4,
            {0.05, 1e3}};
}

struct Entrant {
    std::string optimizer;  // support::optimizers() name
    bool lookahead;
    std::string label() const { return lookahead ? "Lookahead(" + optimizer + ")" : optimizer; }
    bool team_sgd() const {
        return optimizer == "sgd" || optimizer == "sgdm" || optimizer == "nag" ||
               optimizer == "sgdw";
    }
};

std::vector<Entrant> entrants() {
    std::vector<Entrant> list;
    for (const auto& o : support::optimizers()) list.push_back({o.name, false});
    list.push_back({"sgdm", true});
    list.push_back({"adam", true});
    return list;
}

struct Result {
    std::string name;
    bool team_sgd, warmup;
    double lr, train_loss, validation_loss, test_accuracy, seconds;
    std::vector<double> epoch_loss;  // full training loss after each epoch (and at 0)
};

double loss_of(nn::Module& model, const dc::Tensor& x, const dc::Tensor& y) {
    const double l = nn::cross_entropy(model(x), y).item();
    return std::isfinite(l) ? l : INFINITY;
}

Result train(const Task& task, const Entrant& e, double lr, bool warmup, std::int64_t epochs) {
    dc::manual_seed(0);  // the same initial weights for everyone
    nn::Sequential model = task.model();
    data::DataLoader loader(task.data.x_train, task.data.y_train,
                            {.batch_size = task.batch_size, .seed = 1});  // the same batch order
    const support::OptimizerInfo& info = support::optimizer_info(e.optimizer);
    support::OptimizerStack optimizer =
        support::make_optimizer(e.optimizer, opt::split_for_weight_decay(model.named_parameters()),
                                lr, info.weight_decay, e.lookahead);
    const std::int64_t total = epochs * loader.batches();
    opt::LRScheduler schedule(optimizer.get(),
                              warmup ? opt::warmup(opt::constant(), total / 10) : opt::constant());
    Result r{e.label() + (warmup ? " + warm-up" : ""), e.team_sgd(), warmup, lr, 0, 0, 0, 0, {}};
    const auto start = std::chrono::steady_clock::now();
    {
        const dc::NoGradGuard no_grad;
        r.epoch_loss.push_back(loss_of(model, task.data.x_train, task.data.y_train));
    }
    for (std::int64_t epoch = 0; epoch < epochs && std::isfinite(r.epoch_loss.back()); ++epoch) {
        for (auto& [x, y] : loader) {
            const dc::Tensor loss = nn::cross_entropy(model(x), y);
            optimizer.get().zero_grad();
            loss.backward();
            optimizer.get().step();
            schedule.step();
        }
        const dc::NoGradGuard no_grad;
        r.epoch_loss.push_back(loss_of(model, task.data.x_train, task.data.y_train));
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const dc::NoGradGuard no_grad;
    r.train_loss = r.epoch_loss.back();
    r.validation_loss = loss_of(model, task.data.x_validation, task.data.y_validation);
    r.test_accuracy = std::isfinite(r.train_loss)
                          ? data::accuracy(model(task.data.x_test), task.data.y_test)
                          : 0.0;
    return r;
}

/// The learning rate of the half-decade grid 1e-5 … 1 with the lowest validation loss after
/// `epochs` epochs (no warm-up).
double sweep(const Task& task, const Entrant& e, std::int64_t epochs) {
    double best_lr = 0, best = INFINITY;
    for (int k = -10; k <= 0; ++k) {
        const double lr = std::pow(10.0, k / 2.0);
        const double v = train(task, e, lr, false, epochs).validation_loss;
        if (v < best) best = v, best_lr = lr;
    }
    return best_lr > 0 ? best_lr : 1e-5;
}

std::vector<Result> race(const Task& task, std::int64_t epochs, std::int64_t sweep_epochs) {
    std::vector<Result> results;
    for (const Entrant& e : entrants()) {
        const double lr = sweep(task, e, sweep_epochs);
        for (const bool warmup : {false, true})
            results.push_back(train(task, e, lr, warmup, epochs));
    }
    std::sort(results.begin(), results.end(),
              [](const Result& a, const Result& b) { return a.train_loss < b.train_loss; });
    return results;
}

void print_table(const Task& task, const std::vector<Result>& results) {
    fmt::print("\n{}: {} runs ranked by final training loss\n", task.name, results.size());
    fmt::print(
        "| rank | optimizer | team | lr (sweep) | training loss | held-out accuracy | time (s) |\n"
        "|---:|---|---|---:|---:|---:|---:|\n");
    for (std::size_t i = 0; i < results.size(); ++i) {
        const Result& r = results[i];
        fmt::print("| {} | {} | {} | {:g} | {:.4g} | {:.4f} | {:.2f} |\n", i + 1, r.name,
                   r.team_sgd ? "SGD" : "Adam", r.lr, r.train_loss, r.test_accuracy, r.seconds);
    }
    const auto best = [&](bool sgd) {
        return *std::find_if(results.begin(), results.end(),
                             [&](const Result& r) { return r.team_sgd == sgd; });
    };
    const Result s = best(true), a = best(false);
    fmt::print(
        "best of Team SGD: {} (loss {:.4g}, accuracy {:.4f}); best of Team Adam: {} (loss "
        "{:.4g}, accuracy {:.4f}); lower training loss: Team {}\n",
        s.name, s.train_loss, s.test_accuracy, a.name, a.train_loss, a.test_accuracy,
        a.train_loss < s.train_loss ? "Adam" : "SGD");
}

/// One team's loss curves on one task.
support::Panel curves(const Task& task, std::vector<Result> results, bool team_sgd) {
    std::erase_if(results, [&](const Result& r) { return r.team_sgd != team_sgd; });
    support::Panel p{.title = task.name + (team_sgd ? ": Team SGD" : ": Team Adam"),
                     .xlabel = "epoch",
                     .ylabel = "training loss (log scale)",
                     .log_y = true,
                     .key_outside = true};
    std::sort(results.begin(), results.end(),
              [](const Result& a, const Result& b) { return a.name < b.name; });
    static const char* colours[] = {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf", "#000000", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5"};
    std::size_t colour = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const Result& r = results[i];
        if (i > 0 && !r.warmup) ++colour;
        std::vector<double> x(r.epoch_loss.size());
        for (std::size_t k = 0; k < x.size(); ++k) x[k] = static_cast<double>(k);
        p.curves.push_back({r.name, x, r.epoch_loss,
                            fmt::format("lines lw 1.5 lc rgb \"{}\"{}", colours[colour % 16],
                                        r.warmup ? " dt 2" : "")});
    }
    return p;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Team SGD vs Team Adam: every optimizer of descent on two tasks."};
    std::int64_t epochs = 30, sweep_epochs = 5;
    app.add_option("--epochs", epochs, "epochs of the race")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--sweep-epochs", sweep_epochs, "epochs per learning rate of the sweep")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    std::vector<support::Panel> panels;
    for (const Task& task : {digits_task(), wine_task()}) {
        const std::vector<Result> results =
            race(task, epochs * task.epoch_factor, sweep_epochs * task.epoch_factor);
        print_table(task, results);
        for (const bool team_sgd : {true, false}) {
            panels.push_back(curves(task, results, team_sgd));
            panels.back().y_range = task.loss_range;
        }
    }
    support::draw({.title = "Team SGD vs Team Adam (dashed: with warm-up)",
                   .panels = panels,
                   .columns = 2,
                   .width = 2000,
                   .height = 1300},
                  "optimizer_race.png");
    return 0;
}
