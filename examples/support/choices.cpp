// The optimizer and schedule tables behind the examples' command lines.

#include "choices.hpp"

#include <cmath>
#include <stdexcept>

namespace opt = descent::optim;

namespace support {

const std::vector<OptimizerInfo>& optimizers() {
    static const std::vector<OptimizerInfo> table{
        {"sgd", "plain stochastic gradient descent: θ ← θ − η·g", 0.1, 0.0},
        {"sgdm", "SGD with momentum 0.9: v ← 0.9v + g, θ ← θ − η·v", 0.03, 0.0},
        {"nag", "Nesterov momentum: θ ← θ − η(g + 0.9v)", 0.03, 0.0},
        {"sgdw", "SGD with momentum and decoupled weight decay (θ ← θ − ηλθ)", 0.03, 1e-2},
        {"adagrad", "per-parameter rates η/√(Σg²)", 0.05, 0.0},
        {"rmsprop", "rates η/√(EMA of g²), α = 0.99", 1e-3, 0.0},
        {"adam", "momentum + RMSProp, bias-corrected (β = 0.9, 0.999)", 3e-3, 0.0},
        {"amsgrad", "Adam with the running maximum of v̂", 3e-3, 0.0},
        {"adabound", "Adam with rates clipped into bounds closing on SGD's (final lr 0.1)", 3e-3,
         0.0},
        {"amsbound", "AdaBound on AMSGrad", 3e-3, 0.0},
        {"swats", "Adam, switching to SGD once its projected rate settles", 3e-3, 0.0},
        {"radam", "Adam with the variance of the adaptive rate rectified", 3e-3, 0.0},
        {"nadam", "Adam with Nesterov momentum", 3e-3, 0.0},
        {"adamw", "Adam with decoupled weight decay", 3e-3, 1e-2},
    };
    return table;
}

const OptimizerInfo& optimizer_info(const std::string& name) {
    for (const OptimizerInfo& o : optimizers())
        if (o.name == name) return o;
    throw std::invalid_argument("unknown optimizer '" + name + "' (" + names_of(optimizers()) +
                                ")");
}

namespace {
/// O over the two groups: `decay` with options(weight_decay), `no_decay` with options(0).
template <class O, class Make>
std::unique_ptr<opt::Optimizer> build(const opt::DecaySplit& groups, double weight_decay,
                                      Make options) {
    auto o = std::make_unique<O>(groups.decay, options(weight_decay));
    if (!groups.no_decay.empty()) o->add_param_group(groups.no_decay, options(0.0));
    return o;
}

std::unique_ptr<opt::Optimizer> make_inner(const std::string& name, const opt::DecaySplit& g,
                                           double lr, double wd) {
    using SGDO = opt::SGDOptions;
    using AdamO = opt::AdamOptions;
    using BoundO = opt::AdaBoundOptions;
    if (name == "sgd") return build<opt::SGD>(g, wd, [&](double d) { return SGDO{lr, 0, 0, d}; });
    if (name == "sgdm")
        return build<opt::SGD>(g, wd, [&](double d) { return SGDO{lr, 0.9, 0, d}; });
    if (name == "nag")
        return build<opt::SGD>(g, wd, [&](double d) { return SGDO{lr, 0.9, 0, d, true}; });
    if (name == "sgdw")
        return build<opt::SGDW>(g, wd, [&](double d) { return SGDO{lr, 0.9, 0, d}; });
    if (name == "adagrad")
        return build<opt::Adagrad>(
            g, wd, [&](double d) { return opt::AdagradOptions{.lr = lr, .weight_decay = d}; });
    if (name == "rmsprop")
        return build<opt::RMSprop>(
            g, wd, [&](double d) { return opt::RMSpropOptions{.lr = lr, .weight_decay = d}; });
    if (name == "adam" || name == "amsgrad")
        return build<opt::Adam>(g, wd, [&](double d) {
            return AdamO{.lr = lr, .weight_decay = d, .amsgrad = name == "amsgrad"};
        });
    if (name == "adabound" || name == "amsbound")
        return build<opt::AdaBound>(g, wd, [&](double d) {
            return BoundO{.lr = lr, .weight_decay = d, .amsbound = name == "amsbound"};
        });
    if (name == "swats")
        return build<opt::SWATS>(
            g, wd, [&](double d) { return opt::SWATSOptions{.lr = lr, .weight_decay = d}; });
    if (name == "radam")
        return build<opt::RAdam>(
            g, wd, [&](double d) { return opt::RAdamOptions{.lr = lr, .weight_decay = d}; });
    if (name == "nadam")
        return build<opt::NAdam>(
            g, wd, [&](double d) { return opt::NAdamOptions{.lr = lr, .weight_decay = d}; });
    if (name == "adamw")
        return build<opt::AdamW>(
            g, wd, [&](double d) { return opt::AdamWOptions{.lr = lr, .weight_decay = d}; });
    optimizer_info(name);  // throws, naming the choices
    return nullptr;
}
}  // namespace

OptimizerStack make_optimizer(const std::string& name, const opt::DecaySplit& groups, double lr,
                              double weight_decay, bool lookahead) {
    OptimizerStack stack;
    stack.inner = make_inner(name, groups, lr, weight_decay);
    if (lookahead) stack.lookahead = std::make_unique<opt::Lookahead>(*stack.inner);
    return stack;
}

const std::vector<ScheduleInfo>& schedules() {
    static const std::vector<ScheduleInfo> table{
        {"constant", "η throughout"},
        {"step", "η·0.3^⌊4t/T⌋: down 0.3× at each quarter of the run"},
        {"multistep", "η, ×0.1 at 50 % and again at 75 % of the run"},
        {"exponential", "η·γᵗ, γ = 0.01^(1/T): 100× down over the run"},
        {"inverse_sqrt", "η/√(t+1), the lecture's decay"},
        {"polynomial", "η·(1 − t/T): linear to 0"},
        {"cosine", "η(1 + cos(πt/T))/2"},
        {"sgdr", "cosine with warm restarts, periods T/7, 2T/7, 4T/7"},
        {"linear", "η from 1× to 0.01× linearly"},
        {"cyclic", "triangular cycles between η/10 and η, 4 over the run"},
        {"cyclic2", "triangular cycles whose amplitude halves every cycle"},
        {"cyclic_exp", "triangular cycles whose amplitude decays as 0.01^(t/T)"},
        {"one_cycle", "one cycle: up to η over 30 %, then cosine down to η/2.5e5"},
        {"plateau", "η, ×0.5 when the held-out loss stops improving for 2 epochs"},
    };
    return table;
}

opt::Schedule make_schedule(const std::string& name, std::int64_t total, double lr,
                            std::int64_t warmup) {
    const std::int64_t t = std::max<std::int64_t>(1, total - warmup);  // after the warm-up
    const double decay = std::pow(0.01, 1.0 / static_cast<double>(t));
    const auto cyclic = [&](opt::CyclicMode mode) {
        return opt::cyclic({.base_lr = lr / 10,
                            .max_lr = lr,
                            .step_size_up = std::max<std::int64_t>(1, t / 8),
                            .mode = mode,
                            .gamma = decay});
    };
    opt::Schedule s;
    if (name == "constant" || name == "plateau")
        s = opt::constant();
    else if (name == "step")
        s = opt::step_decay(std::max<std::int64_t>(1, t / 4), 0.3);
    else if (name == "multistep")
        s = opt::multistep({std::max<std::int64_t>(1, t / 2), std::max<std::int64_t>(2, t * 3 / 4)},
                           0.1);
    else if (name == "exponential")
        s = opt::exponential(decay);
    else if (name == "inverse_sqrt")
        s = opt::inverse_sqrt();
    else if (name == "polynomial")
        s = opt::polynomial(t, 1.0);
    else if (name == "cosine")
        s = opt::cosine(t);
    else if (name == "sgdr")
        s = opt::cosine_warm_restarts(std::max<std::int64_t>(1, t / 7), 2);
    else if (name == "linear")
        s = opt::linear(1.0, 0.01, t);
    else if (name == "cyclic")
        s = cyclic(opt::CyclicMode::triangular);
    else if (name == "cyclic2")
        s = cyclic(opt::CyclicMode::triangular2);
    else if (name == "cyclic_exp")
        s = cyclic(opt::CyclicMode::exp_range);
    else if (name == "one_cycle")
        s = opt::one_cycle({.max_lr = lr, .total_steps = t + 1});
    else
        throw std::invalid_argument("unknown schedule '" + name + "' (" + names_of(schedules()) +
                                    ")");
    return warmup > 0 ? opt::warmup(s, warmup) : s;
}

}  // namespace support
