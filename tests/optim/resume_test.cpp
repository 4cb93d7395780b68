// A run of 50 steps, saved, reloaded into freshly built objects and continued for 50 more is
// bit-identical to 100 uninterrupted steps: every algorithm, Lookahead, SWATS across its switch,
// and every schedule (driven through LRScheduler or ReduceLROnPlateau).

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>
#include <functional>
#include <memory>

namespace dc = descent;
namespace opt = descent::optim;

namespace {

/// A small regression problem: loss = mean((tanh(X·W + b) − Y)²), W [3,2], b [2].
struct Problem {
    dc::Tensor x, y, w0, b0;
    Problem() {
        dc::manual_seed(3);
        x = dc::randn({6, 3}, {.dtype = dc::float64});
        y = dc::randn({6, 2}, {.dtype = dc::float64}) * 0.5;
        w0 = dc::randn({3, 2}, {.dtype = dc::float64});
        b0 = dc::randn({2}, {.dtype = dc::float64});
    }
    dc::Tensor loss(const dc::Tensor& w, const dc::Tensor& b) const {
        const dc::Tensor r = dc::tanh(dc::matmul(x, w) + b) - y;
        return (r * r).mean();
    }
};

/// Everything one run owns; built fresh for the resumed half.
struct Run {
    dc::Tensor w, b;
    std::unique_ptr<opt::Optimizer> inner;  // for Lookahead
    std::unique_ptr<opt::Optimizer> optimizer;
    std::unique_ptr<opt::LRScheduler> scheduler;
    std::unique_ptr<opt::ReduceLROnPlateau> plateau;
};

using Build = std::function<void(Run&)>;

Run start(const Problem& p, const Build& build) {
    Run run{p.w0.clone().requires_grad_(), p.b0.clone().requires_grad_(), {}, {}, {}, {}};
    build(run);
    return run;
}

void advance(Run& run, const Problem& p, int steps) {
    for (int i = 0; i < steps; ++i) {
        run.optimizer->zero_grad();
        const dc::Tensor loss = p.loss(run.w, run.b);
        loss.backward();
        run.optimizer->step();
        if (run.scheduler) run.scheduler->step();
        if (run.plateau) run.plateau->step(loss.item());
    }
}

dc::StateDict save(const Run& run) {
    dc::StateDict state;
    state.add_part("optimizer", run.optimizer->state_dict());
    if (run.scheduler) state.add_part("scheduler", run.scheduler->state_dict());
    if (run.plateau) state.add_part("plateau", run.plateau->state_dict());
    state["w"] = run.w.detach().clone();
    state["b"] = run.b.detach().clone();
    return state;
}

void load(Run& run, const dc::StateDict& state) {
    const dc::NoGradGuard no_grad;
    run.w.copy_(state.at("w"));
    run.b.copy_(state.at("b"));
    run.optimizer->load_state_dict(state.part("optimizer"));
    if (run.scheduler) run.scheduler->load_state_dict(state.part("scheduler"));
    if (run.plateau) run.plateau->load_state_dict(state.part("plateau"));
}

/// 100 straight steps against `split` steps, save, fresh objects, load, 100 − split steps.
void check_resume(const Build& build, int split = 50) {
    const Problem p;
    Run straight = start(p, build);
    advance(straight, p, 100);

    Run first = start(p, build);
    advance(first, p, split);
    const dc::StateDict state = save(first);
    Run second = start(p, build);  // fresh objects, as after a restart
    load(second, state);
    advance(second, p, 100 - split);

    CHECK(second.w.to_vector() == straight.w.to_vector());
    CHECK(second.b.to_vector() == straight.b.to_vector());
    CHECK(second.optimizer->param_groups()[0].lr() == straight.optimizer->param_groups()[0].lr());
}

/// Two groups (weights and biases) for optimizers built from options type O.
template <class Optimizer, class Options>
Build two_groups(Options weights, Options biases) {
    return [=](Run& run) {
        auto o = std::make_unique<Optimizer>(std::vector<dc::Tensor>{run.w}, weights);
        o->add_param_group({run.b}, biases);
        run.optimizer = std::move(o);
    };
}

Build sgd_with(opt::Schedule schedule, std::optional<opt::Schedule> momentum = {}) {
    return [=](Run& run) {
        run.optimizer = std::make_unique<opt::SGD>(std::vector<dc::Tensor>{run.w, run.b},
                                                   opt::SGDOptions{.lr = 0.05, .momentum = 0.9});
        run.scheduler = std::make_unique<opt::LRScheduler>(*run.optimizer, schedule, momentum);
    };
}

}  // namespace

TEST_CASE("every algorithm resumes bit for bit", "[optim][resume]") {
    const std::vector<std::pair<std::string, Build>> cases = {
        {"SGD", two_groups<opt::SGD>(opt::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01},
                                     opt::SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true})},
        {"SGDW", two_groups<opt::SGDW>(opt::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1},
                                       opt::SGDOptions{.lr = 0.1})},
        {"Adagrad", two_groups<opt::Adagrad>(opt::AdagradOptions{.lr = 0.1, .lr_decay = 0.01},
                                             opt::AdagradOptions{.initial_accumulator_value = 0.1})},
        {"RMSprop", two_groups<opt::RMSprop>(opt::RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true},
                                             opt::RMSpropOptions{.lr = 0.01, .weight_decay = 0.1})},
        {"Adam", two_groups<opt::Adam>(opt::AdamOptions{.lr = 0.01, .amsgrad = true},
                                       opt::AdamOptions{.lr = 0.02, .weight_decay = 0.1})},
        {"AdamW", two_groups<opt::AdamW>(opt::AdamWOptions{.lr = 0.01}, opt::AdamWOptions{.amsgrad = true})},
        {"NAdam", two_groups<opt::NAdam>(opt::NAdamOptions{}, opt::NAdamOptions{.weight_decay = 0.1})},
        {"RAdam", two_groups<opt::RAdam>(opt::RAdamOptions{.lr = 0.01}, opt::RAdamOptions{})},
        {"AdaBound", two_groups<opt::AdaBound>(opt::AdaBoundOptions{.lr = 0.01},
                                               opt::AdaBoundOptions{.lr = 0.01, .amsbound = true})},
        {"Lookahead(Adam)",
         [](Run& run) {
             run.inner = std::make_unique<opt::Adam>(std::vector<dc::Tensor>{run.w, run.b},
                                                     opt::AdamOptions{.lr = 0.02});
             run.optimizer = std::make_unique<opt::Lookahead>(*run.inner, opt::LookaheadOptions{.k = 7});
         }},
    };
    for (const auto& [name, build] : cases) {
        INFO(name);
        check_resume(build);
    }
}

TEST_CASE("SWATS resumes bit for bit on either side of its switch", "[optim][resume][swats]") {
    // With eps_switch 3e-4 this problem switches to SGD after step 40: saving at step 30 resumes
    // in the Adam phase and crosses the switch, saving at 50 resumes in the SGD phase.
    const auto build = [](double eps_switch) -> Build {
        return [=](Run& run) {
            run.optimizer = std::make_unique<opt::SWATS>(
                std::vector<dc::Tensor>{run.w, run.b},
                opt::SWATSOptions{.lr = 0.01, .eps_switch = eps_switch});
        };
    };
    const Problem p;
    Run probe = start(p, build(3e-4));
    advance(probe, p, 100);
    const auto& swats = dynamic_cast<const opt::SWATS&>(*probe.optimizer);
    REQUIRE(swats.switch_step() == 40);
    CHECK(swats.sgd_lr() > 0);
    check_resume(build(3e-4), 30);
    check_resume(build(3e-4), 50);
    check_resume(build(1e-9), 50);  // never switches
}

TEST_CASE("every schedule resumes bit for bit", "[optim][resume][schedule]") {
    const opt::CyclicOptions cyc{
        .base_lr = 0.01, .max_lr = 0.1, .step_size_up = 7, .mode = opt::CyclicMode::triangular2};
    const opt::OneCycleOptions one{.max_lr = 0.1, .total_steps = 100, .three_phase = true};
    const std::vector<std::pair<std::string, Build>> cases = {
        {"step", sgd_with(opt::step_decay(10, 0.5))},
        {"multistep", sgd_with(opt::multistep({20, 45, 70}, 0.5))},
        {"exponential", sgd_with(opt::exponential(0.98))},
        {"inverse_sqrt", sgd_with(opt::inverse_sqrt())},
        {"polynomial", sgd_with(opt::polynomial(80, 2.0))},
        {"cosine", sgd_with(opt::cosine(60, 0.001))},
        {"sgdr", sgd_with(opt::cosine_warm_restarts(10, 2, 0.001))},
        {"cyclic", sgd_with(opt::cyclic(cyc), opt::cyclic_momentum(cyc))},
        {"one_cycle", sgd_with(opt::one_cycle(one), opt::one_cycle_momentum(one))},
        {"warmup+cosine", sgd_with(opt::warmup(opt::cosine(80), 20))},
        {"constant warmup", sgd_with(opt::constant_warmup(opt::constant(), 30))},
        {"lambda", sgd_with(opt::lambda(
                       [](std::int64_t t) { return 1.0 / (1.0 + 0.1 * static_cast<double>(t)); }))},
        {"chain", sgd_with(opt::chain(opt::step_decay(30), opt::exponential(0.99)))},
        {"plateau",
         [](Run& run) {
             run.optimizer = std::make_unique<opt::SGD>(std::vector<dc::Tensor>{run.w, run.b},
                                                        opt::SGDOptions{.lr = 0.5});
             run.plateau = std::make_unique<opt::ReduceLROnPlateau>(
                 *run.optimizer,
                 opt::PlateauOptions{
                     .factor = 0.5, .patience = 2, .threshold = 0.05, .cooldown = 3});
         }},
    };
    for (const auto& [name, build] : cases) {
        INFO(name);
        check_resume(build);
    }
}
