// TransformerEncoderLayer and TransformerEncoder: against torch (every layer_* and encoder_*
// case of the fixture, attention_fixture.hpp), gradcheck and gradgradcheck in float64 (default
// tolerances), torch's children names, the one-tensor forward in Sequential, and the encoder's
// deep copies.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <functional>
#include <map>

#include "attention_fixture.hpp"

namespace dc = descent;
namespace nn = descent::nn;
namespace af = attention_fixture;
using Inputs = std::vector<dc::Tensor>;
using Act = nn::TransformerActivation;

namespace {
dc::Tensor mask_or_none(const af::Tensors& masks, const std::string& name) {
    const auto it = masks.find(name);
    return it == masks.end() ? dc::Tensor{} : it->second;
}

using Make = std::function<std::shared_ptr<nn::Module>()>;
using Run = std::function<dc::Tensor(nn::Module&, const dc::Tensor&, const af::Tensors&)>;

/// A layer case's call: src_mask and src_key_padding_mask from the fixture, is_causal given.
Run layer_call(bool is_causal = false) {
    return [is_causal](nn::Module& m, const dc::Tensor& src, const af::Tensors& masks) {
        return dynamic_cast<nn::TransformerEncoderLayer&>(m)(
            src, {.src_mask = mask_or_none(masks, "src_mask"),
                  .src_key_padding_mask = mask_or_none(masks, "src_key_padding_mask"),
                  .is_causal = is_causal});
    };
}

/// The fixture's layer_* and encoder_* cases: the torch constructor's descent spelling.
const std::map<std::string, std::pair<Make, Run>>& encoder_calls() {
    using L = nn::TransformerEncoderLayer;
    static const std::map<std::string, std::pair<Make, Run>> table = {
        {"layer_post_relu",
         {[] {
              return std::make_shared<L>(8, 2, nn::TransformerEncoderLayerOptions{16, 0.0});
          },
          layer_call()}},
        {"layer_pre_gelu",
         {[] {
              return std::make_shared<L>(8, 4,
                                         nn::TransformerEncoderLayerOptions{.dim_feedforward = 12,
                                                                            .dropout = 0.0,
                                                                            .activation = Act::gelu,
                                                                            .batch_first = true,
                                                                            .norm_first = true});
          },
          layer_call(true)}},
        {"layer_unbatched",
         {[] {
              return std::make_shared<L>(
                  6, 3, nn::TransformerEncoderLayerOptions{10, 0.0, Act::relu, 1e-3});
          },
          layer_call()}},
        {"layer_no_bias",
         {[] {
              return std::make_shared<L>(
                  8, 2,
                  nn::TransformerEncoderLayerOptions{16, 0.0, Act::relu, 1e-5, false, true, false});
          },
          layer_call()}},
        {"encoder_two_layers",
         {[] {
              return std::make_shared<nn::TransformerEncoder>(L(8, 2, {16, 0.0, Act::gelu}), 2,
                                                              nn::LayerNorm({8}));
          },
          [](nn::Module& m, const dc::Tensor& src, const af::Tensors& masks) {
              return dynamic_cast<nn::TransformerEncoder&>(m)(
                  src, {.mask = mask_or_none(masks, "mask"),
                        .src_key_padding_mask = mask_or_none(masks, "src_key_padding_mask")});
          }}},
    };
    return table;
}
}  // namespace

TEST_CASE("transformer encoder layers match torch: state_dict, outputs, gradients",
          "[attention][transformer][interop]") {
    auto names = af::cases_starting("layer_");
    for (const auto& name : af::cases_starting("encoder_")) names.push_back(name);
    REQUIRE(names.size() == encoder_calls().size());
    for (const auto& name : names) {
        REQUIRE(encoder_calls().count(name) == 1);
        const auto& [make, run] = encoder_calls().at(name);
        const auto module = make();
        af::check_case(name, module.get(), [&](const af::Tensors& in, const af::Tensors& masks) {
            return af::Tensors{{"output", run(*module, in.at("src"), masks)}};
        });
    }
}

TEST_CASE("TransformerEncoderLayer passes gradcheck and gradgradcheck",
          "[attention][transformer][gradcheck]") {
    dc::manual_seed(12);
    for (const bool norm_first : {false, true}) {
        INFO("norm_first " << norm_first);
        nn::TransformerEncoderLayer layer(4, 2,
                                          {.dim_feedforward = 6,
                                           .dropout = 0.0,
                                           .activation = Act::gelu,
                                           .norm_first = norm_first});
        layer.to(dc::float64);
        const dc::Tensor padding = dc::tensor({0, 0, 1, 0, 1, 0}, {2, 3}) != 0;
        const dc::GradcheckScalarFn f = [&](const Inputs& in) {
            const dc::Tensor y = layer(in[0], {.src_key_padding_mask = padding});
            return (y * in[1]).sum();
        };
        const Inputs in{dc::randn({3, 2, 4}, {.dtype = dc::float64, .requires_grad = true}),
                        dc::randn({3, 2, 4}, {.dtype = dc::float64})};
        CHECK_NOTHROW(dc::gradcheck(f, in));
        CHECK_NOTHROW(dc::gradgradcheck(f, in));
    }
}

TEST_CASE("TransformerEncoderLayer: torch's children, and the one-tensor forward",
          "[attention][transformer]") {
    nn::TransformerEncoderLayer layer(8, 2, {.dim_feedforward = 16});
    std::vector<std::string> children;
    for (const auto& [name, child] : layer.named_children()) children.push_back(name);
    CHECK(children == std::vector<std::string>{"self_attn", "linear1", "dropout", "linear2",
                                               "norm1", "norm2", "dropout1", "dropout2"});
    CHECK(layer.state_dict().size() == 12);
    nn::TransformerEncoderLayer no_bias(8, 2, {.dim_feedforward = 16, .bias = false});
    CHECK(no_bias.state_dict().size() == 6);  // the weights only

    nn::Sequential model;
    model.push_back(layer);  // shares the layer's parameters and children
    model.push_back(nn::Linear(8, 3));
    model.eval();
    const dc::Tensor x = dc::randn({5, 2, 8});
    const dc::Tensor y = model(x);
    CHECK(y.shape() == dc::Shape{5, 2, 3});
    CHECK(model.at<nn::TransformerEncoderLayer>(0)(x).to_vector() == layer(x).to_vector());
    const std::string text = nn::to_string(layer);
    CHECK_THAT(text, Catch::Contains("(self_attn): MultiheadAttention(") &&
                         Catch::Contains("(norm2): LayerNorm((8,), eps=1e-05"));
}

TEST_CASE("TransformerEncoderLayer: dropout in training only", "[attention][transformer]") {
    nn::TransformerEncoderLayer noisy(8, 2, {.dim_feedforward = 16, .dropout = 0.3});
    nn::TransformerEncoderLayer plain(8, 2, {.dim_feedforward = 16, .dropout = 0.0});
    plain.load_state_dict(noisy.state_dict());
    const dc::Tensor x = dc::randn({4, 3, 8});
    CHECK(noisy(x).to_vector() != plain(x).to_vector());
    noisy.eval();
    CHECK(noisy(x).to_vector() == plain(x).to_vector());
}

TEST_CASE("TransformerEncoder: torch's names; independent deep copies of the layer",
          "[attention][transformer]") {
    dc::manual_seed(13);
    nn::TransformerEncoderLayer layer(8, 2, {.dim_feedforward = 16, .dropout = 0.0});
    nn::TransformerEncoder encoder(layer, 3, nn::LayerNorm({8}));
    const auto state = encoder.state_dict();
    REQUIRE(state.size() == 3 * 12 + 2);
    CHECK(state[0].first == "layers.0.self_attn.in_proj_weight");
    CHECK(state[12 + 4].first == "layers.1.linear1.weight");
    CHECK(state[36].first == "norm.weight");
    CHECK_THAT(nn::to_string(encoder), Catch::Contains("(layers): ModuleList("));

    // every copy starts with the layer's values, in tensors of its own
    const auto original = layer.named_parameters();
    for (std::int64_t i = 0; i < 3; ++i) {
        const auto copy = encoder.layer(i).named_parameters();
        REQUIRE(copy.size() == original.size());
        for (std::size_t j = 0; j < copy.size(); ++j) {
            CHECK(copy[j].second.to_vector() == original[j].second.to_vector());
            CHECK_FALSE(copy[j].second.is_same(original[j].second));
        }
    }
    // one training step moves the copies apart from the layer and from one another
    const std::vector<double> before = original[0].second.to_vector();
    dc::optim::SGD sgd(encoder.parameters(), {.lr = 0.1});
    const dc::Tensor x = dc::randn({5, 2, 8});
    (encoder(x) * dc::randn({5, 2, 8})).sum().backward();
    sgd.step();
    CHECK(original[0].second.to_vector() == before);
    CHECK(encoder.layer(0).named_parameters()[0].second.to_vector() !=
          encoder.layer(1).named_parameters()[0].second.to_vector());

    // the copies keep the layer's dtype and frozen parameters
    nn::TransformerEncoderLayer frozen(4, 1, {.dim_feedforward = 4});
    frozen.to(dc::float64);
    frozen.linear1().requires_grad_(false);
    nn::TransformerEncoder stack(frozen, 2);
    CHECK(stack.layer(1).linear1().weight().dtype() == dc::float64);
    CHECK_FALSE(stack.layer(1).linear1().weight().requires_grad());
    CHECK(stack.layer(1).linear2().weight().requires_grad());
    CHECK(stack.norm() == nullptr);
    CHECK_THROWS_AS(stack.layer(2), dc::IndexError);
}

TEST_CASE("README: attention and transformers, as written there", "[attention][readme]") {
    dc::manual_seed(14);
    const std::int64_t N = 2;
    const dc::Tensor x = dc::randn({N, 10, 64});
    const dc::Tensor padding = dc::tensor(std::vector<double>(20, 0.0), {N, 10}) != 0;
    const dc::Tensor q = dc::randn({7, N, 64}), k = dc::randn({10, N, 32}),
                     v = dc::randn({10, N, 32});
    const dc::Tensor qh = dc::randn({N, 4, 5, 16}), kh = dc::randn({N, 4, 6, 16}),
                     vh = dc::randn({N, 4, 6, 8});

    // the README's lines
    nn::TransformerEncoderLayer layer(64, 4,
                                      {.dim_feedforward = 256,
                                       .dropout = 0.1,
                                       .activation = nn::TransformerActivation::gelu,
                                       .batch_first = true,
                                       .norm_first = true});
    nn::TransformerEncoder encoder(layer, 3, nn::LayerNorm({64}));  // 3 independent copies
    const dc::Tensor causal =
        nn::generate_square_subsequent_mask(10);  // 0 on and below, -inf above
    dc::Tensor y = encoder(x, {.mask = causal, .src_key_padding_mask = padding, .is_causal = true});

    nn::MultiheadAttention mha(64, 8, {.kdim = 32, .vdim = 32});  // q [L, N, 64], k/v [S, N, 32]
    auto [out, weights] = mha(q, k, v, {.key_padding_mask = padding});  // [L, N, 64], [N, L, S]
    dc::Tensor z = nn::scaled_dot_product_attention(qh, kh, vh, {.is_causal = true});

    CHECK(y.shape() == dc::Shape{N, 10, 64});
    CHECK(out.shape() == dc::Shape{7, N, 64});
    CHECK(weights.shape() == dc::Shape{N, 7, 10});
    CHECK(z.shape() == dc::Shape{N, 4, 5, 8});
}
