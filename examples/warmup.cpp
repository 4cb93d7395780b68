// Why warm-up: Adam's first updates are taken with second-moment estimates built from one or
// two gradients, so the per-parameter rates η/√v̂ are wild — every parameter moves by about η
// at step 1, however small its gradient. Warm-up (η rising linearly over the first steps) and
// RAdam (momentum SGD until the variance of the adaptive rate can be estimated, then a
// rectified rate) tame the first steps. Drawn: the size of the updates (median and the largest
// 1 %) and the spread of the per-parameter effective rates |Δθ|/|g| (99th over 1st percentile)
// over the first 200 updates of the digits MLP, same weights and batches for all three.

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "support/plot.hpp"

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;

namespace {

constexpr int steps = 200;
double lr = 3e-2;  // the runs' peak rate (argv[1]): large enough for the first steps to matter

struct Trace {
    std::string name;
    std::vector<double> median, top, spread, loss;  // per update
};

/// The q-quantile of v (not empty).
double percentile(std::vector<double> v, double q) {
    const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

std::vector<double> flat(const std::vector<dc::Tensor>& tensors) {
    std::vector<double> out;
    for (const dc::Tensor& t : tensors) {
        const std::vector<double> v = t.to_vector();
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

/// `steps` updates from seed 0's weights and batches, recording the updates' statistics.
Trace run(const std::string& name, const std::string& kind) {
    dc::manual_seed(0);
    const data::Dataset digits = data::digits();
    const dc::Tensor x = data::Standardizer().fit_transform(digits.features);
    data::DataLoader loader(x, digits.labels, {.batch_size = 32, .seed = 1});
    nn::Sequential model{nn::Linear(64, 128), nn::ReLU(), nn::Linear(128, 10)};
    const std::vector<dc::Tensor> params = model.parameters();
    std::unique_ptr<opt::Optimizer> optimizer;
    if (kind == "radam")
        optimizer = std::make_unique<opt::RAdam>(params, opt::RAdamOptions{.lr = lr});
    else
        optimizer = std::make_unique<opt::Adam>(params, opt::AdamOptions{.lr = lr});
    opt::LRScheduler schedule(
        *optimizer, kind == "warmup" ? opt::warmup(opt::constant(), 50, 0.01) : opt::constant());
    Trace trace{name, {}, {}, {}, {}};
    while (static_cast<int>(trace.loss.size()) < steps) {
        for (auto& [bx, by] : loader) {
            if (static_cast<int>(trace.loss.size()) == steps) break;
            const dc::Tensor loss = nn::cross_entropy(model(bx), by);
            optimizer->zero_grad();
            loss.backward();
            std::vector<dc::Tensor> grads;
            for (const dc::Tensor& p : params) grads.push_back(p.grad());
            const std::vector<double> before = flat(params), g = flat(grads);
            optimizer->step();
            schedule.step();
            const std::vector<double> after = flat(params);
            std::vector<double> size, rate;
            for (std::size_t i = 0; i < after.size(); ++i) {
                size.push_back(std::abs(after[i] - before[i]));
                if (std::abs(g[i]) > 1e-12) rate.push_back(size.back() / std::abs(g[i]));
            }
            trace.median.push_back(percentile(size, 0.5));
            trace.top.push_back(percentile(size, 0.99));
            trace.spread.push_back(rate.empty() ? NAN
                                                : percentile(rate, 0.99) / percentile(rate, 0.01));
            trace.loss.push_back(loss.item());
        }
    }
    return trace;
}

double largest(const std::vector<double>& v, int from, int to) {
    return *std::max_element(v.begin() + from, v.begin() + to);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) lr = std::stod(argv[1]);
    const std::vector<Trace> traces{run("Adam", "adam"), run("Adam + 50-step warm-up", "warmup"),
                                    run("RAdam", "radam")};
    std::vector<double> t(steps);
    for (int i = 0; i < steps; ++i) t[static_cast<std::size_t>(i)] = i + 1;
    support::Panel sizes{.title = "update size |Δθ| per parameter: median and largest 1 %",
                         .xlabel = "update",
                         .ylabel = "|Δθ| (log scale)",
                         .log_y = true,
                         .key_outside = true};
    support::Panel spread{.title = "spread of effective rates |Δθ|/|g| (99th / 1st percentile)",
                          .xlabel = "update",
                          .ylabel = "ratio (log scale)",
                          .log_y = true,
                          .key_outside = true};
    support::Panel loss{.title = "training loss",
                        .xlabel = "update",
                        .ylabel = "cross-entropy (log scale)",
                        .log_y = true,
                        .key_outside = true};
    fmt::print(
        "lr {}, digits MLP 64-128-10, batch 32; update sizes (99th percentile of |Δθ|) "
        "and rate spreads:\n",
        lr);
    const char* colours[] = {"#d62728", "#2ca02c", "#1f77b4"};
    for (std::size_t i = 0; i < traces.size(); ++i) {
        const Trace& tr = traces[i];
        const std::string line = fmt::format("lines lc rgb \"{}\"", colours[i]);
        sizes.curves.push_back({tr.name + " median", t, tr.median, line});
        sizes.curves.push_back({tr.name + " top 1 %", t, tr.top, line + " dt 2"});
        spread.curves.push_back({tr.name, t, tr.spread, line});
        loss.curves.push_back({tr.name, t, tr.loss, line});
        fmt::print(
            "{:24} largest update in steps 1-10 {:.2e}, in steps 101-200 {:.2e}; rate "
            "spread at step 1 {:.3g}, at step 200 {:.3g}; loss after 200 {:.4f}\n",
            tr.name + ":", largest(tr.top, 0, 10), largest(tr.top, 100, steps), tr.spread.front(),
            tr.spread.back(), tr.loss.back());
    }
    const bool tamer = largest(traces[1].top, 0, 10) < largest(traces[0].top, 0, 10) &&
                       traces[2].spread.front() < traces[0].spread.front();
    fmt::print("warm-up shrinks the first updates and RAdam narrows the first rates: {}\n",
               tamer ? "yes" : "no");
    support::draw({.title = "the first steps of Adam, with warm-up, and RAdam",
                   .panels = {sizes, spread, loss},
                   .columns = 1,
                   .width = 1100,
                   .height = 1200},
                  "warmup.png");
    return 0;
}
