// Layers and losses: gradcheck in float64 (default tolerances: eps 1e-6, atol 1e-5, rtol 1e-3),
// dropout's statistics, BatchNorm's modes, float32 stability, and fine-tuning.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

namespace dc = descent;
namespace nn = descent::nn;
namespace F = descent::nn::functional;
using Inputs = std::vector<dc::Tensor>;

namespace {
dc::Tensor randn64(const dc::Shape& s) {
    return dc::randn(s, {.dtype = dc::float64, .requires_grad = true});
}
void check_both(const dc::GradcheckScalarFn& f, const Inputs& in) {
    CHECK_NOTHROW(dc::gradcheck(f, in));
    CHECK_NOTHROW(dc::gradgradcheck(f, in));
}
}  // namespace

TEST_CASE("layers pass gradcheck and gradgradcheck in float64", "[nn][layers][gradcheck]") {
    dc::manual_seed(11);
    SECTION("linear") {
        check_both([](const Inputs& in) { return F::linear(in[0], in[1], in[2]).tanh().sum(); },
                   {randn64({4, 3}), randn64({2, 3}), randn64({2})});
    }
    SECTION("batch_norm, training, (N,C) and (N,C,L)") {
        const auto f = [](const Inputs& in) {
            return (F::batch_norm(in[0], {}, {}, in[1], in[2], true) * in[3]).sum();
        };
        check_both(f, {randn64({5, 3}), randn64({3}), randn64({3}), randn64({5, 3}).detach()});
        check_both(f,
                   {randn64({4, 3, 2}), randn64({3}), randn64({3}), randn64({4, 3, 2}).detach()});
        check_both(
            f, {randn64({2, 3, 2, 3}), randn64({3}), randn64({3}), randn64({2, 3, 2, 3}).detach()});
        check_both(
            [](const Inputs& in) {
                return (F::batch_norm(in[0], {}, {}, {}, {}, true) * in[1]).sum();  // no affine
            },
            {randn64({3, 2, 4}), randn64({3, 2, 4}).detach()});
    }
    SECTION("batch_norm, eval") {
        const dc::Tensor mean = dc::randn({3}, {.dtype = dc::float64});
        const dc::Tensor var = dc::rand({3}, {.dtype = dc::float64}) + 0.5;
        check_both(
            [&](const Inputs& in) {
                return F::batch_norm(in[0], mean, var, in[1], in[2], false).pow(2.0).sum();
            },
            {randn64({4, 3}), randn64({3}), randn64({3})});
    }
    SECTION("layer_norm") {
        check_both(
            [](const Inputs& in) {
                return (F::layer_norm(in[0], {2, 3}, in[1], in[2]) * in[3]).sum();
            },
            {randn64({4, 2, 3}), randn64({2, 3}), randn64({2, 3}), randn64({4, 2, 3}).detach()});
    }
    SECTION("dropout with a fixed seed") {
        check_both(
            [](const Inputs& in) {
                dc::manual_seed(5);  // the same mask at every evaluation
                return F::dropout(in[0], 0.3, true).pow(2.0).sum();
            },
            {randn64({6, 4})});
    }
    SECTION("embedding") {
        const dc::Tensor idx = dc::int_tensor({1, 3, 1, 0}, {2, 2});
        check_both([&](const Inputs& in) { return F::embedding(idx, in[0]).pow(2.0).sum(); },
                   {randn64({4, 3})});
    }
}

TEST_CASE("losses pass gradcheck in float64", "[nn][loss][gradcheck]") {
    dc::manual_seed(12);
    const dc::Tensor labels = dc::int_tensor({2, 0, 1, 2, -100}, {5});
    SECTION("mse, l1, huber: both inputs") {
        const dc::Tensor a = randn64({3, 4});
        const dc::Tensor b =
            (a.detach() + dc::tensor({0.3, -0.4, 2.0, -1.7}, {4}, {.dtype = dc::float64}))
                .requires_grad_();
        check_both([](const Inputs& in) { return nn::mse_loss(in[0], in[1]); }, {a, b});
        CHECK_NOTHROW(dc::gradcheck(
            [](const Inputs& in) { return nn::l1_loss(in[0], in[1], nn::Reduction::sum); },
            {a, b}));
        check_both(
            [](const Inputs& in) { return nn::huber_loss(in[0], in[1], nn::Reduction::mean, 1.0); },
            {a, b});
    }
    SECTION("cross_entropy with smoothing and an ignored target") {
        check_both(
            [&](const Inputs& in) {
                return nn::cross_entropy(in[0], labels, {.label_smoothing = 0.1});
            },
            {randn64({5, 3})});
        check_both(
            [&](const Inputs& in) {
                return nn::cross_entropy(in[0], labels, {.reduction = nn::Reduction::sum});
            },
            {randn64({5, 3})});
        check_both(
            [&](const Inputs& in) { return nn::nll_loss(dc::log_softmax(in[0], 1), labels); },
            {randn64({5, 3})});
    }
    SECTION("binary cross-entropy with logits: logits and targets") {
        check_both(
            [](const Inputs& in) { return nn::binary_cross_entropy_with_logits(in[0], in[1]); },
            {randn64({6}), dc::rand({6}, {.dtype = dc::float64, .requires_grad = true})});
    }
}

TEST_CASE("losses against hand-computed values", "[nn][loss]") {
    const dc::Tensor logits = dc::tensor({1, 2, 3, 1, 1, 1}, {2, 3}, {.dtype = dc::float64});
    const dc::Tensor y = dc::int_tensor({2, 0}, {2});
    const double l0 = std::log(std::exp(1) + std::exp(2) + std::exp(3)) - 3, l1 = std::log(3.0);
    CHECK(nn::cross_entropy(logits, y).item() == Approx((l0 + l1) / 2).epsilon(1e-14));
    CHECK(nn::cross_entropy(logits, dc::int_tensor({2, -100}, {2})).item() ==
          Approx(l0).epsilon(1e-14));
    const auto none = nn::cross_entropy(logits, y, {.reduction = nn::Reduction::none}).to_vector();
    CHECK(none[1] == Approx(l1).epsilon(1e-14));
    // smoothing ε: (1 − ε)·nll + ε·mean_c(−log p_c)
    const double eps = 0.2, smooth0 = std::log(std::exp(1) + std::exp(2) + std::exp(3)) - 2;
    CHECK(nn::cross_entropy(logits.slice(0, 0, 1), y.slice(0, 0, 1), {.label_smoothing = eps})
              .item() == Approx((1 - eps) * l0 + eps * smooth0).epsilon(1e-14));
    const dc::Tensor x = dc::tensor({0.0, 2.0}, {2}, {.dtype = dc::float64});
    const dc::Tensor t = dc::tensor({1.0, 0.0}, {2}, {.dtype = dc::float64});
    CHECK(nn::binary_cross_entropy_with_logits(x, t).item() ==
          Approx((std::log(2.0) + std::log1p(std::exp(2.0))) / 2).epsilon(1e-14));
    CHECK(nn::huber_loss(x, t, nn::Reduction::sum, 1.0).item() == Approx(0.5 + 1.5).epsilon(1e-15));
    CHECK_THROWS_WITH(nn::mse_loss(x, dc::ones({3}, {.dtype = dc::float64})),
                      Catch::Contains("[2]") && Catch::Contains("[3]"));
    CHECK_THROWS_WITH(nn::cross_entropy(logits, dc::int_tensor({3, 0}, {2})),
                      Catch::Contains("target 3"));
}

TEST_CASE("losses stay finite in float32 for logits up to ±1e4", "[nn][loss]") {
    dc::Tensor logits = dc::tensor({1e4, -1e4, 0, -1e4, 1e4, 5e3}, {2, 3}, {.requires_grad = true});
    const dc::Tensor y = dc::int_tensor({1, 1}, {2});
    const dc::Tensor ce = nn::cross_entropy(logits, y);
    ce.backward();
    CHECK(std::isfinite(ce.item()));
    CHECK(ce.item() == Approx(1e4).epsilon(1e-6));
    for (const double g : logits.grad().to_vector()) CHECK(std::isfinite(g));
    dc::Tensor z = dc::tensor({1e4, -1e4, 0}, {3}, {.requires_grad = true});
    const dc::Tensor bce = nn::binary_cross_entropy_with_logits(z, dc::tensor({0, 1, 1}, {3}));
    bce.backward();
    CHECK(bce.item() == Approx((1e4 + 1e4 + std::log(2.0)) / 3).epsilon(1e-6));
    for (const double g : z.grad().to_vector()) CHECK(std::isfinite(g));
}

TEST_CASE("dropout keeps 1 − p of the units on average and preserves the mean", "[nn][dropout]") {
    dc::manual_seed(21);
    const double p = 0.3;
    const std::int64_t n = 200000;
    const dc::Tensor x = dc::ones({n}, {.dtype = dc::float64});
    const dc::Tensor y = F::dropout(x, p, true);
    const double kept = (y > 0.0).to(dc::float64).mean().item();
    const double sigma = std::sqrt(p * (1 - p) / static_cast<double>(n));  // binomial proportion
    CHECK(std::abs(kept - (1 - p)) < 4 * sigma);
    CHECK(std::abs(y.mean().item() - 1.0) < 4 * sigma / (1 - p));
    for (const double v : y.slice(0, 0, 1000).to_vector())
        CHECK((v == 0.0 || v == Approx(1 / (1 - p))));
    nn::Dropout drop(p);
    drop.eval();
    CHECK(drop(x).is_same(x));
    CHECK(F::dropout(x, 0.0, true).is_same(x));
    CHECK(F::dropout(x, 1.0, true).sum().item() == 0.0);
    dc::manual_seed(3);
    const auto a = F::dropout(x.slice(0, 0, 50), 0.5).to_vector();
    dc::manual_seed(3);
    CHECK(F::dropout(x.slice(0, 0, 50), 0.5).to_vector() == a);
}

TEST_CASE("BatchNorm1d uses batch statistics in training and running ones in eval",
          "[nn][batchnorm]") {
    nn::BatchNorm1d bn(2);
    bn.to(dc::float64);
    const dc::Tensor x = dc::tensor({1, 10, 3, 20, 5, 30}, {3, 2}, {.dtype = dc::float64});
    const dc::Tensor y = bn(x);
    CHECK(y.mean({0}).to_vector()[0] == Approx(0.0).margin(1e-15));
    const auto stats = bn.state_dict();
    CHECK(stats[2].first == "running_mean");
    CHECK(stats[2].second.to_vector() == std::vector<double>{0.1 * 3, 0.1 * 20});
    CHECK(stats[3].second.at({0}) == Approx(0.9 + 0.1 * 4.0).epsilon(1e-15));  // unbiased var 4
    CHECK(stats[4].second.item() == 1);
    bn.eval();
    const dc::Tensor e = bn(x);
    CHECK(e.at({0, 0}) == Approx((1 - 0.3) / std::sqrt(1.3 + 1e-5)).epsilon(1e-14));
    CHECK(stats[4].second.item() == 1);  // eval does not count batches
    bn.train();
    CHECK_THROWS_WITH(bn(dc::ones({1, 2}, {.dtype = dc::float64})),
                      Catch::Contains("more than one value"));
}

TEST_CASE("BatchNorm2d: batch statistics far from zero keep their accuracy", "[nn][batchnorm]") {
    // The reference: the batch's own two-pass mean and variance from its float64 values.
    // float64, values 10⁴ + 10⁻²·z: an unshifted one-pass Σx²/M − μ² has errors of ~10⁻⁸ (the
    // ulp of x² ≈ 10⁸) in a variance of 10⁻⁴, ~10⁻⁴ in the output; the mean's own rounding
    // (~10⁴·2⁻⁵³ over a spread of 10⁻²) bounds any method to ~10⁻¹⁰. float32, values 10² + z:
    // the rounding of μ and of x/σ near 10² (ulp 2⁻¹⁷ ≈ 7.6·10⁻⁶) bounds the output to ~10⁻⁵.
    dc::manual_seed(11);
    const dc::Tensor z = dc::randn({6, 3, 5, 7}, {.dtype = dc::float64});
    struct Case {
        dc::Dtype dtype;
        double offset, spread, tolerance;
    };
    for (const Case& c : {Case{dc::float64, 1e4, 1e-2, 1e-8}, Case{dc::float32, 1e2, 1.0, 1e-4}}) {
        const dc::Tensor x = (z * c.spread + c.offset).to(c.dtype);
        const dc::Tensor x64 = x.to(dc::float64);
        const dc::Tensor mean = x64.mean({0, 2, 3}, true);
        const dc::Tensor var = ((x64 - mean) * (x64 - mean)).mean({0, 2, 3}, true);
        const dc::Tensor expected = (x64 - mean) / dc::sqrt(var + 1e-5 * c.spread * c.spread);
        nn::BatchNorm2d bn(3, 1e-5 * c.spread * c.spread);
        bn.to(c.dtype);
        const dc::Tensor y = bn(x).to(dc::float64);
        INFO(dc::dtype_name(c.dtype));
        CHECK((y - expected).abs().max().item() < c.tolerance);
    }
}

TEST_CASE("BatchNorm2d: a NaN in a channel reaches its running statistics, as in torch",
          "[nn][batchnorm]") {
    dc::Tensor x = dc::randn({4, 2, 3, 3}, {.dtype = dc::float64});
    x = dc::where(dc::arange(0, 72, 1, {.dtype = dc::float64}).reshape({4, 2, 3, 3}) == 4.0,
                  dc::full({4, 2, 3, 3}, std::nan(""), {.dtype = dc::float64}), x);  // channel 0
    nn::BatchNorm2d bn(2);
    bn.to(dc::float64);
    bn(x);
    const auto stats = bn.state_dict();
    REQUIRE(stats[2].first == "running_mean");
    REQUIRE(stats[3].first == "running_var");
    CHECK(std::isnan(stats[2].second.to_vector()[0]));
    CHECK(std::isnan(stats[3].second.to_vector()[0]));
    CHECK(std::isfinite(stats[2].second.to_vector()[1]));
    CHECK(std::isfinite(stats[3].second.to_vector()[1]));
}

TEST_CASE("fine-tuning: frozen parameters stay unchanged bit for bit", "[nn][finetune]") {
    dc::manual_seed(4);
    nn::Sequential model{nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 8), nn::Tanh(),
                         nn::Linear(8, 2)};
    model.requires_grad_(false);
    model.at<nn::Linear>(4).requires_grad_(true);
    std::vector<dc::Tensor> trainable;
    for (auto& p : model.parameters()) {
        if (p.requires_grad()) trainable.push_back(p);
    }
    REQUIRE(trainable.size() == 2);
    const auto before = model.state_dict();
    std::vector<std::vector<double>> frozen_before;
    for (std::size_t i = 0; i < 4; ++i) frozen_before.push_back(before[i].second.to_vector());
    const auto head_before = model.at<nn::Linear>(4).weight().to_vector();
    dc::optim::SGD sgd(trainable, {.lr = 0.1, .momentum = 0.9});
    const dc::Tensor x = dc::randn({16, 4});
    const dc::Tensor target = dc::randn({16, 2});
    for (int step = 0; step < 5; ++step) {
        sgd.zero_grad();
        nn::mse_loss(model(x), target).backward();
        sgd.step();
    }
    const auto after = model.state_dict();
    for (std::size_t i = 0; i < 4; ++i) {
        INFO(after[i].first);
        CHECK(after[i].second.to_vector() == frozen_before[i]);
        CHECK_FALSE(after[i].second.grad().defined());
    }
    CHECK(model.at<nn::Linear>(4).weight().to_vector() != head_before);
}

TEST_CASE("init follows torch's formulas", "[nn][init]") {
    dc::manual_seed(8);
    dc::Tensor w = dc::zeros({200, 300}, {.dtype = dc::float64});
    nn::init::xavier_uniform_(w);
    const double a = std::sqrt(6.0 / 500);
    CHECK(w.max().item() <= a);
    CHECK(w.min().item() >= -a);
    CHECK(w.var().item() == Approx(a * a / 3).epsilon(0.02));  // 60,000 draws: ~0.6 % std error
    nn::init::kaiming_normal_(w, 0.0, nn::init::FanMode::fan_in, "relu");
    CHECK(w.std().item() == Approx(std::sqrt(2.0 / 300)).epsilon(0.02));
    dc::Tensor q = dc::zeros({3, 5}, {.dtype = dc::float64});
    nn::init::orthogonal_(q);
    const dc::Tensor qqt = dc::matmul(q, q.t());
    for (std::int64_t i = 0; i < 3; ++i) {
        for (std::int64_t j = 0; j < 3; ++j)
            CHECK(qqt.at({i, j}) == Approx(i == j ? 1.0 : 0.0).margin(1e-12));
    }
    CHECK(nn::init::calculate_gain("tanh") == Approx(5.0 / 3));
    CHECK(nn::init::calculate_gain("leaky_relu", 0.2) == Approx(std::sqrt(2.0 / 1.04)));
    nn::Linear lin(50, 10);
    CHECK(lin.weight().abs().max().item() <= 1 / std::sqrt(50.0));
    CHECK_THROWS_AS(nn::init::xavier_uniform_(*std::make_unique<dc::Tensor>(dc::zeros({3}))),
                    dc::ShapeError);
}
