// Printing a module shows what torch's print(model) shows — types, settings, children by name —
// plus each layer's parameter shapes and the parameter count.

#include <catch2/catch.hpp>
#include <descent/nn.hpp>
#include <descent/nn/format.hpp>
#include <sstream>

namespace dc = descent;
namespace nn = descent::nn;
using Catch::Contains;

namespace {
struct Net : nn::Module {
    nn::Linear& fc1 = register_module("fc1", nn::Linear(4, 8));
    nn::Sequential& body = register_module("body", nn::Sequential(nn::ReLU(), nn::Dropout(0.25)));
    dc::Tensor& scale = register_parameter("scale", dc::ones({8}));
    dc::Tensor forward(const dc::Tensor& x) override { return body(fc1(x)) * scale; }
};
}  // namespace

TEST_CASE("printing a Sequential as torch does", "[nn][print]") {
    nn::Sequential model{nn::Linear(64, 10), nn::BatchNorm1d(10), nn::LeakyReLU(0.2),
                         nn::LayerNorm({10}), nn::Embedding(5, 3)};
    const std::string text = nn::to_string(model);
    CHECK_THAT(text, Contains("Sequential(\n"));
    CHECK_THAT(text, Contains("(0): Linear(in_features=64, out_features=10, bias=True)  # weight "
                              "[10,64], bias [10]"));
    CHECK_THAT(text, Contains("(1): BatchNorm1d(10, eps=1e-05, momentum=0.1, affine=True, "
                              "track_running_stats=True)"));
    CHECK_THAT(text, Contains("(2): LeakyReLU(negative_slope=0.2)\n"));
    CHECK_THAT(text, Contains("(3): LayerNorm((10,), eps=1e-05, elementwise_affine=True)"));
    CHECK_THAT(text, Contains("(4): Embedding(5, 3)  # weight [5,3]"));
    // 64·10 + 10 + 2·10 + 2·10 + 15
    CHECK_THAT(text, Contains("parameters: 705 (705 trainable) in 7 tensors"));
    CHECK(fmt::format("{}", model) == text);
    std::ostringstream os;
    os << model;
    CHECK(os.str() == text);
}

TEST_CASE("printing a custom module, nested and partly frozen", "[nn][print]") {
    Net net;
    net.fc1.requires_grad_(false);
    const std::string text = nn::to_string(net);
    CHECK_THAT(text, Contains("Net(\n  # own: scale [8]\n  (fc1): Linear("));
    CHECK_THAT(text,
               Contains("  (body): Sequential(\n    (0): ReLU()\n    (1): Dropout(p=0.25)\n  )"));
    CHECK_THAT(text, Contains("parameters: 48 (8 trainable) in 3 tensors"));
}
