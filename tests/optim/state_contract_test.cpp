// optim under the state contract: every optimizer and scheduler is Stateful; a load checks the
// kind and configuration of what wrote the state (the algorithm, Lookahead's k and α, the
// schedules, ReduceLROnPlateau's and GradientNoise's options) and the range of every value
// (buffers, L-BFGS's history), and changes nothing when it refuses. Also step(closure): the
// closure's loss comes back, and L-BFGS needs one.

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/optim.hpp>

#include <limits>
#include <optional>

namespace dc = descent;
namespace opt = descent::optim;
using Catch::Matchers::Contains;

static_assert(dc::Stateful<opt::Optimizer>);
static_assert(dc::Stateful<opt::Adam>);
static_assert(dc::Stateful<opt::Lookahead>);
static_assert(dc::Stateful<opt::LBFGS>);
static_assert(dc::Stateful<opt::LRScheduler>);
static_assert(dc::Stateful<opt::ReduceLROnPlateau>);
static_assert(dc::Stateful<opt::GradientNoise>);

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

dc::Tensor weights() {
    return dc::tensor({1.0, -2.0, 0.5}, {3}, {.dtype = dc::float64}).requires_grad_();
}

dc::Tensor real(double v) {
    return dc::scalar_tensor(v, {.dtype = dc::float64});
}

/// (w·w).sum() as the loss, its gradient 2w set by backward.
dc::Tensor loss_of(const dc::Tensor& w) {
    return (w * w).sum();
}

void take_steps(opt::Optimizer& o, const dc::Tensor& w, int steps) {
    for (int i = 0; i < steps; ++i) {
        o.zero_grad();
        loss_of(w).backward();
        o.step();
    }
}
}  // namespace

TEST_CASE("an optimizer's state names its algorithm; another's is refused", "[optim][state]") {
    dc::Tensor a = weights(), b = weights();
    opt::SGD sgd({a}, {.lr = 0.1, .momentum = 0.9});
    opt::Adam adam({b});
    take_steps(sgd, a, 2);
    take_steps(adam, b, 2);
    CHECK(sgd.state_dict().texts.at("config") == "SGD");
    const dc::StateDict before = adam.state_dict();
    CHECK_THROWS_WITH(adam.load_state_dict(sgd.state_dict()),
                      Contains("written by SGD, but this is Adam"));
    opt::SGDW sgdw({weights()}, {.lr = 0.1, .momentum = 0.9});
    CHECK_THROWS_WITH(sgdw.load_state_dict(sgd.state_dict()),
                      Contains("written by SGD, but this is SGDW"));
    CHECK(adam.state_dict().at("state.0.0.exp_avg").to_vector() ==
          before.at("state.0.0.exp_avg").to_vector());
}

TEST_CASE("an optimizer's buffers and scalars are loaded only in their ranges", "[optim][state]") {
    dc::Tensor w = weights();
    opt::NAdam nadam({w});
    take_steps(nadam, w, 2);
    const dc::StateDict good = nadam.state_dict();
    const auto refused = [&](const std::string& key, const dc::Tensor& value,
                             const std::string& says) {
        dc::StateDict bad = good;
        bad[key] = value;
        INFO(key);
        CHECK_THROWS_WITH(nadam.load_state_dict(bad), Contains(says));
    };
    refused("state.0.0.exp_avg_sq", dc::tensor({1, -1e-12, 0}, {3}, {.dtype = dc::float64}),
            "element 1 of 'state.0.0.exp_avg_sq'");
    refused("state.0.0.exp_avg", dc::tensor({1, kNaN, 0}, {3}, {.dtype = dc::float64}),
            "element 1 of 'state.0.0.exp_avg' is nan");
    refused("state.0.0.scalar.mu_product", real(1.5), "'state.0.0.scalar.mu_product'");
    refused("state.0.0.momentum_buffer", dc::zeros({3}, {.dtype = dc::float64}),
            "NAdam keeps no buffer 'momentum_buffer'");
    refused("state.0.0.scalar.mu", real(0.5), "NAdam keeps no scalar 'mu'");
    CHECK(nadam.state_dict().at("state.0.0.exp_avg").to_vector() ==
          good.at("state.0.0.exp_avg").to_vector());
    CHECK_NOTHROW(nadam.load_state_dict(good));
}

TEST_CASE("Lookahead's state records k and alpha and holds its inner optimizer's",
          "[optim][state]") {
    dc::Tensor w = weights();
    opt::Adam adam({w});
    opt::Lookahead look(adam, {.k = 3, .alpha = 0.5});
    take_steps(look, w, 4);
    const dc::StateDict state = look.state_dict();
    CHECK(state.texts.at("config") == "Lookahead(k=3, alpha=0.5)");
    CHECK(state.texts.at("inner.config") == "Adam");
    CHECK(state.contains("inner.state.0.0.exp_avg"));

    dc::Tensor v = weights();
    opt::Adam adam2({v});
    opt::Lookahead other_k(adam2, {.k = 5, .alpha = 0.5});
    CHECK_THROWS_WITH(other_k.load_state_dict(state),
                      Contains("written by Lookahead(k=3, alpha=0.5), but this is "
                               "Lookahead(k=5, alpha=0.5)"));
    opt::SGD sgd({v}, {.lr = 0.1});
    opt::Lookahead over_sgd(sgd, {.k = 3, .alpha = 0.5});
    CHECK_THROWS_WITH(over_sgd.load_state_dict(state), Contains("written by Adam"));
    dc::StateDict stray = state;
    stray["inner.extra"] = real(1);
    opt::Lookahead same(adam2, {.k = 3, .alpha = 0.5});
    CHECK_THROWS_WITH(same.load_state_dict(stray), Contains("extra"));
    dc::StateDict bad_slow = state;
    bad_slow["lookahead.slow.0.0"] = dc::tensor({kNaN, 0, 0}, {3}, {.dtype = dc::float64});
    CHECK_THROWS_WITH(same.load_state_dict(bad_slow), Contains("lookahead.slow.0.0"));
    CHECK_NOTHROW(same.load_state_dict(state));
}

TEST_CASE("a scheduler's state is refused under other schedules", "[optim][state]") {
    dc::Tensor w = weights();
    opt::SGD sgd({w}, {.lr = 0.1});
    opt::LRScheduler cosine(sgd, opt::warmup(opt::cosine(100), 10));
    take_steps(sgd, w, 3);
    cosine.step();
    const dc::StateDict state = cosine.state_dict();
    CHECK(state.texts.at("config") ==
          "LRScheduler(lr=sequential(schedules=[linear(start_factor=0.1, end_factor=1, "
          "total_iters=10), cosine(t_max=100, eta_min=0)], milestones=[10]))");

    for (const opt::Schedule& other :
         {opt::warmup(opt::step_decay(30), 10), opt::warmup(opt::cosine(200), 10),
          opt::warmup(opt::cosine(100), 20), opt::warmup(opt::cosine(100, 1e-4), 10),
          opt::cosine(100)}) {
        opt::SGD fresh({weights()}, {.lr = 0.1});
        opt::LRScheduler scheduler(fresh, other);
        INFO(other.description());
        CHECK_THROWS_WITH(scheduler.load_state_dict(state), Contains("but this is LRScheduler("));
        CHECK(scheduler.last_step() == 0);
        CHECK(fresh.param_groups()[0].lr() == other(0, 0.1));
    }
    opt::SGD sgd2({weights()}, {.lr = 0.1});
    opt::LRScheduler same(sgd2, opt::warmup(opt::cosine(100), 10));
    same.load_state_dict(state);
    CHECK(same.last_step() == 1);

    // schedules of one's own are "custom" unless described
    const opt::Schedule custom = [](std::int64_t t, double base) { return base / double(t + 1); };
    CHECK(custom.description() == "custom");
    const opt::Schedule named({[](std::int64_t, double base) { return base; }, "flat(v=2)"});
    CHECK(named.description() == "flat(v=2)");
    CHECK(opt::chain(custom, opt::exponential(0.5)).description() ==
          "chain(inner=custom, outer=exponential(gamma=0.5))");
}

TEST_CASE("ReduceLROnPlateau and GradientNoise check their options and counts on load",
          "[optim][state]") {
    dc::Tensor w = weights();
    opt::SGD sgd({w}, {.lr = 0.1});
    opt::ReduceLROnPlateau plateau(sgd, {.factor = 0.5, .patience = 2});
    plateau.step(1.0);
    plateau.step(2.0);
    const dc::StateDict state = plateau.state_dict();
    opt::ReduceLROnPlateau other(sgd, {.factor = 0.1, .patience = 2});
    CHECK_THROWS_WITH(other.load_state_dict(state), Contains("factor=0.5"));
    opt::ReduceLROnPlateau same(sgd, {.factor = 0.5, .patience = 2});
    dc::StateDict bad = state;
    bad["plateau.bad_steps"] = dc::int_tensor({3}, {});  // more than the patience
    CHECK_THROWS_WITH(same.load_state_dict(bad), Contains("'plateau.bad_steps' must be in [0, 2]"));
    bad = state;
    bad["plateau.best"] = real(kNaN);
    CHECK_THROWS_WITH(same.load_state_dict(bad), Contains("plateau.best"));
    CHECK_NOTHROW(same.load_state_dict(state));

    opt::GradientNoise noise({.eta = 0.3, .seed = 1});
    noise.add_to({});
    opt::GradientNoise louder({.eta = 1.0});
    CHECK_THROWS_WITH(louder.load_state_dict(noise.state_dict()),
                      Contains("written by GradientNoise(eta=0.3, gamma=0.55)"));
    opt::GradientNoise quiet({.eta = 0.3});
    quiet.load_state_dict(noise.state_dict());
    CHECK(quiet.steps() == 1);
    CHECK(quiet.state_dict().at("generator.words").to_int_vector() ==
          noise.state_dict().at("generator.words").to_int_vector());
}

TEST_CASE(
    "L-BFGS's history is loaded only finite, positive where it must be, and no longer "
    "than history_size",
    "[optim][state][lbfgs]") {
    dc::Tensor w = weights();
    opt::LBFGS lbfgs({w}, {.max_iter = 4, .history_size = 3});
    lbfgs.step([&] {
        lbfgs.zero_grad();
        auto loss = (w * w * w * w).sum();
        loss.backward();
        return loss;
    });
    const dc::StateDict good = lbfgs.state_dict();
    REQUIRE(good.contains("lbfgs.old_dirs.0"));
    dc::Tensor v = weights();
    opt::LBFGS other({v}, {.max_iter = 4, .history_size = 3});
    const auto refused = [&](const std::string& key, const dc::Tensor& value,
                             const std::string& says) {
        dc::StateDict bad = good;
        bad[key] = value;
        INFO(key);
        CHECK_THROWS_WITH(other.load_state_dict(bad), Contains(says));
        CHECK(other.iterations() == 0);
    };
    refused("lbfgs.old_dirs.0", dc::tensor({1, kNaN, 0}, {3}, {.dtype = dc::float64}),
            "element 1 of 'lbfgs.old_dirs.0' is nan");
    refused("lbfgs.d", dc::tensor({1, 2}, {2}, {.dtype = dc::float64}), "'lbfgs.d'");
    refused("lbfgs.ro.0", real(-1), "'lbfgs.ro.0'");
    refused("lbfgs.h_diag", real(0), "'lbfgs.h_diag'");
    refused("lbfgs.history", dc::int_tensor({4}, {}), "'lbfgs.history' must be in [0, 3]");
    refused("lbfgs.prev_loss", real(std::numeric_limits<double>::infinity()), "prev_loss");
    other.load_state_dict(good);
    CHECK(other.iterations() == lbfgs.iterations());
}

TEST_CASE("step(closure): the loss comes back, the same update as without", "[optim][closure]") {
    dc::Tensor a = weights(), b = weights();
    opt::Adam with({a}, {.lr = 0.1}), without({b}, {.lr = 0.1});
    int calls = 0;
    for (int i = 0; i < 3; ++i) {
        const dc::Tensor loss = with.step([&] {
            ++calls;
            with.zero_grad();
            dc::Tensor l = loss_of(a);
            l.backward();
            return l;
        });
        CHECK(loss.item() == Approx(loss_of(b).item()));
        take_steps(without, b, 1);
    }
    CHECK(calls == 3);
    CHECK(a.to_vector() == b.to_vector());
    CHECK_FALSE(without.step().defined());  // no closure, no loss

    // under NoGradGuard, the closure still records (as torch's enable_grad)
    dc::Tensor c = weights();
    opt::SGD sgd({c}, {.lr = 0.1});
    opt::Lookahead look(sgd, {.k = 2});
    const dc::NoGradGuard no_grad;
    const dc::Tensor loss = look.step([&] {
        look.zero_grad();
        dc::Tensor l = loss_of(c);
        l.backward();
        return l;
    });
    CHECK(loss.item() == Approx(5.25));
    CHECK(c.to_vector() != weights().to_vector());

    opt::LBFGS lbfgs({weights()});
    CHECK_THROWS_WITH(lbfgs.step(), Contains("LBFGS: step needs a closure"));
    opt::Optimizer& any = lbfgs;
    CHECK_THROWS_WITH(any.step(), Contains("needs a closure"));
}

TEST_CASE("an optimizer destroyed under a Lookahead or a scheduler is named, not read",
          "[optim][state]") {
    dc::Tensor w = weights();
    auto adam = std::make_optional<opt::Adam>(std::vector<dc::Tensor>{w});
    opt::Lookahead look(*adam);
    opt::LRScheduler scheduler(*adam, opt::cosine(10));
    adam.reset();
    CHECK_THROWS_WITH(look.state_dict(), "Lookahead: the optimizer it wraps has been destroyed");
    CHECK_THROWS_WITH(scheduler.last_lr(),
                      "LRScheduler: the optimizer it schedules has been destroyed");
}
