// Gradient descent on the whole training set, stochastic gradient descent on one example at a
// time, and mini-batches in between (the lecture's "stochastic gradient descent" section): the
// same softmax regression on the digits, the same initial weights, shuffled every epoch. Per
// update, the full batch is best (each update sees every example); per example seen — the
// cost — the stochastic and mini-batch runs are far ahead, and mini-batches are the compromise
// that also vectorises.

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <string>
#include <vector>

#include "support/plot.hpp"

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;

namespace {

struct Run {
    std::string name;
    std::int64_t batch;
    double lr;
    std::vector<double> updates, examples, loss;  // at each evaluation
};

double full_loss(nn::Module& model, const dc::Tensor& x, const dc::Tensor& y) {
    const dc::NoGradGuard no_grad;
    return nn::cross_entropy(model(x), y).item();
}

/// `epochs` passes of examples; the full training loss after each of the first 20 updates and
/// then 20 times per epoch of examples seen.
void train(Run& run, const dc::Tensor& x, const dc::Tensor& y, std::int64_t epochs) {
    dc::manual_seed(0);
    nn::Linear model(64, 10);
    opt::SGD sgd(model.parameters(), {.lr = run.lr});
    data::DataLoader loader(x, y, {.batch_size = run.batch, .seed = 1});
    const std::int64_t n = x.size(0), every = n / 20;
    std::int64_t seen = 0, updates = 0, next = 0;
    const auto record = [&] {
        run.updates.push_back(static_cast<double>(std::max<std::int64_t>(updates, 1)));
        run.examples.push_back(static_cast<double>(seen) / static_cast<double>(n));
        run.loss.push_back(full_loss(model, x, y));
    };
    record();
    next = every;
    for (std::int64_t e = 0; e < epochs; ++e) {
        for (auto& [bx, by] : loader) {
            const dc::Tensor loss = nn::cross_entropy(model(bx), by);
            sgd.zero_grad();
            loss.backward();
            sgd.step();
            ++updates;
            seen += bx.size(0);
            if (seen >= next || updates <= 20) record();
            while (seen >= next) next += every;
        }
    }
}

/// The loss at the first evaluation where `at` reached `x`.
double loss_at(const Run& run, const std::vector<double>& at, double x) {
    for (std::size_t i = 0; i < at.size(); ++i)
        if (at[i] >= x) return run.loss[i];
    return run.loss.back();
}

/// When the full loss first drops below `target`, in epochs of examples seen.
std::string below(const Run& run, double target) {
    for (std::size_t i = 0; i < run.loss.size(); ++i)
        if (run.loss[i] < target)
            return fmt::format("below {} after {:.2f} epochs", target, run.examples[i]);
    return fmt::format("not below {} within the run", target);
}

}  // namespace

int main(int argc, char** argv) {
    const std::int64_t epochs = argc > 1 ? std::stoll(argv[1]) : 10;
    const data::Dataset digits = data::digits();
    const dc::Tensor x = data::Standardizer().fit_transform(digits.features);
    const dc::Tensor& y = digits.labels;
    std::vector<Run> runs{{"full batch (gradient descent)", x.size(0), 0.5, {}, {}, {}},
                          {"mini-batch of 32", 32, 0.1, {}, {}, {}},
                          {"stochastic (batch 1)", 1, 0.01, {}, {}, {}}};
    support::Panel per_update{.title = "full training loss against updates",
                              .xlabel = "updates (log scale)",
                              .ylabel = "cross-entropy",
                              .log_x = true};
    support::Panel per_example{.title = "full training loss against examples seen",
                               .xlabel = "epochs of examples seen",
                               .ylabel = "cross-entropy"};
    fmt::print("softmax regression on {} digits, {} epochs of examples each\n", x.size(0), epochs);
    for (Run& run : runs) {
        train(run, x, y, epochs);
        fmt::print(
            "{:30} lr {:5}: {:6.0f} updates, loss after 1 epoch of examples {:.4f}, after "
            "{} {:.4f}; {}\n",
            run.name, run.lr, run.updates.back(), loss_at(run, run.examples, 1.0), epochs,
            run.loss.back(), below(run, 0.2));
        per_update.curves.push_back({run.name, run.updates, run.loss, "linespoints"});
        per_example.curves.push_back({run.name, run.examples, run.loss});
    }
    const Run &full = runs[0], &mini = runs[1], &single = runs[2];
    const double k = full.updates.back();  // as many updates as the full batch made in all
    const double full_k = loss_at(full, full.updates, k),
                 single_k = loss_at(single, single.updates, k);
    fmt::print(
        "after {:.0f} updates: full batch {:.4f}, stochastic {:.4f} -> per update the full "
        "batch is {}\n",
        k, full_k, single_k, full_k < single_k ? "ahead" : "behind");
    const double full_1 = loss_at(full, full.examples, 1.0),
                 mini_1 = loss_at(mini, mini.examples, 1.0),
                 single_1 = loss_at(single, single.examples, 1.0);
    fmt::print(
        "after 1 epoch of examples: full batch {:.4f}, mini-batch {:.4f}, stochastic "
        "{:.4f} -> per example seen the mini-batch is {}\n",
        full_1, mini_1, single_1, mini_1 < full_1 ? "ahead" : "behind");
    support::draw({.title = "gradient descent vs stochastic vs mini-batch (digits)",
                   .panels = {per_update, per_example},
                   .columns = 2,
                   .width = 1500,
                   .height = 600},
                  "sgd_vs_gd.png");
    return 0;
}
