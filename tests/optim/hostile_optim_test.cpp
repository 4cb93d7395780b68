// Hostile use of the optimizers: gradients of the wrong shape or dtype, groups changed behind
// the optimizer's back, wrappers outliving what they wrap, NaN options, and state dicts that
// must be refused whole. Every algorithm goes through the same driver, so each case is tried
// on all of them.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>
#include <functional>
#include <limits>
#include <memory>

namespace dc = descent;
namespace opt = descent::optim;
using Catch::Contains;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

dc::Tensor param(std::vector<double> v) {
    const auto n = static_cast<std::int64_t>(v.size());
    return dc::tensor(v, {n}, {.dtype = dc::float64, .requires_grad = true});
}
void set_grad(dc::Tensor& p, std::vector<double> g) {
    p.set_grad(dc::tensor(g, {static_cast<std::int64_t>(g.size())}, {.dtype = dc::float64}));
}

using Factory = std::function<std::unique_ptr<opt::Optimizer>(std::vector<dc::Tensor>)>;
/// One factory per algorithm (with the options that use the most state).
std::vector<std::pair<std::string, Factory>> algorithms() {
    return {
        {"SGD",
         [](auto p) {
             return std::make_unique<opt::SGD>(p, opt::SGDOptions{.lr = 0.1, .momentum = 0.9});
         }},
        {"SGDW",
         [](auto p) {
             return std::make_unique<opt::SGDW>(
                 p, opt::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
         }},
        {"Adagrad", [](auto p) { return std::make_unique<opt::Adagrad>(p); }},
        {"RMSprop",
         [](auto p) {
             return std::make_unique<opt::RMSprop>(
                 p, opt::RMSpropOptions{.momentum = 0.5, .centered = true});
         }},
        {"Adam",
         [](auto p) { return std::make_unique<opt::Adam>(p, opt::AdamOptions{.amsgrad = true}); }},
        {"AdamW", [](auto p) { return std::make_unique<opt::AdamW>(p); }},
        {"NAdam", [](auto p) { return std::make_unique<opt::NAdam>(p); }},
        {"RAdam", [](auto p) { return std::make_unique<opt::RAdam>(p); }},
        {"AdaBound",
         [](auto p) {
             return std::make_unique<opt::AdaBound>(p, opt::AdaBoundOptions{.amsbound = true});
         }},
        {"SWATS", [](auto p) { return std::make_unique<opt::SWATS>(p); }},
    };
}
}  // namespace

TEST_CASE("hostile optim: a hook's wrong gradient never reaches an optimizer", "[hostile][optim]") {
    for (const auto& [name, make] : algorithms()) {
        INFO(name);
        dc::Tensor a = param({1, 2}), b = param({3, 4, 5});
        auto o = make({a, b});
        b.register_hook([](const dc::Tensor&) { return dc::ones({5}, {.dtype = dc::float64}); });
        CHECK_THROWS_AS(((a * 2.0).sum() + (b * 2.0).sum()).backward(), dc::AutogradError);
        CHECK_FALSE(b.grad().defined());
        set_grad(a, {1, 1});
        CHECK_NOTHROW(o->step());
        CHECK(b.to_vector() == std::vector<double>{3, 4, 5});
    }
}

TEST_CASE("hostile optim: a parameter converted in place keeps training", "[hostile][optim]") {
    for (const auto& [name, make] : algorithms()) {
        INFO(name);
        dc::Tensor a = param({1, 2}), b = param({3, 4, 5});
        auto o = make({a, b});
        set_grad(a, {1, 1});
        set_grad(b, {1, 1, 1});
        o->step();
        b.set_data(b.detach().to(dc::float32));  // the gradient and, at the next step, the state
        CHECK(b.grad().dtype() == dc::float32);
        const auto b1 = b.to_vector();
        CHECK_NOTHROW(o->step());
        CHECK(b.to_vector() != b1);
        for (const auto& [key, t] : o->state_dict()) {
            if (key.starts_with("state.0.1.") && key != "state.0.1.step" &&
                key.find("scalar") == std::string::npos) {
                CHECK(t.dtype() == dc::float32);
            }
        }
    }
}

TEST_CASE("hostile optim: a parameter pushed into a group gets its own state", "[hostile][optim]") {
    for (const auto& [name, make] : algorithms()) {
        INFO(name);
        dc::Tensor a = param({1, 2});
        auto o = make({a});
        set_grad(a, {1, 1});
        o->step();
        dc::Tensor b = param({1, 2, 3, 4, 5});
        o->param_groups()[0].params.push_back(b);
        set_grad(a, {1, 1});
        set_grad(b, {1, 1, 1, 1, 1});
        CHECK_NOTHROW(o->step());
        CHECK(b.to_vector() != std::vector<double>{1, 2, 3, 4, 5});
        CHECK(o->state_dict().at("state.0.1.step").item<std::int64_t>() == 1);
        CHECK(o->state_dict().at("state.0.0.step").item<std::int64_t>() == 2);
    }
}

TEST_CASE("hostile optim: a parameter pushed twice or of the wrong kind is refused",
          "[hostile][optim]") {
    for (const auto& [name, make] : algorithms()) {
        INFO(name);
        dc::Tensor a = param({1, 2});
        auto o = make({a});
        set_grad(a, {1, 1});
        o->param_groups()[0].params.push_back(a);
        CHECK_THROWS_WITH(o->step(), Contains("already in a group"));
        CHECK(a.to_vector() == std::vector<double>{1, 2});
        o->param_groups()[0].params.pop_back();
        o->param_groups()[0].params.push_back(dc::zeros({2}, {.dtype = dc::int64}));
        CHECK_THROWS_WITH(o->step(), Contains("float32/float64 leaf"));
        o->param_groups()[0].params.back() = a * 2.0;
        CHECK_THROWS_AS(o->step(), dc::Error);
        o->param_groups()[0].params.pop_back();
        CHECK_NOTHROW(o->step());
    }
}

TEST_CASE("hostile optim: NaN written into a group is refused at step", "[hostile][optim]") {
    for (const auto& [name, make] : algorithms()) {
        INFO(name);
        dc::Tensor a = param({1, 2});
        auto o = make({a});
        set_grad(a, {1, 1});
        o->param_groups()[0].options["lr"] = kNaN;
        CHECK_THROWS_WITH(o->step(), Contains("lr"));
        CHECK(a.to_vector() == std::vector<double>{1, 2});
        CHECK_THROWS_AS(o->param_groups()[0].set("lr", kNaN), dc::Error);
        CHECK_THROWS_AS(o->param_groups()[0].set("lr", -1.0), dc::Error);
        CHECK_THROWS_AS(o->param_groups()[0].set("lr", dc::inf), dc::Error);
    }
}

TEST_CASE("hostile optim: a group changed after a good step is checked again", "[hostile][optim]") {
    // The driver skips the checks of a group that holds exactly the values it checked last;
    // any written value, erased or added key after that must be caught as on the first step.
    for (const auto& [name, make] : algorithms()) {
        INFO(name);
        dc::Tensor a = param({1, 2});
        auto o = make({a});
        set_grad(a, {1, 1});
        REQUIRE_NOTHROW(o->step());
        auto& options = o->param_groups()[0].options;
        const double lr = options.at("lr");
        for (const double bad : {kNaN, -1.0, -dc::inf}) {
            set_grad(a, {1, 1});
            const std::vector<double> before = a.to_vector();
            options["lr"] = bad;
            CHECK_THROWS_WITH(o->step(), Contains("lr"));
            CHECK(a.to_vector() == before);
        }
        options["lr"] = lr;
        CHECK_NOTHROW(o->step());
        const std::string key = options.begin()->first;
        const double value = options.begin()->second;
        options.erase(key);  // every key of a group is one its algorithm requires
        set_grad(a, {1, 1});
        const std::vector<double> before = a.to_vector();
        CHECK_THROWS_AS(o->step(), dc::Error);
        CHECK(a.to_vector() == before);
        options[key] = value;
        CHECK_NOTHROW(o->step());
    }
}

TEST_CASE("hostile optim: a hyperparameter erased from a group is refused at step",
          "[hostile][optim]") {
    for (const auto& [name, make] : algorithms()) {
        INFO(name);
        dc::Tensor a = param({1, 2});
        auto o = make({a});
        set_grad(a, {1, 1});
        o->param_groups()[0].options.erase("eps");
        o->param_groups()[0].options.erase("momentum");
        CHECK_THROWS_AS(o->step(), dc::Error);
        CHECK(a.to_vector() == std::vector<double>{1, 2});
    }
}

TEST_CASE("hostile optim: NaN and out-of-range options at construction", "[hostile][optim]") {
    const dc::Tensor a = param({1});
    CHECK_THROWS_WITH(opt::SGD({a}, {.lr = kNaN}), Contains("SGD") && Contains("lr"));
    CHECK_THROWS_WITH(opt::SGD({a}, {.momentum = 0.9, .dampening = kNaN}), Contains("dampening"));
    CHECK_THROWS_AS(opt::SGD({a}, {.momentum = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::SGD({a}, {.weight_decay = -1}), dc::Error);
    CHECK_THROWS_AS(opt::SGD({a}, {.momentum = kNaN, .nesterov = true}), dc::Error);
    CHECK_THROWS_WITH(opt::RMSprop({a}, {.alpha = 1.5}), Contains("alpha"));
    CHECK_THROWS_AS(opt::RMSprop({a}, {.alpha = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::Adam({a}, {.betas = {kNaN, 0.999}}), dc::Error);
    CHECK_THROWS_AS(opt::Adam({a}, {.betas = {0.9, 1.0}}), dc::Error);
    CHECK_THROWS_AS(opt::Adam({a}, {.eps = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::AdamW({a}, {.weight_decay = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::Adagrad({a}, {.lr_decay = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::Adagrad({a}, {.initial_accumulator_value = -1}), dc::Error);
    CHECK_THROWS_AS(opt::NAdam({a}, {.momentum_decay = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::RAdam({a}, {.betas = {0.9, -0.1}}), dc::Error);
    CHECK_THROWS_AS(opt::AdaBound({a}, {.lr = 0}), dc::Error);
    CHECK_THROWS_AS(opt::AdaBound({a}, {.final_lr = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::AdaBound({a}, {.gamma = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::SWATS({a}, {.eps_switch = kNaN}), dc::Error);
}

TEST_CASE("hostile optim: add_param_group with a bad group changes nothing", "[hostile][optim]") {
    dc::Tensor a = param({1}), b = param({2});
    opt::Adam adam({a});
    CHECK_THROWS_AS(adam.add_param_group({a}, {}), dc::Error);             // already in a group
    CHECK_THROWS_AS(adam.add_param_group({b}, {.lr = kNaN}), dc::Error);   // bad option
    CHECK_THROWS_AS(adam.add_param_group({dc::Tensor{}}, {}), dc::Error);  // undefined
    CHECK(adam.param_groups().size() == 1);
    adam.add_param_group({b}, {.lr = 0.5});
    CHECK(adam.param_groups().size() == 2);
}

TEST_CASE("hostile optim: add_param_group under a Lookahead", "[hostile][optim]") {
    dc::Tensor a = param({1, 2}), b = param({3, 4, 5});
    opt::SGD sgd({a}, {.lr = 0.1});
    opt::Lookahead look(sgd, {.k = 2, .alpha = 0.5});
    sgd.add_param_group({b}, {.lr = 0.1});
    for (int i = 0; i < 4; ++i) {
        set_grad(a, {1, 1});
        set_grad(b, {1, 1, 1});
        look.step();
    }
    // every 2 steps: fast moves −0.2, slow moves half-way: −0.1 per 2 steps
    CHECK(b.to_vector()[0] == Approx(3.0 - 0.2).epsilon(1e-12));
    CHECK(a.to_vector()[0] == Approx(1.0 - 0.2).epsilon(1e-12));
    CHECK(look.state_dict().contains("lookahead.slow.1.0"));
}

TEST_CASE("hostile optim: add_param_group under an LRScheduler", "[hostile][optim]") {
    dc::Tensor a = param({1}), b = param({2});
    opt::SGD sgd({a}, {.lr = 1.0});
    opt::LRScheduler shared(sgd, opt::step_decay(1, 0.5));
    sgd.add_param_group({b}, {.lr = 4.0});
    shared.step();
    CHECK(sgd.param_groups()[0].lr() == 0.5);
    CHECK(sgd.param_groups()[1].lr() == 2.0);  // base 4 taken when first seen, times 0.5¹
    shared.step();
    CHECK(sgd.param_groups()[1].lr() == 1.0);

    dc::Tensor c = param({1}), d = param({2});
    opt::SGD two({c}, {.lr = 1.0});
    opt::LRScheduler per_group(two, std::vector<opt::Schedule>{opt::constant()});
    two.add_param_group({d}, {.lr = 1.0});
    CHECK_THROWS_WITH(per_group.step(), Contains("LRScheduler") && Contains("2 groups"));
}

TEST_CASE("hostile optim: a Lookahead whose inner optimizer is gone", "[hostile][optim]") {
    dc::Tensor a = param({1});
    auto inner = std::make_unique<opt::SGD>(std::vector<dc::Tensor>{a}, opt::SGDOptions{.lr = 0.1});
    opt::Lookahead look(*inner);
    inner.reset();
    set_grad(a, {1});
    CHECK_THROWS_WITH(look.step(), Contains("Lookahead") && Contains("destroyed"));
    CHECK_THROWS_AS(look.param_groups(), dc::Error);
    CHECK_THROWS_AS(look.state_dict(), dc::Error);
    CHECK_THROWS_AS(look.zero_grad(), dc::Error);
}

TEST_CASE("hostile optim: schedulers whose optimizer is gone", "[hostile][optim]") {
    dc::Tensor a = param({1});
    auto sgd = std::make_unique<opt::SGD>(std::vector<dc::Tensor>{a}, opt::SGDOptions{.lr = 0.1});
    opt::LRScheduler sched(*sgd, opt::constant());
    opt::ReduceLROnPlateau plateau(*sgd);
    sgd.reset();
    CHECK_THROWS_WITH(sched.step(), Contains("LRScheduler") && Contains("destroyed"));
    CHECK_THROWS_WITH(plateau.step(1.0), Contains("ReduceLROnPlateau") && Contains("destroyed"));
    CHECK_THROWS_AS(sched.last_lr(), dc::Error);
}

TEST_CASE("hostile optim: Lookahead options", "[hostile][optim]") {
    dc::Tensor a = param({1});
    opt::SGD sgd({a}, {.lr = 0.1});
    CHECK_THROWS_WITH(opt::Lookahead(sgd, {.alpha = kNaN}),
                      Contains("Lookahead") && Contains("alpha"));
    CHECK_THROWS_AS(opt::Lookahead(sgd, {.alpha = 1.5}), dc::Error);
    CHECK_THROWS_AS(opt::Lookahead(sgd, {.k = 0}), dc::Error);
    CHECK_THROWS_AS(opt::Lookahead(sgd, {.k = -3}), dc::Error);
}

TEST_CASE("hostile optim: load_state_dict refuses NaN and negative values whole",
          "[hostile][optim]") {
    dc::Tensor a = param({1, 2});
    opt::Adam adam({a}, {.lr = 0.1});
    set_grad(a, {1, 1});
    adam.step();
    const opt::StateDict good = adam.state_dict();
    const double lr = adam.param_groups()[0].lr();
    auto check_refused = [&](const std::string& key, dc::Tensor value, const std::string& says) {
        opt::StateDict bad = good;
        bad[key] = value;
        CHECK_THROWS_WITH(adam.load_state_dict(bad), Contains(says));
        CHECK(adam.param_groups()[0].lr() == lr);
        CHECK(adam.state_dict().at("state.0.0.step").item<std::int64_t>() == 1);
    };
    check_refused("param_groups.0.lr", dc::scalar_tensor(kNaN, {.dtype = dc::float64}), "lr");
    check_refused("param_groups.0.beta1", dc::scalar_tensor(1.0, {.dtype = dc::float64}), "beta1");
    check_refused("state.0.0.step", dc::int_tensor({-1}, {}), "step");
    check_refused("state.0.0.step", dc::scalar_tensor(1.5), "int64");
    check_refused("param_groups.0.size", dc::int_tensor({-1}, {}), "size");
    check_refused("state.0.0.exp_avg", dc::ones({3}, {.dtype = dc::float64}), "exp_avg");
    check_refused("state.0.0.exp_avg", dc::zeros({2}, {.dtype = dc::int64}), "exp_avg");
    check_refused("state.0.0.scalar.x", dc::scalar_tensor(kNaN, {.dtype = dc::float64}),
                  "scalar.x");
    check_refused("param_groups.0.stray", dc::scalar_tensor(1.0), "unexpected");
    check_refused("param_groups.0.lr", dc::Tensor{}, "undefined");
}

TEST_CASE("hostile optim: a state from another algorithm is refused", "[hostile][optim]") {
    dc::Tensor a = param({1, 2});
    opt::Adam adam({a});
    set_grad(a, {1, 1});
    adam.step();
    opt::SGD sgd({a}, {.lr = 0.1, .momentum = 0.9});
    CHECK_THROWS_AS(sgd.load_state_dict(adam.state_dict()), dc::Error);
}

TEST_CASE("hostile optim: Lookahead's load is all or nothing", "[hostile][optim]") {
    dc::Tensor a = param({1, 2});
    opt::Adam adam({a}, {.lr = 0.1});
    opt::Lookahead look(adam, {.k = 3});
    set_grad(a, {1, 1});
    look.step();
    opt::StateDict state = look.state_dict();
    state["lookahead.slow.0.0"] = dc::ones({5}, {.dtype = dc::float64});
    opt::Adam fresh_adam({a}, {.lr = 0.7});
    opt::Lookahead fresh(fresh_adam, {.k = 3});
    CHECK_THROWS_AS(fresh.load_state_dict(state), dc::Error);
    CHECK(fresh_adam.param_groups()[0].lr() == 0.7);  // the inner state was not restored
    state = look.state_dict();
    state["lookahead.steps"] = dc::int_tensor({-2}, {});
    CHECK_THROWS_AS(fresh.load_state_dict(state), dc::Error);
    CHECK(fresh_adam.param_groups()[0].lr() == 0.7);
    state["lookahead.steps"] = dc::int_tensor({1}, {});
    fresh.load_state_dict(state);
    CHECK(fresh_adam.param_groups()[0].lr() == 0.1);
}

TEST_CASE("hostile optim: SWATS's extra state is checked", "[hostile][optim]") {
    dc::Tensor a = param({1, 2});
    opt::SWATS swats({a});
    set_grad(a, {1, 1});
    swats.step();
    opt::StateDict state = swats.state_dict();
    state["swats.lambda"] = dc::scalar_tensor(kNaN, {.dtype = dc::float64});
    CHECK_THROWS_AS(swats.load_state_dict(state), dc::Error);
    state = swats.state_dict();
    state["swats.steps"] = dc::int_tensor({-5}, {});
    CHECK_THROWS_AS(swats.load_state_dict(state), dc::Error);
    CHECK(swats.state_dict().at("swats.steps").item<std::int64_t>() == 1);
}

TEST_CASE("hostile optim: a refused SWATS step changes nothing", "[hostile][optim]") {
    dc::Tensor a = param({1, 2});
    opt::SWATS swats({a});
    set_grad(a, {1, 1});
    swats.param_groups()[0].options["eps"] = -1.0;
    CHECK_THROWS_AS(swats.step(), dc::Error);
    CHECK(swats.state_dict().at("swats.steps").item<std::int64_t>() == 0);
}

TEST_CASE("hostile optim: counts in a state dict are exact int64", "[hostile][optim]") {
    dc::Tensor a = param({1});
    opt::SGD sgd({a}, {.lr = 0.1});
    opt::StateDict state = sgd.state_dict();
    const std::int64_t big = (std::int64_t{1} << 53) + 1;
    state["state.0.0.step"] = dc::int_tensor({big}, {});
    sgd.load_state_dict(state);
    CHECK(sgd.state_dict().at("state.0.0.step").item<std::int64_t>() == big);
}

TEST_CASE("hostile optim: a gradient that is the parameter itself is refused", "[hostile][optim]") {
    dc::Tensor a = param({1, 2});
    CHECK_THROWS_AS(a.set_grad(a.detach()), dc::Error);
}

TEST_CASE("hostile optim: clip_grad_norm and clip_grad_value options", "[hostile][optim]") {
    dc::Tensor a = param({3, 4});
    set_grad(a, {3, 4});
    CHECK_THROWS_WITH(opt::clip_grad_norm({a}, -1.0),
                      Contains("clip_grad_norm") && Contains("max_norm"));
    CHECK_THROWS_AS(opt::clip_grad_norm({a}, kNaN), dc::Error);
    CHECK_THROWS_AS(opt::clip_grad_norm({a}, 1.0, 0.0), dc::Error);
    CHECK_THROWS_AS(opt::clip_grad_norm({a}, 1.0, kNaN), dc::Error);
    CHECK_THROWS_WITH(opt::clip_grad_value({a}, -1.0), Contains("clip_grad_value"));
    CHECK_THROWS_AS(opt::clip_grad_value({a}, kNaN), dc::Error);
    CHECK(a.grad().to_vector() == std::vector<double>{3, 4});  // nothing was scaled
    CHECK(opt::clip_grad_norm({a}, dc::inf) == Approx(5.0));
    CHECK(a.grad().to_vector() == std::vector<double>{3, 4});
}

TEST_CASE("hostile optim: clip_grad_norm scales a parameter listed twice once",
          "[hostile][optim]") {
    dc::Tensor a = param({3, 4});
    set_grad(a, {3, 4});
    CHECK(opt::clip_grad_norm({a, a}, 1.0) == Approx(5.0));
    CHECK(a.grad().to_vector()[0] == Approx(0.6).epsilon(1e-5));
}

TEST_CASE("hostile optim: GradientNoise options", "[hostile][optim]") {
    CHECK_THROWS_WITH(opt::GradientNoise({.eta = -1}),
                      Contains("GradientNoise") && Contains("eta"));
    CHECK_THROWS_AS(opt::GradientNoise({.eta = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::GradientNoise({.gamma = kNaN}), dc::Error);
    CHECK_THROWS_AS(opt::GradientNoise({.gamma = dc::inf}), dc::Error);
}

TEST_CASE("hostile optim: zero_grad skips nothing and steps skip gradient-less params",
          "[hostile][optim]") {
    dc::Tensor a = param({1}), b = param({2});
    opt::Adam adam({a, b});
    set_grad(a, {1});
    adam.step();
    CHECK(b.to_vector() == std::vector<double>{2});
    adam.zero_grad();
    CHECK_FALSE(a.grad().defined());
}

TEST_CASE("hostile optim: an empty parameter list is refused", "[hostile][optim]") {
    for (const auto& [name, make] : algorithms()) {
        INFO(name);
        CHECK_THROWS_WITH(make({}), Contains(name) && Contains("empty parameter list"));
    }
    dc::Tensor a = param({1});
    opt::Adam adam({a});
    CHECK_NOTHROW(adam.add_param_group({}, {}));  // an empty group added later is allowed
}

TEST_CASE("hostile optim: eps = 0 and a zero gradient leave the weights as they are",
          "[hostile][optim]") {
    using Make = std::function<std::unique_ptr<opt::Optimizer>(std::vector<dc::Tensor>)>;
    const std::vector<std::pair<const char*, Make>> optimizers{
        {"Adam", [](auto p) { return std::make_unique<opt::Adam>(p, opt::AdamOptions{.eps = 0}); }},
        {"AMSGrad",
         [](auto p) {
             return std::make_unique<opt::Adam>(p, opt::AdamOptions{.eps = 0, .amsgrad = true});
         }},
        {"AdamW",
         [](auto p) {
             return std::make_unique<opt::AdamW>(p, opt::AdamWOptions{.eps = 0, .weight_decay = 0});
         }},
        {"NAdam",
         [](auto p) { return std::make_unique<opt::NAdam>(p, opt::NAdamOptions{.eps = 0}); }},
        {"RAdam",
         [](auto p) { return std::make_unique<opt::RAdam>(p, opt::RAdamOptions{.eps = 0}); }},
        {"AdaBound",
         [](auto p) { return std::make_unique<opt::AdaBound>(p, opt::AdaBoundOptions{.eps = 0}); }},
        {"Adagrad",
         [](auto p) { return std::make_unique<opt::Adagrad>(p, opt::AdagradOptions{.eps = 0}); }},
        {"RMSprop centered, momentum",
         [](auto p) {
             return std::make_unique<opt::RMSprop>(
                 p, opt::RMSpropOptions{.eps = 0, .momentum = 0.9, .centered = true});
         }},
        {"SWATS",
         [](auto p) { return std::make_unique<opt::SWATS>(p, opt::SWATSOptions{.eps = 0}); }},
    };
    for (const auto& [name, make] : optimizers) {
        for (const dc::Dtype dtype : {dc::float32, dc::float64}) {
            INFO(name << ", " << dc::dtype_name(dtype));
            dc::Tensor w = dc::tensor({1.0, -2.0, 3.0}, {3}, {.dtype = dtype}).requires_grad_();
            auto o = make({w});
            for (int step = 0; step < 8; ++step) {
                // the first coordinate never sees a gradient; the others do from step 4 on
                const double g = step < 4 ? 0.0 : 0.5;
                w.set_grad(dc::tensor({0.0, g, -g}, {3}, {.dtype = dtype}));
                o->step();
            }
            const std::vector<double> after = w.to_vector();
            CHECK(after[0] == 1.0);
            CHECK(std::isfinite(after[1]));
            CHECK(std::isfinite(after[2]));
            CHECK(after[1] != -2.0);
        }
    }
}
