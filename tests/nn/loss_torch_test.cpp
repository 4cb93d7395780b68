// The losses against PyTorch (tools/make_loss_fixtures.py writes
// tests/fixtures/nn/losses.safetensors): for each of its cases the loss and the gradients with
// respect to the input (and floating targets) match torch's in float64, and float32 inputs give
// float32 losses close to them. Also gradcheck and gradgradcheck of every variant in float64, the
// loss modules, and nll_loss's agreement with cross_entropy.
//
// Tolerance in float64: 1e-12 relative to each tensor's largest magnitude, plus 1e-14 absolute.
// Both sides compute in float64 and differ only in summation order and in how a few terms are
// grouped (torch sums the nll and smoothing parts separately, and the one-node softmax
// cross-entropy forms log Σ exp(x) − x_y where torch forms log_softmax); that costs a few ulps of
// the sums (~1e-15 relative) and, where a loss is tiny because the target's logit dominates
// (30 against the rest: a loss of 5e-12), a few ulps of that logit (ulp(30) = 3.6e-15), the 1e-14.
// float32: 1e-5 relative to max(1, the largest magnitude), as ulp(30) is 1.9e-6 in float32.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "torch_fixture.hpp"

namespace dc = descent;
namespace nn = descent::nn;
using Inputs = std::vector<dc::Tensor>;

namespace {
struct Fixture {
    std::map<std::string, dc::Tensor> tensors;
    std::map<std::string, nlohmann::json> cases;
    dc::Tensor get(const std::string& key) const {
        const auto it = tensors.find(key);
        return it == tensors.end() ? dc::Tensor{} : it->second;
    }
};

const Fixture& fixture() {
    static const Fixture f = [] {
        Fixture out;
        const auto file =
            nn::load_checkpoint(std::string(DESCENT_FIXTURE_DIR) + "/nn/losses.safetensors");
        for (const auto& [key, t] : file.tensors) out.tensors[key] = t;
        for (const auto& [key, text] : file.metadata) out.cases[key] = nlohmann::json::parse(text);
        return out;
    }();
    return f;
}

nn::Reduction reduction_of(const std::string& s) {
    if (s == "mean") return nn::Reduction::mean;
    if (s == "sum") return nn::Reduction::sum;
    REQUIRE(s == "none");
    return nn::Reduction::none;
}

dc::Tensor as(const dc::Tensor& t, dc::Dtype dtype) {
    return t.defined() ? t.to(dtype) : t;
}

/// The descent loss of fixture case `name` on input x and target y (weights in x's dtype).
dc::Tensor run_case(const std::string& name, const nlohmann::json& meta, const dc::Tensor& x,
                    const dc::Tensor& y) {
    const Fixture& f = fixture();
    const std::string loss = meta.at("loss");
    const nn::Reduction red = reduction_of(meta.at("reduction"));
    const dc::Tensor weight = as(f.get(name + ".weight"), x.dtype());
    if (loss == "cross_entropy" || loss == "nll_loss") {
        const nn::CrossEntropyOptions o{.reduction = red,
                                        .ignore_index = meta.at("ignore_index"),
                                        .label_smoothing = meta.at("label_smoothing"),
                                        .weight = weight};
        return loss == "cross_entropy" ? nn::cross_entropy(x, y, o) : nn::nll_loss(x, y, o);
    }
    if (loss == "bce_with_logits") {
        return nn::binary_cross_entropy_with_logits(
            x, y,
            {.reduction = red,
             .weight = weight,
             .pos_weight = as(f.get(name + ".pos_weight"), x.dtype())});
    }
    REQUIRE(loss == "bce");
    return nn::binary_cross_entropy(x, y, {.reduction = red, .weight = weight});
}

/// The shared check with the loss tests' floor: 1e-14, about one ulp of the largest logits.
void check_close(const dc::Tensor& a, const dc::Tensor& b, double tol, const std::string& what,
                 double floor = 1e-14) {
    descent::testing::check_close(a, b, what, tol, floor);
}
}  // namespace

TEST_CASE("losses match torch in float64: value and gradients", "[loss][nn]") {
    const Fixture& f = fixture();
    REQUIRE(f.cases.size() == 244);
    for (const auto& [name, meta] : f.cases) {
        INFO(name);
        const dc::Tensor target = f.tensors.at(name + ".target");
        const bool floating_target = dc::is_floating(target.dtype());
        const bool grad = meta.at("grad");
        dc::Tensor x = f.tensors.at(name + ".input").clone().requires_grad_(grad);
        dc::Tensor y = target.clone();
        if (floating_target) y.requires_grad_(grad);
        const dc::Tensor loss = run_case(name, meta, x, y);
        CHECK(loss.dtype() == dc::float64);
        check_close(loss, f.tensors.at(name + ".loss"), 1e-12, name + " loss");
        if (!grad) continue;
        const dc::Tensor r = f.get(name + ".out_weight");
        (r.defined() ? (loss * r).sum() : loss).backward();
        check_close(x.grad(), f.tensors.at(name + ".grad.input"), 1e-12, name + " grad input");
        if (floating_target) {
            check_close(y.grad(), f.tensors.at(name + ".grad.target"), 1e-12,
                        name + " grad target");
        }
    }
}

TEST_CASE("losses of float32 inputs are float32 and close to torch's float64", "[loss][nn]") {
    const Fixture& f = fixture();
    for (const auto& [name, meta] : f.cases) {
        INFO(name);
        const dc::Tensor target = f.tensors.at(name + ".target");
        const dc::Tensor x = f.tensors.at(name + ".input").to(dc::float32);
        const dc::Tensor y = dc::is_floating(target.dtype()) ? target.to(dc::float32) : target;
        const dc::Tensor loss = run_case(name, meta, x, y);
        CHECK(loss.dtype() == dc::float32);
        check_close(loss, f.tensors.at(name + ".loss"), 1e-5, name + " float32 loss", 1e-5);
    }
}

TEST_CASE("nll_loss of log_softmax is cross_entropy, label smoothing included", "[loss][nn]") {
    const Fixture& f = fixture();
    for (const std::string name : {"ce_r3_none_w_ls0.3", "ce_r4_mean_w_ls0.1", "ce_r1_sum_nw_ls0.3",
                                   "ce_ignore1_mean", "ce_allignored_sum_w_ls0.3"}) {
        INFO(name);
        const nlohmann::json& meta = f.cases.at(name);
        const dc::Tensor x = f.tensors.at(name + ".input");
        const dc::Tensor y = f.tensors.at(name + ".target");
        const nn::CrossEntropyOptions o{.reduction = reduction_of(meta.at("reduction")),
                                        .ignore_index = meta.at("ignore_index"),
                                        .label_smoothing = meta.at("label_smoothing"),
                                        .weight = f.get(name + ".weight")};
        const std::int64_t class_dim = x.dim() == 1 ? 0 : 1;
        check_close(nn::nll_loss(dc::log_softmax(x, class_dim), y, o), nn::cross_entropy(x, y, o),
                    1e-14, name);
    }
}

TEST_CASE("loss modules call their functional forms and hold weights as buffers", "[loss][nn]") {
    const Fixture& f = fixture();
    SECTION("CrossEntropyLoss with class weights") {
        const std::string name = "ce_r3_mean_w_ls0.1";
        const dc::Tensor w = f.tensors.at(name + ".weight");
        nn::CrossEntropyLoss loss({.label_smoothing = 0.1, .weight = w});
        const auto state = loss.state_dict();
        REQUIRE(state.size() == 1);
        CHECK(state[0].first == "weight");
        check_close(loss(f.tensors.at(name + ".input"), f.tensors.at(name + ".target")),
                    f.tensors.at(name + ".loss"), 1e-12, name);
        CHECK(nn::to_string(loss).find("CrossEntropyLoss()") != std::string::npos);
        CHECK_THROWS_WITH(loss.Module::forward(dc::zeros({2})),
                          Catch::Contains("CrossEntropyLoss"));
    }
    SECTION("NLLLoss, BCEWithLogitsLoss, BCELoss") {
        std::string name = "nll_r2_sum_w";
        nn::NLLLoss nll(
            {.reduction = nn::Reduction::sum, .weight = f.tensors.at(name + ".weight")});
        check_close(nll(f.tensors.at(name + ".input"), f.tensors.at(name + ".target")),
                    f.tensors.at(name + ".loss"), 1e-12, name);
        name = "bcel_r2_none_both";
        nn::BCEWithLogitsLoss bcel({.reduction = nn::Reduction::none,
                                    .weight = f.tensors.at(name + ".weight"),
                                    .pos_weight = f.tensors.at(name + ".pos_weight")});
        CHECK(bcel.state_dict().size() == 2);
        check_close(bcel(f.tensors.at(name + ".input"), f.tensors.at(name + ".target")),
                    f.tensors.at(name + ".loss"), 1e-12, name);
        name = "bce_r3_sum_wlast";
        nn::BCELoss bce(
            {.reduction = nn::Reduction::sum, .weight = f.tensors.at(name + ".weight")});
        check_close(bce(f.tensors.at(name + ".input"), f.tensors.at(name + ".target")),
                    f.tensors.at(name + ".loss"), 1e-12, name);
        bce.to(dc::float32);  // the buffer follows the module's dtype
        CHECK(bce.weight().dtype() == dc::float32);
        CHECK(bce(f.tensors.at(name + ".input").to(dc::float32),
                  f.tensors.at(name + ".target").to(dc::float32))
                  .dtype() == dc::float32);
    }
    SECTION("MSELoss, L1Loss, HuberLoss") {
        const dc::Tensor a = dc::tensor({0.0, 1.0, 4.0}, {3}, {.dtype = dc::float64});
        const dc::Tensor b = dc::tensor({1.0, 1.0, 1.0}, {3}, {.dtype = dc::float64});
        CHECK(nn::MSELoss()(a, b).item() == Approx(10.0 / 3).epsilon(1e-15));
        CHECK(nn::L1Loss(nn::Reduction::sum)(a, b).item() == 4.0);
        CHECK(nn::HuberLoss(nn::Reduction::sum, 2.0)(a, b).item() == Approx(0.5 + 2 * (3 - 1)));
        CHECK_THROWS_WITH(nn::HuberLoss(nn::Reduction::mean, -1.0), Catch::Contains("HuberLoss"));
    }
}

namespace {
dc::Tensor randn64(const dc::Shape& s, double scale = 1.0) {
    return (dc::randn(s, {.dtype = dc::float64}) * scale).requires_grad_();
}
dc::Tensor probabilities(const dc::Shape& s, std::int64_t dim) {
    return dc::softmax(dc::randn(s, {.dtype = dc::float64}), dim).requires_grad_();
}
void check_both(const dc::GradcheckScalarFn& fn, const Inputs& in) {
    CHECK_NOTHROW(dc::gradcheck(fn, in));
    CHECK_NOTHROW(dc::gradgradcheck(fn, in));
}
/// A scalar of any loss: the sum of the losses weighted by a fixed R (reduction none).
dc::Tensor weighted_sum(const dc::Tensor& loss) {
    const dc::Tensor r =
        dc::linspace(0.5, 1.5, std::max<std::int64_t>(loss.numel(), 1), {.dtype = dc::float64});
    return (loss * r.slice(0, 0, loss.numel()).reshape(loss.shape())).sum();
}
}  // namespace

TEST_CASE("every loss variant passes gradcheck and gradgradcheck in float64",
          "[loss][nn][gradcheck]") {
    dc::manual_seed(31);
    const dc::Tensor w = dc::tensor({0.5, 2.0, 1.0}, {3}, {.dtype = dc::float64});
    SECTION("cross_entropy with class indices, ranks 1 to 4, every option") {
        const std::vector<std::pair<dc::Shape, dc::Tensor>> cases = {
            {{3}, dc::int_tensor({2}, {})},
            {{4, 3}, dc::int_tensor({2, -100, 0, 1}, {4})},
            {{2, 3, 3}, dc::int_tensor({0, 1, -100, 2, 2, 0}, {2, 3})},
            {{2, 3, 2, 2}, dc::int_tensor({0, 1, -100, 2, 2, 0, 1, -100}, {2, 2, 2})}};
        for (const auto& [shape, y] : cases) {
            INFO(dc::shape_str(shape));
            for (const nn::Reduction red :
                 {nn::Reduction::mean, nn::Reduction::sum, nn::Reduction::none}) {
                for (const double eps : {0.0, 0.3}) {
                    for (const bool weighted : {false, true}) {
                        const nn::CrossEntropyOptions o{.reduction = red,
                                                        .label_smoothing = eps,
                                                        .weight = weighted ? w : dc::Tensor{}};
                        check_both(
                            [&](const Inputs& in) {
                                return weighted_sum(nn::cross_entropy(in[0], y, o));
                            },
                            {randn64(shape, 2.0)});
                    }
                }
            }
        }
    }
    SECTION("cross_entropy with probability targets: logits and targets") {
        for (const dc::Shape& shape : {dc::Shape{3}, dc::Shape{4, 3}, dc::Shape{2, 3, 2}}) {
            const std::int64_t cd = shape.size() == 1 ? 0 : 1;
            for (const nn::Reduction red : {nn::Reduction::mean, nn::Reduction::none}) {
                const nn::CrossEntropyOptions o{
                    .reduction = red, .label_smoothing = 0.2, .weight = w};
                check_both(
                    [&](const Inputs& in) {
                        return weighted_sum(nn::cross_entropy(in[0], in[1], o));
                    },
                    {randn64(shape, 2.0), probabilities(shape, cd)});
            }
        }
    }
    SECTION("nll_loss with weights and ignored targets") {
        const dc::Tensor y = dc::int_tensor({0, 1, -100, 2, 2, 0}, {2, 3});
        for (const nn::Reduction red : {nn::Reduction::mean, nn::Reduction::none}) {
            check_both(
                [&](const Inputs& in) {
                    return weighted_sum(nn::nll_loss(dc::log_softmax(in[0], 1), y,
                                                     {.reduction = red, .weight = w}));
                },
                {randn64({2, 3, 3})});
        }
    }
    SECTION("binary_cross_entropy_with_logits with weight and pos_weight") {
        const dc::Tensor pos = dc::tensor({0.5, 3.0, 1.5}, {3}, {.dtype = dc::float64});
        const dc::Tensor wt = dc::tensor({1.0, 0.2}, {2, 1}, {.dtype = dc::float64});
        for (const nn::Reduction red :
             {nn::Reduction::mean, nn::Reduction::sum, nn::Reduction::none}) {
            check_both(
                [&](const Inputs& in) {
                    return weighted_sum(nn::binary_cross_entropy_with_logits(
                        in[0], in[1], {.reduction = red, .weight = wt, .pos_weight = pos}));
                },
                {randn64({2, 3}, 2.0),
                 dc::rand({2, 3}, {.dtype = dc::float64, .requires_grad = true})});
        }
    }
    SECTION("binary_cross_entropy with weight: inputs and targets") {
        const dc::Tensor wt = dc::tensor({1.0, 0.2, 2.0}, {3}, {.dtype = dc::float64});
        for (const nn::Reduction red : {nn::Reduction::mean, nn::Reduction::none}) {
            check_both(
                [&](const Inputs& in) {
                    return weighted_sum(
                        nn::binary_cross_entropy(in[0], in[1], {.reduction = red, .weight = wt}));
                },
                {(dc::rand({2, 3}, {.dtype = dc::float64}) * 0.8 + 0.1).requires_grad_(),
                 dc::rand({2, 3}, {.dtype = dc::float64, .requires_grad = true})});
        }
    }
}

TEST_CASE("binary_cross_entropy has a finite gradient where its logs clamp", "[loss][nn]") {
    dc::Tensor x = dc::tensor({0.0, 1.0, 0.5}, {3}, {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor y = dc::tensor({1.0, 0.0, 0.5}, {3}, {.dtype = dc::float64});
    const dc::Tensor loss = nn::binary_cross_entropy(x, y, {.reduction = nn::Reduction::sum});
    CHECK(loss.item() == Approx(200.0 + std::log(2.0)).epsilon(1e-15));
    loss.backward();
    const auto g = x.grad().to_vector();
    CHECK(g[0] == 0.0);  // the derivative of the clamped −100
    CHECK(g[1] == 0.0);
    CHECK(g[2] == Approx(0.0).margin(1e-15));
}
