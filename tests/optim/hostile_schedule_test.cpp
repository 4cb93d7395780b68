// Hostile schedules: NaN and out-of-range options of every schedule, phases without steps,
// step counts large enough to hang a loop, schedule values that are no learning rate (written
// nowhere), and scheduler state dicts refused whole.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>
#include <limits>

namespace dc = descent;
namespace opt = descent::optim;
using Catch::Contains;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

dc::Tensor param() {
    return dc::tensor({1.0}, {1}, {.dtype = dc::float64, .requires_grad = true});
}

void set_grad(dc::Tensor p, double g) {
    p.set_grad(dc::tensor({g}, {1}, {.dtype = dc::float64}));
}
}  // namespace

TEST_CASE("hostile schedules: step_decay and multistep options", "[hostile][schedule]") {
    CHECK_THROWS_WITH(opt::step_decay(0), Contains("step_decay") && Contains("step_size"));
    CHECK_THROWS_WITH(opt::step_decay(5, kNaN), Contains("step_decay") && Contains("gamma"));
    CHECK_THROWS_AS(opt::step_decay(5, -0.5), dc::Error);
    CHECK_THROWS_WITH(opt::multistep({1, 2}, kNaN), Contains("multistep"));
}

TEST_CASE("hostile schedules: exponential and polynomial options", "[hostile][schedule]") {
    CHECK_THROWS_WITH(opt::exponential(-1), Contains("exponential") && Contains("gamma"));
    CHECK_THROWS_AS(opt::exponential(kNaN), dc::Error);
    CHECK_THROWS_AS(opt::exponential(dc::inf), dc::Error);
    CHECK_THROWS_WITH(opt::polynomial(2, -1), Contains("polynomial") && Contains("power"));
    CHECK_THROWS_AS(opt::polynomial(0), dc::Error);
    CHECK_THROWS_AS(opt::polynomial(2, kNaN), dc::Error);
    CHECK(opt::polynomial(2, 1.0)(2, 1.0) == 0.0);
}

TEST_CASE("hostile schedules: cosine options", "[hostile][schedule]") {
    CHECK_THROWS_WITH(opt::cosine(0), Contains("cosine") && Contains("T_max"));
    CHECK_THROWS_AS(opt::cosine(10, kNaN), dc::Error);
    CHECK_THROWS_AS(opt::cosine(10, -1), dc::Error);
    CHECK_THROWS_AS(opt::cosine_warm_restarts(0), dc::Error);
    CHECK_THROWS_AS(opt::cosine_warm_restarts(5, 0), dc::Error);
    CHECK_THROWS_AS(opt::cosine_warm_restarts(5, 1, kNaN), dc::Error);
}

TEST_CASE("hostile schedules: warm restarts at huge steps do not hang", "[hostile][schedule]") {
    const opt::Schedule same = opt::cosine_warm_restarts(1, 1);
    CHECK(same(kMax, 1.0) == 1.0);  // every step starts a period of 1
    const opt::Schedule growing = opt::cosine_warm_restarts(1, 2);
    CHECK(std::isfinite(growing(kMax, 1.0)));
    CHECK(std::isfinite(opt::cosine_warm_restarts(3, 1000)(kMax - 1, 1.0)));
    // T_0 = 10, T_mult = 1: step 25 is 5 into its period
    CHECK(opt::cosine_warm_restarts(10, 1)(25, 1.0) == Approx(opt::cosine(10)(5, 1.0)));
}

TEST_CASE("hostile schedules: linear and constant_factor options", "[hostile][schedule]") {
    CHECK_THROWS_WITH(opt::linear(kNaN), Contains("linear") && Contains("start_factor"));
    CHECK_THROWS_AS(opt::linear(0.5, -1), dc::Error);
    CHECK_THROWS_AS(opt::linear(0.5, 1, 0), dc::Error);
    CHECK_THROWS_WITH(opt::constant_factor(kNaN), Contains("constant_factor"));
    CHECK_THROWS_AS(opt::constant_factor(0.5, -1), dc::Error);
}

TEST_CASE("hostile schedules: warm-up errors name warmup", "[hostile][schedule]") {
    CHECK_THROWS_WITH(opt::warmup(opt::constant(), 0), Contains("warmup") && Contains("steps"));
    CHECK_THROWS_WITH(opt::warmup(opt::constant(), -5), Contains("warmup"));
    CHECK_THROWS_WITH(opt::warmup(opt::constant(), 5, kNaN), Contains("warmup"));
    CHECK_THROWS_WITH(opt::warmup(opt::Schedule{}, 5), Contains("warmup"));
    CHECK_THROWS_WITH(opt::constant_warmup(opt::constant(), 0), Contains("constant_warmup"));
}

TEST_CASE("hostile schedules: sequential and chain of empty schedules", "[hostile][schedule]") {
    CHECK_THROWS_WITH(opt::sequential({}, {}), Contains("sequential"));
    CHECK_THROWS_AS(opt::sequential({opt::constant(), opt::constant()}, {}), dc::Error);
    CHECK_THROWS_AS(opt::sequential({opt::constant(), opt::constant()}, {5, 2}), dc::Error);
    CHECK_THROWS_AS(opt::sequential({opt::constant(), opt::Schedule{}}, {5}), dc::Error);
    CHECK_THROWS_WITH(opt::chain(opt::Schedule{}, opt::constant()), Contains("chain"));
    CHECK_THROWS_WITH(opt::lambda(nullptr), Contains("lambda"));
}

TEST_CASE("hostile schedules: cyclic and cyclic_momentum options", "[hostile][schedule]") {
    CHECK_THROWS_WITH(opt::cyclic({.step_size_up = 0}), Contains("cyclic"));
    CHECK_THROWS_WITH(opt::cyclic_momentum({.step_size_up = 0}), Contains("cyclic_momentum"));
    CHECK_THROWS_AS(opt::cyclic_momentum({.step_size_down = 0}), dc::Error);
    CHECK_THROWS_AS(opt::cyclic({.base_lr = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::cyclic({.max_lr = -1}), dc::Error);
    CHECK_THROWS_AS(opt::cyclic({.mode = opt::CyclicMode::exp_range, .gamma = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::cyclic_momentum({.base_momentum = kNaN}), dc::Error);
}

TEST_CASE("hostile schedules: one_cycle whose warm-up has no steps", "[hostile][schedule]") {
    CHECK_THROWS_WITH(opt::one_cycle({.total_steps = 2, .pct_start = 0.3}),
                      Contains("one_cycle") && Contains("phase"));
    CHECK_THROWS_AS(opt::one_cycle_momentum({.total_steps = 2, .pct_start = 0.3}), dc::Error);
    CHECK_THROWS_AS(opt::one_cycle({.total_steps = 10, .pct_start = 0.1, .three_phase = true}),
                    dc::Error);
    const opt::Schedule ok = opt::one_cycle({.max_lr = 1.0, .total_steps = 10});
    CHECK(std::isfinite(ok(0, 0.0)));
}

TEST_CASE("hostile schedules: one_cycle options", "[hostile][schedule]") {
    CHECK_THROWS_AS(opt::one_cycle({.max_lr = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::one_cycle({.max_lr = 0}), dc::Error);
    CHECK_THROWS_AS(opt::one_cycle({.total_steps = 0}), dc::Error);
    CHECK_THROWS_AS(opt::one_cycle({.pct_start = 1.0}), dc::Error);
    CHECK_THROWS_AS(opt::one_cycle({.pct_start = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::one_cycle({.div_factor = 0}), dc::Error);
    CHECK_THROWS_AS(opt::one_cycle({.final_div_factor = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::one_cycle({.base_momentum = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::one_cycle({.total_steps = 10})(11, 1.0), dc::Error);
}

TEST_CASE(
    "hostile schedules: a schedule giving NaN writes nothing, and the step that would use "
    "it is refused",
    "[hostile][schedule]") {
    dc::Tensor a = param(), b = param();
    opt::SGD sgd({a}, {.lr = 0.5});
    sgd.add_param_group({b}, {.lr = 0.5});
    opt::LRScheduler sched(sgd, opt::lambda([](std::int64_t t) { return t < 2 ? 1.0 : kNaN; }));
    sched.step();
    sched.step();  // the lr for the next step is NaN: not written
    CHECK(sgd.param_groups()[0].lr() == 0.5);
    CHECK(sgd.param_groups()[1].lr() == 0.5);
    CHECK(sched.last_step() == 2);
    set_grad(a, 1.0);
    const auto before = a.to_vector();
    CHECK_THROWS_WITH(
        sgd.step(), Contains("LRScheduler: step 2, group 0") && Contains("lr") && Contains("nan"));
    CHECK(a.to_vector() == before);
}

TEST_CASE("hostile schedules: a schedule giving a negative or infinite lr", "[hostile][schedule]") {
    dc::Tensor a = param();
    opt::SGD sgd({a}, {.lr = 0.5});
    set_grad(a, 1.0);
    {
        opt::LRScheduler sched(sgd, opt::lambda([](std::int64_t) { return -1.0; }));
        CHECK(sgd.param_groups()[0].lr() == 0.5);
        CHECK_THROWS_WITH(sgd.step(), Contains("LRScheduler: step 0") && Contains("-0.5"));
    }
    opt::SGD other({a}, {.lr = 0.5});
    opt::LRScheduler sched(other, opt::lambda([](std::int64_t) { return dc::inf; }));
    CHECK_THROWS_AS(other.step(), dc::Error);
    CHECK(other.param_groups()[0].lr() == 0.5);
}

TEST_CASE("hostile schedules: one_cycle over exactly its steps, in the usual loop",
          "[hostile][schedule]") {
    for (const opt::Anneal anneal : {opt::Anneal::linear, opt::Anneal::cos}) {
        dc::Tensor a = param();
        opt::SGD sgd({a}, {.lr = 0.1});
        opt::LRScheduler sched(
            sgd, opt::one_cycle({.max_lr = 0.1, .total_steps = 20, .anneal = anneal}));
        for (int i = 0; i < 20; ++i) {
            set_grad(a, 1.0);
            sgd.step();
            sched.step();  // the last one gives the lr after the final update: no error
        }
        CHECK(sched.last_step() == 20);
        CHECK_THROWS_AS(sched.step(), dc::Error);  // past total_steps, as torch
    }
}

TEST_CASE("hostile schedules: a momentum schedule out of range", "[hostile][schedule]") {
    dc::Tensor a = param();
    opt::Adam adam({a});
    // beta1 must stay below 1: the step that would use it is refused
    opt::LRScheduler sched(adam, opt::constant(), opt::lambda([](std::int64_t) { return 1.5; }));
    set_grad(a, 1.0);
    CHECK_THROWS_WITH(adam.step(), Contains("beta1"));
    opt::Adagrad ada({a});
    CHECK_THROWS_WITH(opt::LRScheduler(ada, opt::constant(), opt::constant()),
                      Contains("momentum"));
}

TEST_CASE("hostile schedules: LRScheduler with empty or miscounted schedules",
          "[hostile][schedule]") {
    dc::Tensor a = param();
    opt::SGD sgd({a}, {.lr = 0.1});
    CHECK_THROWS_AS(opt::LRScheduler(sgd, opt::Schedule{}), dc::Error);
    CHECK_THROWS_AS(opt::LRScheduler(sgd, std::vector<opt::Schedule>{}), dc::Error);
    CHECK_THROWS_AS(
        opt::LRScheduler(sgd, std::vector<opt::Schedule>{opt::constant(), opt::constant()}),
        dc::Error);
}

TEST_CASE("hostile schedules: LRScheduler's load is checked whole", "[hostile][schedule]") {
    dc::Tensor a = param();
    opt::SGD sgd({a}, {.lr = 1.0});
    opt::LRScheduler sched(sgd, opt::one_cycle({.max_lr = 1.0, .total_steps = 10}));
    sched.step();
    const double lr = sgd.param_groups()[0].lr();
    opt::StateDict state = sched.state_dict();
    state["scheduler.t"] = dc::int_tensor({50}, {});  // past total_steps
    CHECK_THROWS_AS(sched.load_state_dict(state), dc::Error);
    CHECK(sched.last_step() == 1);
    CHECK(sgd.param_groups()[0].lr() == lr);
    state["scheduler.t"] = dc::int_tensor({-1}, {});
    CHECK_THROWS_AS(sched.load_state_dict(state), dc::Error);
    state["scheduler.t"] = dc::scalar_tensor(3.0);
    CHECK_THROWS_WITH(sched.load_state_dict(state), Contains("int64"));
    state = sched.state_dict();
    state["scheduler.base_lr.0"] = dc::scalar_tensor(kNaN, {.dtype = dc::float64});
    CHECK_THROWS_AS(sched.load_state_dict(state), dc::Error);
    CHECK(sgd.param_groups()[0].lr() == lr);
}

TEST_CASE("hostile schedules: the scheduler restores its base lr", "[hostile][schedule]") {
    dc::Tensor a = param();
    opt::SGD sgd({a}, {.lr = 1.0});
    opt::LRScheduler sched(sgd, opt::step_decay(1, 0.5));
    sched.step();
    sched.step();
    const opt::StateDict state = sched.state_dict();
    // a fresh run whose optimizer already holds the decayed lr (loaded before the scheduler)
    opt::SGD resumed({a}, {.lr = 0.25});
    opt::LRScheduler again(resumed, opt::step_decay(1, 0.5));
    again.load_state_dict(state);
    again.step();
    CHECK(resumed.param_groups()[0].lr() == 0.125);
}

TEST_CASE("hostile schedules: ReduceLROnPlateau options", "[hostile][schedule]") {
    dc::Tensor a = param();
    opt::SGD sgd({a}, {.lr = 0.1});
    CHECK_THROWS_WITH(opt::ReduceLROnPlateau(sgd, {.factor = kNaN}),
                      Contains("ReduceLROnPlateau") && Contains("factor"));
    CHECK_THROWS_AS(opt::ReduceLROnPlateau(sgd, {.factor = 1.0}), dc::Error);
    CHECK_THROWS_AS(opt::ReduceLROnPlateau(sgd, {.patience = -1}), dc::Error);
    CHECK_THROWS_AS(opt::ReduceLROnPlateau(sgd, {.threshold = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::ReduceLROnPlateau(sgd, {.cooldown = -1}), dc::Error);
    CHECK_THROWS_AS(opt::ReduceLROnPlateau(sgd, {.min_lr = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::ReduceLROnPlateau(sgd, {.eps = -1}), dc::Error);
    CHECK_THROWS_WITH(opt::ReduceLROnPlateau(sgd, {.min_lrs = {0.1, 0.2}}), Contains("min_lrs"));
}

TEST_CASE("hostile schedules: ReduceLROnPlateau with a group added later", "[hostile][schedule]") {
    dc::Tensor a = param(), b = param();
    opt::SGD sgd({a}, {.lr = 0.1});
    opt::ReduceLROnPlateau per_group(sgd, {.patience = 0, .min_lrs = {0.0}});
    opt::ReduceLROnPlateau shared(sgd, {.patience = 0});
    sgd.add_param_group({b}, {.lr = 0.1});
    CHECK_THROWS_WITH(per_group.step(1.0), Contains("min_lrs"));
    shared.step(1.0);
    shared.step(2.0);
    CHECK(sgd.param_groups()[1].lr() == Approx(0.01));
}

TEST_CASE("hostile schedules: a NaN metric counts as no improvement", "[hostile][schedule]") {
    dc::Tensor a = param();
    opt::SGD sgd({a}, {.lr = 0.1});
    opt::ReduceLROnPlateau plateau(sgd, {.patience = 1});
    plateau.step(1.0);
    plateau.step(kNaN);
    plateau.step(kNaN);
    CHECK(sgd.param_groups()[0].lr() == Approx(0.01));
}

TEST_CASE("hostile schedules: ReduceLROnPlateau's load is checked", "[hostile][schedule]") {
    dc::Tensor a = param();
    opt::SGD sgd({a}, {.lr = 0.1});
    opt::ReduceLROnPlateau plateau(sgd);
    plateau.step(3.0);
    opt::StateDict state = plateau.state_dict();
    state["plateau.bad_steps"] = dc::int_tensor({-3}, {});
    CHECK_THROWS_AS(plateau.load_state_dict(state), dc::Error);
    state = plateau.state_dict();
    state["plateau.best"] = dc::scalar_tensor(kNaN, {.dtype = dc::float64});
    CHECK_THROWS_AS(plateau.load_state_dict(state), dc::Error);
    state = plateau.state_dict();
    state["plateau.steps"] = dc::scalar_tensor(1.0);
    CHECK_THROWS_AS(plateau.load_state_dict(state), dc::Error);
    CHECK(plateau.state_dict().at("plateau.best").item() == 3.0);
}
