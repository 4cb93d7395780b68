// Update rules checked by hand on one or two steps, the Optimizer base's bookkeeping, and the
// helpers (clipping, noise, weight-decay groups).

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>

namespace dc = descent;
namespace opt = descent::optim;

namespace {
dc::Tensor param(std::vector<double> v) {
    const auto n = static_cast<std::int64_t>(v.size());
    return dc::tensor(v, {n}, {.dtype = dc::float64, .requires_grad = true});
}
void set_grad(dc::Tensor& p, std::vector<double> g) {
    p.set_grad(dc::tensor(g, {static_cast<std::int64_t>(g.size())}, {.dtype = dc::float64}));
}
}  // namespace

TEST_CASE("SGD, momentum and Nesterov by hand", "[optim]") {
    dc::Tensor w = param({1.0});
    opt::SGD sgd({w}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.5});
    set_grad(w, {2.0});
    sgd.step();  // d = 2 + 0.5·1 = 2.5, b = 2.5, w = 1 − 0.25
    CHECK(w.item() == Approx(0.75).epsilon(1e-15));
    set_grad(w, {2.0});
    sgd.step();  // d = 2 + 0.375 = 2.375, b = 0.9·2.5 + 2.375 = 4.625, w = 0.75 − 0.4625
    CHECK(w.item() == Approx(0.2875).epsilon(1e-15));

    dc::Tensor n = param({1.0});
    opt::SGD nag({n}, {.lr = 0.1, .momentum = 0.5, .nesterov = true});
    set_grad(n, {1.0});
    nag.step();  // b = 1, d = 1 + 0.5·1 = 1.5
    CHECK(n.item() == Approx(0.85).epsilon(1e-15));
}

TEST_CASE("SGDW decays the weights instead of the gradient", "[optim]") {
    dc::Tensor a = param({2.0}), b = param({2.0});
    opt::SGD l2({a}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
    opt::SGDW decoupled({b}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
    set_grad(a, {1.0});
    set_grad(b, {1.0});
    l2.step();
    decoupled.step();
    CHECK(a.item() == Approx(2.0 - 0.1 * (1.0 + 0.2)).epsilon(1e-15));
    CHECK(b.item() == Approx(2.0 * (1 - 0.01) - 0.1 * 1.0).epsilon(1e-15));
    set_grad(a, {1.0});
    set_grad(b, {1.0});
    l2.step();
    decoupled.step();
    // the momentum buffer of SGDW holds only gradients, SGD's holds decay too
    const double b1 = 2.0 * 0.99 - 0.1, a1 = 2.0 - 0.12;
    CHECK(a.item() == Approx(a1 - 0.1 * (0.9 * 1.2 + (1.0 + 0.1 * a1))).epsilon(1e-15));
    CHECK(b.item() == Approx(b1 * 0.99 - 0.1 * (0.9 * 1.0 + 1.0)).epsilon(1e-15));
}

TEST_CASE("Adam's first step moves every coordinate by about lr", "[optim]") {
    dc::Tensor w = param({1.0, -1.0, 3.0});
    opt::Adam adam({w}, {.lr = 0.01});
    set_grad(w, {5.0, -0.001, 0.0});
    adam.step();  // m̂ = g, v̂ = g², step = lr·g/(|g| + ε)
    CHECK(w.at({0}) == Approx(1.0 - 0.01).epsilon(1e-9));
    CHECK(w.at({1}) == Approx(-1.0 + 0.01).epsilon(1e-6));
    CHECK(w.at({2}) == 3.0);
}

TEST_CASE("AdamW is Adam plus decoupled decay", "[optim]") {
    dc::Tensor a = param({1.0, 2.0}), b = param({1.0, 2.0});
    opt::AdamW adamw({a}, {.lr = 0.1, .weight_decay = 0.5});
    opt::Adam adam({b}, {.lr = 0.1});
    for (int i = 0; i < 3; ++i) {
        set_grad(a, {0.3, -0.2});
        set_grad(b, {0.3, -0.2});
        {
            dc::NoGradGuard no_grad;
            b.mul_(1 - 0.1 * 0.5);  // the decay by hand, then plain Adam
        }
        adamw.step();
        adam.step();
    }
    // the fused update may contract keep·θ − step into one FMA: equal to within rounding
    for (std::int64_t i = 0; i < 2; ++i) CHECK(a.at({i}) == Approx(b.at({i})).epsilon(1e-15));
}

TEST_CASE("parameters without gradients are skipped and zero_grad drops gradients", "[optim]") {
    dc::Tensor a = param({1.0}), b = param({1.0});
    opt::Adam adam({a, b});
    set_grad(a, {1.0});
    adam.step();
    CHECK(a.item() != 1.0);
    CHECK(b.item() == 1.0);
    adam.zero_grad();
    CHECK_FALSE(a.grad().defined());
    CHECK(adam.state_dict().at("state.0.1.step").item() == 0);
}

TEST_CASE("parameter groups keep their own options", "[optim]") {
    dc::Tensor w = param({1.0}), b = param({1.0});
    opt::SGD sgd({w}, {.lr = 0.1});
    sgd.add_param_group({b}, {.lr = 0.01});
    REQUIRE(sgd.param_groups().size() == 2);
    set_grad(w, {1.0});
    set_grad(b, {1.0});
    sgd.step();
    CHECK(w.item() == Approx(0.9).epsilon(1e-15));
    CHECK(b.item() == Approx(0.99).epsilon(1e-15));
    sgd.param_groups()[1].set("lr", 1.0);
    set_grad(b, {1.0});
    sgd.step();
    CHECK(b.item() == Approx(-0.01).epsilon(1e-12));
    CHECK_THROWS_WITH(sgd.add_param_group({w}, {}), Catch::Contains("already in a group"));
    CHECK_THROWS_AS(opt::SGD({dc::int_tensor({1}, {1})}), dc::Error);
    CHECK_THROWS_AS(opt::SGD({w}, {.lr = -1}), dc::Error);
    CHECK_THROWS_AS(sgd.param_groups()[0].get("betas"), dc::Error);
}

TEST_CASE("load_state_dict rejects a state of another shape", "[optim]") {
    dc::Tensor a = param({1.0, 2.0});
    opt::Adam adam({a});
    set_grad(a, {1.0, 1.0});
    adam.step();
    const auto state = adam.state_dict();

    dc::Tensor other = param({1.0, 2.0, 3.0});
    opt::Adam wrong_shape({other});
    CHECK_THROWS_WITH(wrong_shape.load_state_dict(state), Catch::Contains("exp_avg") &&
                                                              Catch::Contains("[2]") &&
                                                              Catch::Contains("[3]"));
    dc::Tensor c = param({1.0});
    opt::Adam two_groups({a.detach().clone().requires_grad_()});
    two_groups.add_param_group({c}, {});
    CHECK_THROWS_WITH(two_groups.load_state_dict(state), Catch::Contains("2 parameter groups") ||
                                                             Catch::Contains("1 parameter groups"));
}

TEST_CASE("clip_grad_norm scales to the norm and reports it", "[optim][clip]") {
    dc::Tensor a = param({3.0}), b = param({0.0});
    set_grad(a, {3.0});
    set_grad(b, {4.0});
    const double norm = opt::clip_grad_norm({a, b}, 1.0);
    CHECK(norm == Approx(5.0).epsilon(1e-15));
    CHECK(a.grad().item() == Approx(3.0 / (5.0 + 1e-6)).epsilon(1e-15));
    CHECK(b.grad().item() == Approx(4.0 / (5.0 + 1e-6)).epsilon(1e-15));
    set_grad(a, {3.0});
    set_grad(b, {-4.0});
    CHECK(opt::clip_grad_norm({a, b}, 10.0, opt::inf_norm) == 4.0);
    CHECK(a.grad().item() == 3.0);  // below max_norm: untouched
    CHECK(opt::clip_grad_norm({a, b}, 10.0, 1.0) == 7.0);
    set_grad(a, {NAN});
    CHECK(std::isnan(opt::clip_grad_norm({a, b}, 1.0)));
    CHECK(std::isnan(opt::clip_grad_norm({a, b}, 1.0, opt::inf_norm)));
    CHECK(std::isnan(opt::clip_grad_norm({b, a}, 1.0, opt::inf_norm)));
    CHECK_THROWS_AS(opt::clip_grad_norm({a, b}, 1.0, 2.0, true), dc::Error);
}

TEST_CASE("clip_grad_value clamps every element", "[optim][clip]") {
    dc::Tensor a = param({0.0, 0.0, 0.0});
    set_grad(a, {-3.0, 0.5, 2.0});
    opt::clip_grad_value({a}, 1.0);
    CHECK(a.grad().to_vector() == std::vector<double>{-1.0, 0.5, 1.0});
}

TEST_CASE("gradient noise follows σ²ₜ = η/(1+t)^γ and is seeded", "[optim][noise]") {
    opt::GradientNoise noise({.eta = 0.3, .gamma = 0.55, .seed = 7});
    CHECK(noise.sigma(0) == Approx(std::sqrt(0.3)).epsilon(1e-15));
    CHECK(noise.sigma(9) == Approx(std::sqrt(0.3 / std::pow(10.0, 0.55))).epsilon(1e-15));
    // 100,000 draws at t = 0: sample mean within 5 standard errors of 0, variance of σ².
    dc::Tensor w = dc::zeros({100000}, {.dtype = dc::float64, .requires_grad = true});
    w.set_grad(dc::zeros({100000}, {.dtype = dc::float64}));
    noise.add_to({w});
    const double n = 100000, var = 0.3;
    CHECK(std::abs(w.grad().mean().item()) < 5 * std::sqrt(var / n));
    CHECK(std::abs(w.grad().var().item() - var) < 5 * var * std::sqrt(2.0 / n));
    CHECK(noise.steps() == 1);
    opt::GradientNoise again({.eta = 0.3, .gamma = 0.55, .seed = 7});
    dc::Tensor v = dc::zeros({4}, {.dtype = dc::float64, .requires_grad = true});
    v.set_grad(dc::zeros({4}, {.dtype = dc::float64}));
    again.add_to({v});
    const std::vector<double> first = w.grad().to_vector();
    CHECK(v.grad().to_vector() == std::vector<double>(first.begin(), first.begin() + 4));
}

TEST_CASE("split_for_weight_decay puts biases and norms in no_decay", "[optim]") {
    const dc::NamedTensors named = {{"0.weight", dc::ones({3, 2})},
                                    {"0.bias", dc::ones({3})},
                                    {"norm.weight", dc::ones({3})},
                                    {"head.weight", dc::ones({2, 3})}};
    const auto split = opt::split_for_weight_decay(named);
    CHECK(split.decay.size() == 2);
    CHECK(split.no_decay.size() == 2);
    CHECK(split.decay[1].is_same(named[3].second));
}
