// Module bookkeeping: names, parameters, buffers, modes, freezing, dtype, state dicts.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>

namespace dc = descent;
namespace nn = descent::nn;

namespace {
struct Net : nn::Module {
    nn::Linear& fc1 = register_module("fc1", nn::Linear(4, 8));
    nn::BatchNorm1d& norm = register_module("norm", nn::BatchNorm1d(8));
    nn::Linear& fc2 = register_module("fc2", nn::Linear(8, 3));
    dc::Tensor forward(const dc::Tensor& x) override { return fc2(dc::relu(norm(fc1(x)))); }
};

std::vector<std::string> names(const dc::NamedTensors& named) {
    std::vector<std::string> out;
    for (const auto& [name, t] : named) out.push_back(name);
    return out;
}
}  // namespace

TEST_CASE("named parameters, buffers and state dict use dotted names", "[nn][module]") {
    Net net;
    CHECK(names(net.named_parameters()) == std::vector<std::string>{"fc1.weight", "fc1.bias",
                                                                    "norm.weight", "norm.bias",
                                                                    "fc2.weight", "fc2.bias"});
    CHECK(names(net.named_buffers()) == std::vector<std::string>{"norm.running_mean",
                                                                 "norm.running_var",
                                                                 "norm.num_batches_tracked"});
    CHECK(net.state_dict().size() == 9);
    CHECK(net.parameters().size() == 6);
    nn::Sequential seq{nn::Linear(2, 3), nn::ReLU(), nn::Linear(3, 1)};
    CHECK(names(seq.named_parameters()) ==
          std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    CHECK(seq.size() == 3);
    CHECK(seq.children().size() == 3);
    CHECK(net.children().size() == 3);
    CHECK(seq.at<nn::Linear>(2).weight().shape() == dc::Shape{1, 3});
    CHECK_THROWS_AS(seq.at<nn::Linear>(1), dc::Error);
}

TEST_CASE("train and eval are recursive and separate from grad mode", "[nn][module]") {
    Net net;
    CHECK(net.norm.is_training());
    net.eval();
    CHECK_FALSE(net.is_training());
    CHECK_FALSE(net.norm.is_training());
    CHECK(dc::is_grad_enabled());
    net.train();
    CHECK(net.fc2.is_training());
}

TEST_CASE("a copy of a module shares its parameters", "[nn][module]") {
    nn::Linear a(3, 2);
    nn::Linear b = a;
    CHECK(b.weight().is_same(a.weight()));
    nn::Sequential seq;
    seq.push_back(a);
    CHECK(seq.at<nn::Linear>(0).weight().is_same(a.weight()));
}

TEST_CASE("to(dtype) converts parameters and floating buffers", "[nn][module]") {
    Net net;
    net.to(dc::float64);
    for (const auto& [name, t] : net.state_dict()) {
        INFO(name);
        CHECK(t.dtype() == (name.ends_with("num_batches_tracked") ? dc::int64 : dc::float64));
    }
    CHECK(net.fc1.weight().requires_grad());
    const dc::Tensor y = net(dc::ones({5, 4}, {.dtype = dc::float64}));
    CHECK(y.dtype() == dc::float64);
}

TEST_CASE("load_state_dict lists every problem at once", "[nn][module]") {
    Net a, b;
    dc::NamedTensors state = a.state_dict();
    b.load_state_dict(state);
    CHECK(b.fc1.weight().to_vector() == a.fc1.weight().to_vector());
    CHECK_FALSE(b.fc1.weight().is_same(a.fc1.weight()));

    state.erase(state.begin());                         // fc1.weight missing
    state.emplace_back("extra.weight", dc::ones({1}));  // unexpected
    state[0].second = dc::ones({7});                    // fc1.bias mis-shaped
    try {
        b.load_state_dict(state);
        FAIL("load_state_dict accepted a broken state");
    } catch (const dc::Error& e) {
        const std::string msg = e.what();
        CHECK_THAT(msg, Catch::Contains("missing keys [fc1.weight]"));
        CHECK_THAT(msg, Catch::Contains("unexpected keys [extra.weight]"));
        CHECK_THAT(msg,
                   Catch::Contains("fc1.bias") && Catch::Contains("[7]") && Catch::Contains("[8]"));
    }
    state.erase(state.begin());  // drop the mis-shaped bias: non-strict loading now works
    CHECK_NOTHROW(b.load_state_dict(state, false));
}

TEST_CASE("registering a name twice is an error", "[nn][module]") {
    struct Twice : nn::Module {
        Twice() {
            register_parameter("w", dc::ones({1}));
            register_buffer("w", dc::ones({1}));
        }
        dc::Tensor forward(const dc::Tensor& x) override { return x; }
    };
    CHECK_THROWS_WITH(Twice(), Catch::Contains("'w'"));
}

namespace {
// A module with two inputs and two outputs: it declares its own forward and leaves the
// one-tensor forward to the base.
struct Bilinear : nn::Module {
    nn::Linear& left = register_module("left", nn::Linear(2, 3));
    nn::Linear& right = register_module("right", nn::Linear(2, 3));
    struct Output {
        dc::Tensor sum;
        dc::Tensor product;
    };
    Output forward(const dc::Tensor& a, const dc::Tensor& b) {
        return {left(a) + right(b), left(a) * right(b)};
    }
    Output operator()(const dc::Tensor& a, const dc::Tensor& b) { return forward(a, b); }
};
}  // namespace

TEST_CASE("a module may take and return several tensors", "[nn][module]") {
    Bilinear m;
    auto [sum, product] = m(dc::ones({4, 2}), dc::zeros({4, 2}));
    CHECK(sum.shape() == dc::Shape{4, 3});
    CHECK(product.shape() == dc::Shape{4, 3});
    CHECK(m.parameters().size() == 4);
    nn::Module& base = m;
    CHECK_THROWS_WITH(base.forward(dc::ones({4, 2})), Catch::Contains("Bilinear") &&
                                                          Catch::Contains("[4,2]") &&
                                                          Catch::Contains("several tensors"));
    nn::Sequential seq;
    seq.push_back(Bilinear{});
    CHECK_THROWS_AS(seq(dc::ones({1, 2})), dc::Error);
}
