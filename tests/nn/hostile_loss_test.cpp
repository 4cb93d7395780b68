// Hostile input to the losses: targets out of range, mismatched shapes and dtypes, bad weights
// and options, empty and rank-0 inputs. Each is an Error naming the loss and the values, or
// (empty batches, every target ignored) torch's NaN mean.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <limits>

namespace dc = descent;
namespace nn = descent::nn;
using Catch::Contains;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
dc::Tensor f64(const dc::Shape& s, double v = 0.0) {
    return dc::full(s, v, {.dtype = dc::float64});
}
dc::Tensor vec64(const std::vector<double>& v) {
    return dc::tensor(v, {static_cast<std::int64_t>(v.size())}, {.dtype = dc::float64});
}
}  // namespace

TEST_CASE("hostile loss: class targets out of range name the loss and the target", "[loss]") {
    const dc::Tensor x = f64({2, 3, 2});
    CHECK_THROWS_AS(nn::cross_entropy(x, dc::int_tensor({0, 1, 3, 0}, {2, 2})), dc::IndexError);
    CHECK_THROWS_WITH(nn::cross_entropy(x, dc::int_tensor({0, 1, 3, 0}, {2, 2})),
                      Contains("cross_entropy") && Contains("target 3") && Contains("3 classes"));
    CHECK_THROWS_WITH(nn::nll_loss(x, dc::int_tensor({0, -1, 2, 0}, {2, 2})),
                      Contains("nll_loss") && Contains("target -1"));
    // -100 is only ignored while it is the ignore_index
    CHECK_THROWS_WITH(
        nn::cross_entropy(x, dc::int_tensor({0, -100, 2, 0}, {2, 2}), {.ignore_index = 1}),
        Contains("cross_entropy") && Contains("target -100"));
    const std::int64_t huge = std::numeric_limits<std::int64_t>::max();
    CHECK_THROWS_WITH(nn::cross_entropy(f64({3}), dc::int_tensor({huge}, {})),
                      Contains("cross_entropy") && Contains(std::to_string(huge)));
    CHECK_NOTHROW(nn::cross_entropy(f64({3}), dc::int_tensor({huge}, {}), {.ignore_index = huge}));
}

TEST_CASE("hostile loss: class targets of the wrong shape", "[loss]") {
    CHECK_THROWS_AS(nn::cross_entropy(f64({2, 3, 4}), dc::int_tensor({0, 1}, {2})), dc::ShapeError);
    CHECK_THROWS_WITH(
        nn::cross_entropy(f64({2, 3, 4}), dc::int_tensor(std::vector<std::int64_t>(10, 0), {2, 5})),
        Contains("cross_entropy") && Contains("[2,4]") && Contains("[2,5]"));
    CHECK_THROWS_WITH(nn::nll_loss(f64({2, 3}), dc::int_tensor({0, 1, 2}, {3})),
                      Contains("nll_loss") && Contains("[2]") && Contains("[3]"));
    CHECK_THROWS_WITH(nn::cross_entropy(f64({3}), dc::int_tensor({0}, {1})),
                      Contains("cross_entropy") && Contains("[]"));
    CHECK_THROWS_WITH(nn::cross_entropy(f64({2, 3}), dc::int_tensor({0, 1}, {2, 1})),
                      Contains("cross_entropy") && Contains("[2,1]"));
}

TEST_CASE("hostile loss: class weights of the wrong size, dtype or values", "[loss]") {
    const dc::Tensor x = f64({2, 3}), y = dc::int_tensor({0, 2}, {2});
    CHECK_THROWS_AS(nn::cross_entropy(x, y, {.weight = vec64({1, 1, 1, 1})}), dc::ShapeError);
    CHECK_THROWS_WITH(nn::cross_entropy(x, y, {.weight = vec64({1, 1, 1, 1})}),
                      Contains("cross_entropy") && Contains("weight") && Contains("[4]"));
    CHECK_THROWS_WITH(nn::nll_loss(x, y, {.weight = f64({1, 3}, 1.0)}),
                      Contains("nll_loss") && Contains("[1,3]"));
    CHECK_THROWS_AS(nn::cross_entropy(x, y, {.weight = dc::ones({3})}), dc::DtypeError);
    CHECK_THROWS_WITH(nn::cross_entropy(x, y, {.weight = dc::ones({3})}),
                      Contains("cross_entropy") && Contains("float32"));
    CHECK_THROWS_WITH(nn::cross_entropy(x, y, {.weight = vec64({1, kNaN, 1})}),
                      Contains("cross_entropy") && Contains("weight") && Contains("nan"));
    CHECK_THROWS_WITH(nn::nll_loss(x, y, {.weight = vec64({1, -1, 1})}),
                      Contains("nll_loss") && Contains("-1"));
    CHECK_THROWS_WITH(nn::cross_entropy(x, y, {.weight = vec64({1, kInf, 1})}), Contains("inf"));
    // probability targets check the weight too
    CHECK_THROWS_WITH(nn::cross_entropy(x, f64({2, 3}, 0.5), {.weight = vec64({1, 1})}),
                      Contains("cross_entropy") && Contains("[2]"));
    CHECK_THROWS_WITH(nn::CrossEntropyLoss({.weight = vec64({1, kNaN})}),
                      Contains("CrossEntropyLoss") && Contains("nan"));
    CHECK_THROWS_AS(nn::NLLLoss({.weight = dc::int_tensor({1, 2}, {2})}), dc::DtypeError);
}

TEST_CASE("hostile loss: label_smoothing NaN or outside [0, 1]", "[loss]") {
    const dc::Tensor x = f64({2, 3}), y = dc::int_tensor({0, 2}, {2}), p = f64({2, 3}, 1.0 / 3);
    for (const double eps : {kNaN, -0.1, 1.5, kInf}) {
        CHECK_THROWS_WITH(nn::cross_entropy(x, y, {.label_smoothing = eps}),
                          Contains("cross_entropy") && Contains("label_smoothing"));
        CHECK_THROWS_WITH(nn::cross_entropy(x, p, {.label_smoothing = eps}),
                          Contains("cross_entropy") && Contains("label_smoothing"));
        CHECK_THROWS_WITH(nn::nll_loss(x, y, {.label_smoothing = eps}), Contains("nll_loss"));
        CHECK_THROWS_WITH(nn::CrossEntropyLoss({.label_smoothing = eps}),
                          Contains("CrossEntropyLoss"));
    }
    CHECK_NOTHROW(nn::cross_entropy(x, y, {.label_smoothing = 1.0}));
}

TEST_CASE("hostile loss: probability targets of the wrong shape or dtype", "[loss]") {
    const dc::Tensor x = f64({2, 3});
    // not the logits' shape: taken for class indices, which must be int64
    CHECK_THROWS_AS(nn::cross_entropy(x, f64({2, 4}, 0.25)), dc::DtypeError);
    CHECK_THROWS_WITH(nn::cross_entropy(x, f64({2, 4}, 0.25)),
                      Contains("cross_entropy") && Contains("int64") && Contains("[2,4]"));
    CHECK_THROWS_WITH(nn::cross_entropy(x, dc::int_tensor({0, 1, 2, 0, 1, 2}, {2, 3})),
                      Contains("cross_entropy") && Contains("probabilities") && Contains("int64"));
    CHECK_THROWS_WITH(nn::cross_entropy(x, dc::full({2, 3}, 0.5)),
                      Contains("cross_entropy") && Contains("float32"));
    CHECK_THROWS_WITH(nn::cross_entropy(x, f64({2, 3}, 0.5), {.ignore_index = 0}),
                      Contains("cross_entropy") && Contains("ignore_index 0"));
    CHECK_NOTHROW(nn::cross_entropy(x, f64({2, 3}, 0.5), {.ignore_index = -1}));
}

TEST_CASE("hostile loss: nll_loss refuses floating targets, the losses int64 inputs", "[loss]") {
    CHECK_THROWS_AS(nn::nll_loss(f64({2, 3}), f64({2, 3})), dc::DtypeError);
    CHECK_THROWS_WITH(nn::nll_loss(f64({2, 3}), f64({2, 3})),
                      Contains("nll_loss") && Contains("int64") && Contains("float64"));
    const dc::Tensor ints = dc::int_tensor({0, 1, 2, 0, 1, 2}, {2, 3});
    CHECK_THROWS_AS(nn::cross_entropy(ints, dc::int_tensor({0, 1}, {2})), dc::DtypeError);
    CHECK_THROWS_WITH(nn::cross_entropy(ints, dc::int_tensor({0, 1}, {2})),
                      Contains("cross_entropy") && Contains("int64"));
    CHECK_THROWS_WITH(nn::nll_loss(ints, dc::int_tensor({0, 1}, {2})), Contains("nll_loss"));
    CHECK_THROWS_WITH(nn::binary_cross_entropy_with_logits(ints, ints),
                      Contains("binary_cross_entropy_with_logits") && Contains("int64"));
    CHECK_THROWS_WITH(nn::binary_cross_entropy(ints, ints), Contains("binary_cross_entropy"));
    CHECK_THROWS_AS(nn::cross_entropy(dc::Tensor{}, dc::int_tensor({0}, {})), dc::Error);
    CHECK_THROWS_AS(nn::binary_cross_entropy(dc::Tensor{}, dc::Tensor{}), dc::Error);
}

TEST_CASE("hostile loss: rank-0 inputs and inputs without classes", "[loss]") {
    CHECK_THROWS_AS(nn::cross_entropy(f64({}), dc::int_tensor({0}, {})), dc::ShapeError);
    CHECK_THROWS_WITH(nn::cross_entropy(f64({}), dc::int_tensor({0}, {})),
                      Contains("cross_entropy") && Contains("0-d"));
    CHECK_THROWS_WITH(nn::cross_entropy(f64({}), f64({})), Contains("cross_entropy"));
    CHECK_THROWS_WITH(nn::nll_loss(f64({}), dc::int_tensor({0}, {})), Contains("nll_loss"));
    CHECK_THROWS_WITH(nn::cross_entropy(f64({2, 0}), dc::int_tensor({-100, -100}, {2})),
                      Contains("cross_entropy") && Contains("no classes"));
    CHECK_THROWS_WITH(nn::cross_entropy(f64({0}), dc::int_tensor({0}, {})), Contains("no classes"));
}

TEST_CASE("hostile loss: empty batches and all-ignored targets give torch's NaN mean", "[loss]") {
    // N = 0: mean is 0/0 = NaN as in torch; sum is 0; none is empty.
    dc::Tensor x = f64({0, 3, 2});
    x.requires_grad_();
    const dc::Tensor y = dc::int_tensor({}, {0, 2});
    const dc::Tensor mean = nn::cross_entropy(x, y);
    CHECK(std::isnan(mean.item()));
    CHECK(nn::cross_entropy(x, y, {.reduction = nn::Reduction::sum}).item() == 0.0);
    CHECK(nn::cross_entropy(x, y, {.reduction = nn::Reduction::none}).shape() == dc::Shape{0, 2});
    CHECK(std::isnan(nn::nll_loss(f64({0, 3}), dc::int_tensor({}, {0})).item()));
    CHECK(std::isnan(nn::cross_entropy(f64({0, 3}), f64({0, 3})).item()));
    CHECK(std::isnan(nn::binary_cross_entropy_with_logits(f64({0}), f64({0})).item()));
    CHECK(std::isnan(nn::binary_cross_entropy(f64({0}), f64({0})).item()));
    mean.backward();
    CHECK(x.grad().shape() == dc::Shape{0, 3, 2});
    // every target ignored: NaN mean, zero gradient (as torch's)
    dc::Tensor z = dc::randn({2, 3}, {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor ignored = dc::int_tensor({-100, -100}, {2});
    const dc::Tensor all = nn::cross_entropy(z, ignored, {.label_smoothing = 0.2});
    CHECK(std::isnan(all.item()));
    all.backward();
    for (const double g : z.grad().to_vector()) CHECK(g == 0.0);
}

TEST_CASE("hostile loss: binary losses' shapes, weights and probabilities", "[loss]") {
    constexpr std::string_view bcel = "binary_cross_entropy_with_logits";
    const dc::Tensor x = f64({2, 3}), y = f64({2, 3}, 0.5);
    CHECK_THROWS_WITH(nn::binary_cross_entropy_with_logits(x, f64({2, 1})),
                      Contains(std::string(bcel)) && Contains("[2,1]"));
    CHECK_THROWS_AS(nn::binary_cross_entropy_with_logits(x, y, {.pos_weight = vec64({1, 2})}),
                    dc::ShapeError);
    CHECK_THROWS_WITH(nn::binary_cross_entropy_with_logits(x, y, {.pos_weight = vec64({1, 2})}),
                      Contains(std::string(bcel)) && Contains("pos_weight") && Contains("[2]") &&
                          Contains("[2,3]"));
    // broadcasting may not grow the loss's shape
    CHECK_THROWS_WITH(nn::binary_cross_entropy_with_logits(x, y, {.pos_weight = f64({2, 2, 3})}),
                      Contains("pos_weight") && Contains("[2,2,3]"));
    CHECK_THROWS_WITH(nn::binary_cross_entropy_with_logits(x, y, {.weight = f64({3, 3})}),
                      Contains(std::string(bcel)) && Contains("weight") && Contains("[3,3]"));
    CHECK_THROWS_WITH(
        nn::binary_cross_entropy_with_logits(x, y, {.pos_weight = vec64({1, kNaN, 1})}),
        Contains("pos_weight") && Contains("nan"));
    CHECK_THROWS_WITH(nn::binary_cross_entropy_with_logits(x, y, {.pos_weight = vec64({1, -2, 1})}),
                      Contains("pos_weight") && Contains("-2"));
    CHECK_THROWS_AS(nn::binary_cross_entropy_with_logits(x, y, {.weight = dc::ones({3})}),
                    dc::DtypeError);
    CHECK_NOTHROW(nn::binary_cross_entropy_with_logits(x, y, {.pos_weight = f64({2, 1}, 2.0)}));
    CHECK_NOTHROW(nn::binary_cross_entropy_with_logits(x, y, {.weight = f64({}, 2.0)}));
    CHECK_THROWS_WITH(nn::BCEWithLogitsLoss({.pos_weight = vec64({-1})}),
                      Contains("BCEWithLogitsLoss") && Contains("pos_weight"));
    // probabilities outside [0, 1], NaN included
    for (const double bad : {1.5, -0.25, kNaN}) {
        const dc::Tensor p = vec64({0.5, bad});
        CHECK_THROWS_WITH(
            nn::binary_cross_entropy(p, vec64({0, 1})),
            Contains("binary_cross_entropy") && Contains("[0, 1]") && Contains("index 1"));
    }
    CHECK_THROWS_WITH(nn::binary_cross_entropy(f64({2, 3}, 0.5), y, {.weight = vec64({1, 1})}),
                      Contains("binary_cross_entropy") && Contains("weight"));
    CHECK_THROWS_WITH(nn::binary_cross_entropy(f64({2, 3}, 0.5), f64({3}, 0.5)),
                      Contains("binary_cross_entropy") && Contains("[3]"));
    CHECK_THROWS_WITH(nn::BCELoss({.weight = vec64({kInf})}), Contains("BCELoss"));
}
