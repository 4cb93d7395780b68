// Hostile use of nn: NaN and out-of-range options of every layer, loss, initialiser and data
// helper; sizes that used to divide by zero; errors that must name the layer or loss the user
// called; Module::to converting in place so that an optimizer built before keeps working.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <limits>

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
using Catch::Contains;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

TEST_CASE("hostile nn: Dropout refuses NaN and out-of-range p", "[hostile][nn]") {
    CHECK_THROWS_WITH(nn::Dropout(kNaN), Contains("Dropout") && Contains("p"));
    CHECK_THROWS_AS(nn::Dropout(-0.1), dc::Error);
    CHECK_THROWS_AS(nn::Dropout(1.5), dc::Error);
    CHECK_THROWS_WITH(nn::functional::dropout(dc::ones({2}), kNaN), Contains("dropout"));
    CHECK_NOTHROW(nn::Dropout(1.0));
}

TEST_CASE("hostile nn: cross_entropy label_smoothing outside [0, 1]", "[hostile][nn]") {
    const dc::Tensor logits = dc::zeros({2, 3}), target = dc::int_tensor({0, 1}, {2});
    CHECK_THROWS_WITH(nn::cross_entropy(logits, target, {.label_smoothing = 2}),
                      Contains("cross_entropy") && Contains("label_smoothing"));
    CHECK_THROWS_AS(nn::cross_entropy(logits, target, {.label_smoothing = -0.5}), dc::Error);
    CHECK_THROWS_AS(nn::cross_entropy(logits, target, {.label_smoothing = kNaN}), dc::Error);
    CHECK_THROWS_AS(nn::nll_loss(logits, target, {.label_smoothing = kNaN}), dc::Error);
}

TEST_CASE("hostile nn: cross_entropy shapes and dtypes name cross_entropy", "[hostile][nn]") {
    const dc::Tensor target = dc::int_tensor({0, 1}, {2});
    CHECK_THROWS_WITH(nn::cross_entropy(dc::zeros({2, 3, 4}), target), Contains("cross_entropy"));
    CHECK_THROWS_WITH(nn::cross_entropy(dc::zeros({3}), target), Contains("cross_entropy"));
    CHECK_THROWS_WITH(nn::cross_entropy(dc::zeros({2, 3}), dc::zeros({2})),
                      Contains("cross_entropy") && Contains("int64"));
    CHECK_THROWS_WITH(nn::cross_entropy(dc::zeros({2, 3}, {.dtype = dc::int64}), target),
                      Contains("cross_entropy"));
    CHECK_THROWS_WITH(nn::cross_entropy(dc::zeros({2, 3}), dc::int_tensor({0, 3}, {2})),
                      Contains("cross_entropy") && Contains("out of range"));
    CHECK_THROWS_AS(nn::cross_entropy(dc::Tensor{}, target), dc::Error);
}

TEST_CASE("hostile nn: huber_loss refuses a NaN or non-positive delta", "[hostile][nn]") {
    const dc::Tensor a = dc::ones({2}), b = dc::zeros({2});
    CHECK_THROWS_WITH(nn::huber_loss(a, b, nn::Reduction::mean, kNaN), Contains("huber_loss"));
    CHECK_THROWS_AS(nn::huber_loss(a, b, nn::Reduction::mean, 0.0), dc::Error);
    CHECK_THROWS_AS(nn::huber_loss(a, b, nn::Reduction::mean, -1.0), dc::Error);
}

TEST_CASE("hostile nn: losses with mismatched dtypes name the loss", "[hostile][nn]") {
    const dc::Tensor a = dc::ones({2}), b = dc::zeros({2}, {.dtype = dc::float64});
    CHECK_THROWS_WITH(nn::mse_loss(a, b), Contains("mse_loss") && Contains("float64"));
    CHECK_THROWS_WITH(nn::l1_loss(a, b), Contains("l1_loss"));
    CHECK_THROWS_WITH(nn::huber_loss(a, b), Contains("huber_loss"));
    CHECK_THROWS_WITH(nn::binary_cross_entropy_with_logits(a, b),
                      Contains("binary_cross_entropy_with_logits"));
    CHECK_THROWS_WITH(nn::mse_loss(a, dc::ones({3})), Contains("mse_loss") && Contains("[3]"));
}

TEST_CASE("hostile nn: BatchNorm1d(0) on a [4, 0] input", "[hostile][nn]") {
    nn::BatchNorm1d bn(0);
    const dc::Tensor y = bn(dc::zeros({4, 0}));
    CHECK(y.shape() == dc::Shape{4, 0});
    bn.eval();
    CHECK(bn(dc::zeros({4, 0})).shape() == dc::Shape{4, 0});
}

TEST_CASE("hostile nn: BatchNorm1d options and sizes", "[hostile][nn]") {
    CHECK_THROWS_WITH(nn::BatchNorm1d(-3), Contains("BatchNorm1d"));
    CHECK_THROWS_WITH(nn::BatchNorm1d(4, kNaN), Contains("BatchNorm1d") && Contains("eps"));
    CHECK_THROWS_WITH(nn::BatchNorm1d(4, 1e-5, kNaN), Contains("momentum"));
    CHECK_THROWS_AS(nn::BatchNorm1d(4, 1e-5, 1.5), dc::Error);
    nn::BatchNorm1d bn(4);
    CHECK_THROWS_WITH(bn(dc::ones({1, 4})), Contains("batch_norm"));
    CHECK_THROWS_WITH(bn(dc::ones({8, 3})), Contains("batch_norm"));
    CHECK_THROWS_WITH(bn(dc::ones({8, 4}, {.dtype = dc::float64})), Contains("batch_norm"));
}

TEST_CASE("hostile nn: LayerNorm of an empty or negative shape", "[hostile][nn]") {
    CHECK_THROWS_WITH(nn::LayerNorm(dc::Shape{}), Contains("LayerNorm"));
    CHECK_THROWS_WITH(nn::LayerNorm(dc::Shape{-2}), Contains("LayerNorm"));
    CHECK_THROWS_WITH(nn::LayerNorm(dc::Shape{4}, kNaN), Contains("eps"));
    CHECK_THROWS_WITH(nn::functional::layer_norm(dc::ones({2, 3}), {}), Contains("layer_norm"));
}

TEST_CASE("hostile nn: Embedding sizes and indices name embedding", "[hostile][nn]") {
    CHECK_THROWS_WITH(nn::Embedding(-1, 3), Contains("Embedding"));
    CHECK_THROWS_WITH(nn::Embedding(3, -1), Contains("Embedding"));
    nn::Embedding emb(5, 2);
    CHECK_THROWS_WITH(emb(dc::int_tensor({7}, {1})), Contains("embedding") && Contains("7"));
    CHECK_THROWS_WITH(emb(dc::int_tensor({-1}, {1})), Contains("embedding"));
    CHECK_THROWS_WITH(emb(dc::ones({1})), Contains("embedding") && Contains("int64"));
    CHECK(emb(dc::int_tensor({4, 0}, {2})).shape() == dc::Shape{2, 2});
}

TEST_CASE("hostile nn: Linear with bad sizes or mismatched inputs names linear", "[hostile][nn]") {
    CHECK_THROWS_WITH(nn::Linear(0, 3), Contains("Linear"));
    CHECK_THROWS_WITH(nn::Linear(3, -2), Contains("Linear"));
    CHECK_THROWS_AS(nn::Linear(std::int64_t{1} << 32, std::int64_t{1} << 32), dc::ShapeError);
    nn::Linear lin(3, 2);
    CHECK_THROWS_WITH(lin(dc::ones({4, 5})), Contains("linear"));
    CHECK_THROWS_WITH(lin(dc::ones({4, 3}, {.dtype = dc::float64})), Contains("linear"));
}

TEST_CASE("hostile nn: Sequential index out of range is an IndexError", "[hostile][nn]") {
    nn::Sequential model{nn::Linear(2, 2), nn::ReLU()};
    CHECK_THROWS_AS(model[2], dc::IndexError);
    CHECK_THROWS_AS(model.at<nn::Linear>(5), dc::IndexError);
    CHECK_THROWS_AS(model.at<nn::Linear>(1), dc::Error);
    CHECK_NOTHROW(model.at<nn::Linear>(0));
}

TEST_CASE("hostile nn: a Lambda with an empty function", "[hostile][nn]") {
    CHECK_THROWS_AS(nn::Lambda(nullptr), dc::Error);
}

TEST_CASE("hostile nn: Module::to(int64) is refused before anything changes", "[hostile][nn]") {
    nn::Sequential model{nn::Linear(2, 3), nn::Linear(3, 1)};
    CHECK_THROWS_AS(model.to(dc::int64), dc::DtypeError);
    CHECK_THROWS_AS(model.to(dc::boolean), dc::DtypeError);
    for (const auto& p : model.parameters()) CHECK(p.dtype() == dc::float32);
}

TEST_CASE("hostile nn: Module::to keeps the parameter tensors, so optimizers train",
          "[hostile][nn]") {
    dc::manual_seed(0);
    nn::Linear model(3, 1);
    const std::vector<dc::Tensor> before = model.parameters();
    dc::optim::SGD sgd(model.parameters(), {.lr = 0.1});
    model.to(dc::float64);
    const std::vector<dc::Tensor> after = model.parameters();
    for (std::size_t i = 0; i < before.size(); ++i) {
        CHECK(before[i].is_same(after[i]));
        CHECK(before[i].dtype() == dc::float64);
        CHECK(before[i].requires_grad());
    }
    const dc::Tensor w0 = model.weight().detach().clone();
    nn::mse_loss(model(dc::ones({4, 3}, {.dtype = dc::float64})),
                 dc::zeros({4, 1}, {.dtype = dc::float64}))
        .backward();
    sgd.step();
    CHECK(model.weight().to_vector() != w0.to_vector());
}

TEST_CASE("hostile nn: Module::to after steps converts the optimizer's state too",
          "[hostile][nn]") {
    dc::manual_seed(0);
    nn::Linear model(3, 1);
    dc::optim::Adam adam(model.parameters(), {.lr = 0.1});
    const dc::Tensor x = dc::ones({4, 3}), y = dc::zeros({4, 1});
    nn::mse_loss(model(x), y).backward();
    adam.step();
    model.to(dc::float64);
    model.zero_grad();
    nn::mse_loss(model(x.to(dc::float64)), y.to(dc::float64)).backward();
    CHECK_NOTHROW(adam.step());
    CHECK(adam.state_dict().at("state.0.0.exp_avg").dtype() == dc::float64);
}

TEST_CASE("hostile nn: load_state_dict with undefined or mismatched tensors", "[hostile][nn]") {
    nn::Linear a(2, 2);
    dc::NamedTensors state = a.state_dict();
    const std::vector<double> weights = a.weight().to_vector();
    state[0].second = dc::Tensor{};
    CHECK_THROWS_WITH(a.load_state_dict(state), Contains("undefined"));
    state[0].second = dc::zeros({3, 3});
    CHECK_THROWS_WITH(a.load_state_dict(state), Contains("weight"));
    CHECK(a.weight().to_vector() == weights);  // nothing was copied
}

TEST_CASE("hostile nn: orthogonal_ and other initialisers on empty tensors", "[hostile][nn]") {
    dc::Tensor t = dc::zeros({0, 3});
    CHECK_NOTHROW(nn::init::orthogonal_(t));
    dc::Tensor u = dc::zeros({3, 0});
    CHECK_NOTHROW(nn::init::orthogonal_(u));
    CHECK_NOTHROW(nn::init::xavier_uniform_(u));
    CHECK_NOTHROW(nn::init::kaiming_normal_(t));
}

TEST_CASE("hostile nn: initialisers refuse NaN and reversed bounds", "[hostile][nn]") {
    dc::Tensor t = dc::zeros({3, 3});
    CHECK_THROWS_WITH(nn::init::uniform_(t, 2.0, 1.0), Contains("uniform_"));
    CHECK_THROWS_AS(nn::init::uniform_(t, kNaN, 1.0), dc::Error);
    CHECK_THROWS_AS(nn::init::uniform_(t, -1e308, 1e308), dc::Error);
    CHECK_THROWS_WITH(nn::init::normal_(t, 0.0, -1.0), Contains("normal_"));
    CHECK_THROWS_AS(nn::init::normal_(t, kNaN, 1.0), dc::Error);
    CHECK_THROWS_AS(nn::init::xavier_normal_(t, kNaN), dc::Error);
    CHECK_THROWS_AS(nn::init::kaiming_uniform_(t, kNaN), dc::Error);
    CHECK_THROWS_AS(nn::init::orthogonal_(t, dc::inf), dc::Error);
    CHECK_THROWS_AS(nn::init::calculate_gain("leaky_relu", kNaN), dc::Error);
    CHECK_THROWS_AS(nn::init::calculate_gain("swish"), dc::Error);
    for (const double v : t.to_vector()) CHECK(v == 0.0);  // nothing was drawn
}

TEST_CASE("hostile nn: curriculum_subset with NaN or out-of-range fractions", "[hostile][nn]") {
    const dc::Tensor order = dc::arange(0, 10, 1, {.dtype = dc::int64});
    CHECK_THROWS_WITH(data::curriculum_subset(order, 0, 5, kNaN), Contains("curriculum_subset"));
    CHECK_THROWS_AS(data::curriculum_subset(order, 0, 5, 0.0), dc::Error);
    CHECK_THROWS_AS(data::curriculum_subset(order, 0, 5, 1.5), dc::Error);
    CHECK_THROWS_AS(data::curriculum_subset(order, 0, 0), dc::Error);
    CHECK_THROWS_AS(data::curriculum_subset(dc::ones({3}), 0, 5), dc::Error);
    CHECK(data::curriculum_subset(order, -5, 5).numel() == 3);
    CHECK(data::curriculum_subset(dc::zeros({0}, {.dtype = dc::int64}), 0, 5).numel() == 0);
}

TEST_CASE("hostile nn: curriculum_order refuses NaN difficulties", "[hostile][nn]") {
    CHECK_THROWS_WITH(data::curriculum_order(dc::tensor({1, kNaN, 0})), Contains("row 1"));
    CHECK(data::curriculum_order(dc::tensor({2, 0, 1})).to_int_vector() ==
          std::vector<std::int64_t>{1, 2, 0});
}

TEST_CASE("hostile nn: DataLoader with bad inputs", "[hostile][nn]") {
    CHECK_THROWS_AS(data::DataLoader(dc::Tensor{}, dc::ones({2})), dc::Error);
    CHECK_THROWS_AS(data::DataLoader(dc::ones({3, 2}), dc::ones({2})), dc::ShapeError);
    CHECK_THROWS_AS(data::DataLoader(dc::ones({3, 2}), dc::ones({3}), {.batch_size = 0}),
                    dc::Error);
    CHECK_THROWS_AS(data::DataLoader(dc::ones({3, 2}), dc::ones({3}), {.batch_size = -4}),
                    dc::Error);
    data::DataLoader empty(dc::zeros({0, 2}), dc::zeros({0}));
    CHECK(empty.batches() == 0);
    CHECK(empty.begin() == empty.end());
}

TEST_CASE("hostile nn: Standardizer misuse", "[hostile][nn]") {
    data::Standardizer s;
    CHECK_THROWS_AS(s.transform(dc::ones({2, 2})), dc::Error);
    CHECK_THROWS_WITH(s.fit(dc::zeros({2, 2}, {.dtype = dc::int64})), Contains("Standardizer"));
    CHECK_THROWS_AS(s.fit(dc::zeros({0, 2})), dc::ShapeError);
    s.fit(dc::ones({3, 2}));
    CHECK_THROWS_WITH(s.transform(dc::ones({3, 2}, {.dtype = dc::float64})),
                      Contains("Standardizer"));
    CHECK_THROWS_AS(s.transform(dc::ones({3, 5})), dc::ShapeError);
}

TEST_CASE("hostile nn: module names that are empty or taken", "[hostile][nn]") {
    struct Bad : nn::Module {
        Bad() { register_buffer("running", dc::zeros({1})); }
        void twice() { register_buffer("running", dc::zeros({1})); }
        void dotted() { register_buffer("a.b", dc::zeros({1})); }
        dc::Tensor forward(const dc::Tensor& x) override { return x; }
    };
    Bad bad;
    CHECK_THROWS_AS(bad.twice(), dc::Error);
    CHECK_THROWS_AS(bad.dotted(), dc::Error);
}

TEST_CASE("hostile nn: BatchNorm's batch counter stays exact", "[hostile][nn]") {
    nn::BatchNorm1d bn(2);
    dc::NamedTensors state = bn.state_dict();
    for (auto& [name, t] : state) {
        if (name == "num_batches_tracked") t = dc::int_tensor({(std::int64_t{1} << 53) + 1}, {});
    }
    bn.load_state_dict(state);
    static_cast<void>(bn(dc::randn({4, 2})));
    for (const auto& [name, t] : bn.state_dict()) {
        if (name == "num_batches_tracked")
            CHECK(t.item<std::int64_t>() == (std::int64_t{1} << 53) + 2);
    }
}

TEST_CASE("normalisations of values near float's largest stay defined", "[nn][hostile]") {
    // Their statistics are summed in double; brought back to float they overflow to inf (a
    // plain cast would be undefined: the sanitizer build checks float-cast-overflow).
    const dc::Tensor x = dc::tensor({3e38, -3e38, 3e38, -3e38, 1.0, 2.0}, {3, 2}).requires_grad_();
    const dc::Tensor bn = nn::functional::batch_norm(x, {}, {}, {}, {}, true);
    const dc::Tensor ln = nn::functional::layer_norm(x, {2});
    CHECK(bn.shape() == x.shape());
    CHECK(ln.shape() == x.shape());
    CHECK_NOTHROW((dc::square(bn).sum() + dc::square(ln).sum()).backward());
    CHECK(x.grad().shape() == x.shape());
}
