// REINFORCE on the cart-pole, Adam against SGD with momentum.
//
// Policy π(a | s): s (x, ẋ, θ, θ̇) → Linear → tanh → Linear → two logits, softmax. Each update
// plays `episodes` episodes with π, then, with G_t = Σ_{k≥t} γ^{k−t} r_k the return-to-go of
// step t and b the mean of every G_t of the batch (a baseline: it leaves the gradient's
// expectation alone and shrinks its variance; Williams 1992), descends
//   L(θ) = −(1/T) Σ_t (G_t − b) · log π(a_t | s_t)
// over the batch's T steps: the policy-gradient theorem's estimate of −∇ E[return]. The
// advantages are not divided by their sd, so the gradient's scale follows the returns (from
// about 20 to 500 as the policy learns) — what a fixed rate of SGD has to cope with and Adam's
// per-parameter normalisation removes.

#include "fields/reinforce.hpp"

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <descent/random.hpp>

#include <algorithm>
#include <cmath>
#include <memory>

#include "fields/cartpole.hpp"
#include "support/plot.hpp"

namespace fields {
namespace dc = descent;
namespace nn = descent::nn;
namespace opt = descent::optim;

// The protocol: half-decade grids up to 1 (Adam from 1e-4; SGD momentum 0.9 from 1e-5, its
// steps are not normalised), the rate with the highest final return averaged over two tuning
// seeds, then eight seeds. γ = 0.99; Gym counts CartPole-v1 solved at an average return of 475.
// Revised twice: the grids first ended at 1e-1 (Adam) and 1e-2 (SGD momentum), then both at
// 1e-1, and SGD momentum's edge won each time.
RlProtocol rl_protocol(Scale scale) {
    if (scale == Scale::quick)
        return {.updates = 15,
                .episodes = 4,
                .hidden = 16,
                .gamma = 0.99,
                .final_window = 5,
                .adam_grid = {1e-2},
                .sgdm_grid = {1e-3},
                .tuning_seeds = {1000},
                .seeds = {0, 1}};
    return {.updates = 150,
            .episodes = 8,
            .hidden = 32,
            .gamma = 0.99,
            .final_window = 10,
            .adam_grid = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0},
            .sgdm_grid = {1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0},
            .tuning_seeds = {1000, 1001},
            .seeds = {0, 1, 2, 3, 4, 5, 6, 7}};
}

namespace {

constexpr double solved = 475.0;

/// π(right | s), the policy network evaluated by hand (no tape) while playing.
double prob_right(dc::nn::Sequential& policy, const std::array<double, 4>& s) {
    dc::Tensor &w1 = policy.at<nn::Linear>(0).weight(), &w2 = policy.at<nn::Linear>(2).weight();
    const float *W1 = w1.data<float>(), *b1 = policy.at<nn::Linear>(0).bias().data<float>();
    const float *W2 = w2.data<float>(), *b2 = policy.at<nn::Linear>(2).bias().data<float>();
    const std::int64_t hidden = w1.size(0);
    double logit[2] = {b2[0], b2[1]};
    for (std::int64_t j = 0; j < hidden; ++j) {
        double h = b1[j];  // h_j = tanh(b1_j + Σ_i W1_ji·s_i)
        for (std::size_t i = 0; i < 4; ++i) h += W1[4 * j + static_cast<std::int64_t>(i)] * s[i];
        h = std::tanh(h);
        logit[0] += W2[j] * h;
        logit[1] += W2[hidden + j] * h;
    }
    return 1.0 / (1.0 + std::exp(logit[0] - logit[1]));  // softmax of two logits
}

/// The mean return of each update.
std::vector<double> train(const RlProtocol& p, bool adam, double lr, std::uint64_t seed) {
    dc::manual_seed(seed);  // the initial weights
    nn::Sequential policy{nn::Linear(4, p.hidden), nn::Tanh(), nn::Linear(p.hidden, 2)};
    std::unique_ptr<opt::Optimizer> optimizer;
    if (adam)
        optimizer = std::make_unique<opt::Adam>(policy.parameters(), opt::AdamOptions{.lr = lr});
    else
        optimizer = std::make_unique<opt::SGD>(policy.parameters(),
                                               opt::SGDOptions{.lr = lr, .momentum = 0.9});
    dc::Generator gen(seed ^ 0xca27ULL);  // starts and actions
    CartPole env;
    std::vector<double> curve;
    for (std::int64_t update = 0; update < p.updates; ++update) {
        std::vector<double> states, actions, returns;
        double total = 0.0;
        for (std::int64_t e = 0; e < p.episodes; ++e) {
            env.reset(gen);
            const std::size_t first = actions.size();
            bool over = false;
            while (!over) {
                const std::array<double, 4> s = env.state();
                states.insert(states.end(), s.begin(), s.end());
                const int a = gen.uniform() < prob_right(policy, s) ? 1 : 0;
                actions.push_back(a);
                over = env.step(a);
            }
            const std::size_t length = actions.size() - first;
            total += static_cast<double>(length);
            returns.resize(actions.size());
            double g = 0.0;  // G_t = r_t + γ·G_{t+1}, every r_t = 1
            for (std::size_t t = actions.size(); t-- > first;) returns[t] = g = 1.0 + p.gamma * g;
        }
        curve.push_back(total / static_cast<double>(p.episodes));
        double baseline = 0.0;
        for (const double g : returns) baseline += g;
        baseline /= static_cast<double>(returns.size());
        for (double& g : returns) g -= baseline;
        const auto steps = static_cast<std::int64_t>(actions.size());
        const dc::Tensor nll = nn::cross_entropy(  // −log π(a_t | s_t)
            policy(dc::tensor(states, {steps, 4})),
            dc::tensor(actions, {steps}, {.dtype = dc::int64}), {.reduction = nn::Reduction::none});
        const dc::Tensor loss = (nll * dc::tensor(returns, {steps})).mean();
        optimizer->zero_grad();
        loss.backward();
        optimizer->step();
    }
    return curve;
}

double final_return(const RlProtocol& p, const std::vector<double>& curve) {
    double sum = 0.0;
    for (std::size_t k = curve.size() - static_cast<std::size_t>(p.final_window); k < curve.size();
         ++k)
        sum += curve[k];
    return sum / static_cast<double>(p.final_window);
}

}  // namespace

std::int64_t rl_runs(const RlProtocol& p) {
    return static_cast<std::int64_t>(
        (p.adam_grid.size() + p.sgdm_grid.size()) * p.tuning_seeds.size() + 2 * p.seeds.size());
}

RlResult run_rl(const RlProtocol& protocol, Runs* runs) {
    RlResult result{.protocol = protocol, .rows = {}};
    for (const bool adam : {true, false}) {
        RlRow row{.name = adam ? "Adam" : "SGD momentum"};
        double best = -1.0;
        for (const double lr : adam ? protocol.adam_grid : protocol.sgdm_grid) {
            double score = 0.0;  // the final return, averaged over the tuning seeds
            for (const std::uint64_t seed : protocol.tuning_seeds) {
                score += final_return(protocol, train(protocol, adam, lr, seed));
                if (runs) runs->done("rl");
            }
            if (score > best) best = score, row.lr = lr;
        }
        for (const std::uint64_t seed : protocol.seeds) {
            row.curves.push_back(train(protocol, adam, row.lr, seed));
            const std::vector<double>& c = row.curves.back();
            row.final_return.push_back(final_return(protocol, c));
            const auto hit = std::find_if(c.begin(), c.end(), [](double r) { return r >= solved; });
            row.solved_at.push_back(hit == c.end() ? 0.0
                                                   : static_cast<double>(hit - c.begin() + 1));
            if (runs) runs->done("rl");
        }
        result.rows.push_back(std::move(row));
    }
    return result;
}

std::string rl_table(const RlResult& result) {
    const RlProtocol& p = result.protocol;
    std::string out = fmt::format(
        "REINFORCE on CartPole-v1: {} updates of {} episodes, {} seeds; final return: the mean "
        "over the last {} updates (500 at most)\n",
        p.updates, p.episodes, p.seeds.size(), p.final_window);
    out += fmt::format("{:<14} {:>7}  {:>15}  {:>13}  {}\n", "optimizer", "lr", "final return",
                       "seeds at 475", "first update at 475, per seed (-: never)");
    for (const RlRow& r : result.rows) {
        std::string at;
        int reached = 0;
        for (const double s : r.solved_at) {
            at += s > 0 ? fmt::format(" {}", s) : std::string(" -");
            reached += s > 0 ? 1 : 0;
        }
        out += fmt::format("{:<14} {:>7}  {:>15}  {:>13} {}\n", r.name, r.lr,
                           format_pm(summarize(r.final_return), 1),
                           fmt::format("{} of {}", reached, r.solved_at.size()), at);
    }
    out += fmt::format("seed-level win rate of Adam over SGD momentum (final return): {:.2f}\n",
                       win_rate(result.rows[0].final_return, result.rows[1].final_return));
    return out;
}

void draw_rl(const RlResult& result, const std::filesystem::path& png) {
    std::vector<support::Panel> panels;
    for (const RlRow& r : result.rows) {
        support::Panel panel{
            .title = fmt::format("{} (lr {}), {} seeds", r.name, r.lr, r.curves.size()),
            .xlabel = "update",
            .ylabel = "mean return of the update's episodes",
            .y_range = std::pair{0.0, 520.0},
            .key = "left top"};
        std::vector<double> x, mean(r.curves.front().size(), 0.0);
        for (std::size_t k = 0; k < mean.size(); ++k) x.push_back(static_cast<double>(k + 1));
        for (const std::vector<double>& c : r.curves) {
            for (std::size_t k = 0; k < mean.size(); ++k)
                mean[k] += c[k] / static_cast<double>(r.curves.size());
            panel.curves.push_back({"", x, c, "lines lw 1 lc rgb \"#b0b0b0\""});
        }
        panel.curves.push_back({"mean over seeds", x, mean, "lines lw 3 lc rgb \"#1f77b4\""});
        panels.push_back(panel);
    }
    support::draw(
        {.title = "REINFORCE on the cart-pole: returns of every seed (grey) and their mean",
         .panels = panels,
         .columns = 2,
         .width = 1400,
         .height = 550},
        png);
}

}  // namespace fields
