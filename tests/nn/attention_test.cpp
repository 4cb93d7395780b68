// scaled_dot_product_attention and MultiheadAttention: against torch (every sdpa_* and mha_*
// case of the fixture, values and first and second order gradients, attention_fixture.hpp),
// gradcheck and gradgradcheck in float64 (default tolerances: eps 1e-6, atol 1e-5, rtol 1e-3),
// and the documented behaviours: fully masked rows give 0, zero lengths, is_causal, dropout,
// torch's parameter names, shapes and initialisation.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <functional>
#include <limits>
#include <map>

#include "attention_fixture.hpp"

namespace dc = descent;
namespace nn = descent::nn;
namespace af = attention_fixture;
using Inputs = std::vector<dc::Tensor>;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

dc::Tensor randn64(const dc::Shape& s, bool requires_grad = true) {
    return dc::randn(s, {.dtype = dc::float64, .requires_grad = requires_grad});
}

dc::Tensor mask_or_none(const af::Tensors& masks, const std::string& name) {
    const auto it = masks.find(name);
    return it == masks.end() ? dc::Tensor{} : it->second;
}

bool all_finite(const dc::Tensor& t) {
    for (const double v : t.to_vector()) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

/// The fixture's sdpa_* calls: the options each was made with.
const std::map<std::string, std::function<nn::ScaledDotProductAttentionOptions(dc::Tensor)>>&
sdpa_calls() {
    using O = nn::ScaledDotProductAttentionOptions;
    static const std::map<std::string, std::function<O(dc::Tensor)>> table = {
        {"sdpa_plain", [](dc::Tensor) { return O{}; }},
        {"sdpa_bool_mask", [](dc::Tensor m) { return O{.attn_mask = m, .scale = 0.7}; }},
        {"sdpa_float_mask", [](dc::Tensor m) { return O{.attn_mask = m}; }},
        {"sdpa_causal", [](dc::Tensor) { return O{.is_causal = true}; }},
        {"sdpa_causal_tall", [](dc::Tensor) { return O{.is_causal = true, .scale = 0.25}; }},
        {"sdpa_broadcast", [](dc::Tensor) { return O{}; }},
        {"sdpa_second", [](dc::Tensor m) { return O{.attn_mask = m}; }},
        {"sdpa_causal_second", [](dc::Tensor) { return O{.is_causal = true}; }},
    };
    return table;
}

struct MhaCall {
    std::function<nn::MultiheadAttention()> make;
    nn::MultiheadAttentionForwardOptions options;
    bool self_attention = false;  ///< the one input "query" is also key and value
};

/// The fixture's mha_* calls: the torch constructor's descent spelling, and the call.
const std::map<std::string, MhaCall>& mha_calls() {
    using M = nn::MultiheadAttention;
    static const std::map<std::string, MhaCall> table = {
        {"mha_cross", {[] { return M(6, 2); }, {}}},
        {"mha_self_batch_first",
         {[] { return M(8, 4, {.batch_first = true}); }, {.average_attn_weights = false}, true}},
        {"mha_unbatched", {[] { return M(6, 3); }, {}}},
        {"mha_kvdim_nobias", {[] { return M(8, 2, {.bias = false, .kdim = 5, .vdim = 3}); }, {}}},
        {"mha_bias_kv_zero_attn",
         {[] { return M(6, 2, {.add_bias_kv = true, .add_zero_attn = true}); }, {}}},
        {"mha_causal",
         {[] { return M(8, 2, {.batch_first = true}); },
          {.need_weights = false, .is_causal = true},
          true}},
        {"mha_mask3d", {[] { return M(6, 2); }, {.need_weights = false}}},
        {"mha_float_kpm", {[] { return M(4, 1, {.kdim = 3, .vdim = 3}); }, {}}},
        {"mha_unbatched_mask3d",
         {[] { return M(6, 2, {.batch_first = true}); }, {.average_attn_weights = false}}},
        {"mha_second", {[] { return M(4, 2); }, {}}},
    };
    return table;
}
}  // namespace

TEST_CASE("scaled_dot_product_attention matches torch, to second order", "[attention][interop]") {
    const auto names = af::cases_starting("sdpa_");
    REQUIRE(names.size() == sdpa_calls().size());
    for (const auto& name : names) {
        REQUIRE(sdpa_calls().count(name) == 1);
        const auto& options = sdpa_calls().at(name);
        af::check_case(name, nullptr, [&](const af::Tensors& in, const af::Tensors& masks) {
            return af::Tensors{{"output", nn::scaled_dot_product_attention(
                                              in.at("query"), in.at("key"), in.at("value"),
                                              options(mask_or_none(masks, "attn_mask")))}};
        });
    }
}

TEST_CASE("MultiheadAttention matches torch: state_dict, outputs, gradients",
          "[attention][interop]") {
    const auto names = af::cases_starting("mha_");
    REQUIRE(names.size() == mha_calls().size());
    for (const auto& name : names) {
        REQUIRE(mha_calls().count(name) == 1);
        const MhaCall& call = mha_calls().at(name);
        nn::MultiheadAttention mha = call.make();
        af::check_case(name, &mha, [&](const af::Tensors& in, const af::Tensors& masks) {
            nn::MultiheadAttentionForwardOptions options = call.options;
            options.key_padding_mask = mask_or_none(masks, "key_padding_mask");
            options.attn_mask = mask_or_none(masks, "attn_mask");
            const dc::Tensor& q = in.at("query");
            auto [output, weights] = call.self_attention
                                         ? mha(q, q, q, options)
                                         : mha(q, in.at("key"), in.at("value"), options);
            af::Tensors out{{"output", output}};
            if (weights.defined()) out["weights"] = weights;
            return out;
        });
    }
}

TEST_CASE("scaled_dot_product_attention passes gradcheck and gradgradcheck",
          "[attention][gradcheck]") {
    dc::manual_seed(5);
    const dc::Tensor q = randn64({2, 3, 2}), k = randn64({2, 4, 2}), v = randn64({2, 4, 3});
    const auto check = [&](const nn::ScaledDotProductAttentionOptions& options) {
        const auto f = [&](const Inputs& in) {
            return nn::scaled_dot_product_attention(in[0], in[1], in[2], options);
        };
        const dc::GradcheckFn fn = [&](const Inputs& in) { return Inputs{f(in)}; };
        CHECK_NOTHROW(dc::gradcheck(fn, {q, k, v}));
        CHECK_NOTHROW(dc::gradgradcheck(fn, {q, k, v}));
    };
    SECTION("no mask, a scale") {
        check({.scale = 0.6});
    }
    SECTION("causal") {
        check({.is_causal = true});
    }
    SECTION("bool mask with a fully masked row") {
        const dc::Tensor allowed = dc::tensor({1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1}, {3, 4}) != 0;
        check({.attn_mask = allowed});
    }
    SECTION("float mask with -inf") {
        const dc::Tensor bias = dc::tensor({0.3, -kInf, 0.1, -0.4, 0.2, 0.5, -kInf, 0.0}, {2, 1, 4},
                                           {.dtype = dc::float64});
        check({.attn_mask = bias});
    }
}

TEST_CASE("multi_head_attention_forward passes gradcheck and gradgradcheck",
          "[attention][gradcheck]") {
    dc::manual_seed(6);
    // E = 4, 2 heads, L = 2, S = 3, N = 2; bias_k/bias_v, a zero key, a key padding mask
    const Inputs in{randn64({2, 2, 4}), randn64({3, 2, 4}), randn64({3, 2, 4}),
                    randn64({12, 4}),   randn64({12}),      randn64({4, 4}),
                    randn64({4}),       randn64({1, 1, 4}), randn64({1, 1, 4})};
    const dc::Tensor padding = dc::tensor({0, 1, 0, 0, 0, 1}, {2, 3}) != 0;
    const dc::GradcheckFn f = [&](const Inputs& x) {
        auto [out, weights] = nn::multi_head_attention_forward(
            x[0], x[1], x[2],
            {.num_heads = 2,
             .in_proj_weight = x[3],
             .in_proj_bias = x[4],
             .bias_k = x[7],
             .bias_v = x[8],
             .out_proj_weight = x[5],
             .out_proj_bias = x[6],
             .add_zero_attn = true},
            {.key_padding_mask = padding, .average_attn_weights = false});
        return Inputs{out, weights};
    };
    CHECK_NOTHROW(dc::gradcheck(f, in));
    CHECK_NOTHROW(dc::gradgradcheck(f, in));
}

TEST_CASE("attention: a fully masked row gives 0 and zero gradients, no NaN", "[attention]") {
    dc::manual_seed(7);
    const dc::Tensor q = randn64({3, 2}), k = randn64({4, 2}), v = randn64({4, 5});
    const dc::Tensor allowed = dc::tensor({1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1}, {3, 4}) != 0;
    const dc::Tensor out = nn::scaled_dot_product_attention(q, k, v, {.attn_mask = allowed});
    for (std::int64_t j = 0; j < 5; ++j) CHECK(out.at({1, j}) == 0.0);
    const auto grads = dc::grad({out.sum()}, {q, k, v});
    for (const auto& g : grads) CHECK(all_finite(g));
    CHECK(grads[0].at({1, 0}) == 0.0);
    CHECK(grads[0].at({1, 1}) == 0.0);

    // MultiheadAttention: sample 1 ignores every key → its attention output is 0, so its output
    // is out_proj's bias, and its weights are 0
    nn::MultiheadAttention mha(4, 2);
    mha.to(dc::float64);
    {
        const dc::NoGradGuard no_grad;
        dc::Tensor(mha.out_proj().bias()).copy_(randn64({4}, false));
    }
    const dc::Tensor x = randn64({3, 2, 4});
    const dc::Tensor padding = dc::tensor({0, 1, 0, 1, 1, 1}, {2, 3}) != 0;
    auto [y, w] = mha(x, x, x, {.key_padding_mask = padding});
    for (std::int64_t i = 0; i < 3; ++i) {
        for (std::int64_t j = 0; j < 4; ++j)
            CHECK(y.at({i, 1, j}) == mha.out_proj().bias().at({j}));
        for (std::int64_t s = 0; s < 3; ++s) CHECK(w.at({1, i, s}) == 0.0);
    }
    CHECK(all_finite(dc::grad({(y * y).sum()}, {x})[0]));
}

TEST_CASE("attention: zero-length sequences follow torch", "[attention]") {
    const dc::Tensor q = randn64({2, 3, 4}), k0 = randn64({2, 0, 4}), v0 = randn64({2, 0, 5});
    const dc::Tensor out = nn::scaled_dot_product_attention(q, k0, v0);
    CHECK(out.shape() == dc::Shape{2, 3, 5});
    CHECK(out.to_vector() == std::vector<double>(30, 0.0));
    CHECK(
        nn::scaled_dot_product_attention(randn64({2, 0, 4}), randn64({2, 3, 4}), randn64({2, 3, 5}))
            .shape() == dc::Shape{2, 0, 5});

    nn::MultiheadAttention mha(4, 2);
    {
        const dc::NoGradGuard no_grad;
        dc::Tensor(mha.out_proj().bias()).fill_(0.5);
    }
    const dc::Tensor x = dc::randn({3, 2, 4}), empty = dc::zeros({0, 2, 4});
    auto [y, w] = mha(x, empty, empty);  // S = 0: every query attends nowhere
    CHECK(y.shape() == dc::Shape{3, 2, 4});
    CHECK(y.to_vector() == std::vector<double>(24, 0.5));
    CHECK(w.shape() == dc::Shape{2, 3, 0});
    auto [y0, w0] = mha(empty, x, x);  // L = 0
    CHECK(y0.shape() == dc::Shape{0, 2, 4});
    CHECK(w0.shape() == dc::Shape{2, 0, 3});
    const dc::Tensor no_batch = dc::zeros({3, 0, 4});
    CHECK(mha(no_batch, no_batch, no_batch).output.shape() == dc::Shape{3, 0, 4});
}

TEST_CASE("attention: is_causal is the lower-triangular bool mask", "[attention]") {
    dc::manual_seed(8);
    const dc::Tensor q = randn64({2, 4, 3}), k = randn64({2, 6, 3}), v = randn64({2, 6, 2});
    const dc::Tensor tril = dc::tril(dc::ones({4, 6}, {.dtype = dc::float64})) != 0;
    CHECK(nn::scaled_dot_product_attention(q, k, v, {.is_causal = true}).to_vector() ==
          nn::scaled_dot_product_attention(q, k, v, {.attn_mask = tril}).to_vector());
    const dc::Tensor m = nn::generate_square_subsequent_mask(3, dc::float64);
    CHECK(m.to_vector() == std::vector<double>{0, -kInf, -kInf, 0, 0, -kInf, 0, 0, 0});
    CHECK(nn::generate_square_subsequent_mask(0).shape() == dc::Shape{0, 0});
}

TEST_CASE("attention: dropout on the weights, from the global generator", "[attention]") {
    dc::manual_seed(9);
    const dc::Tensor q = randn64({2, 3, 4}), k = randn64({2, 5, 4}), v = randn64({2, 5, 3});
    dc::manual_seed(42);
    const dc::Tensor dropped = nn::scaled_dot_product_attention(q, k, v, {.dropout_p = 0.4});
    dc::manual_seed(42);
    const dc::Tensor weights = dc::softmax(dc::matmul(q, dc::transpose(k, -2, -1)) * 0.5, -1);
    const dc::Tensor by_hand = dc::matmul(nn::functional::dropout(weights, 0.4), v);
    const auto a = dropped.to_vector(), b = by_hand.to_vector();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-14));

    // MultiheadAttention's dropout acts in training only: eval is the dropout-free layer
    nn::MultiheadAttention with_dropout(4, 2, {.dropout = 0.5}), without(4, 2);
    without.load_state_dict(with_dropout.state_dict());
    const dc::Tensor x = dc::randn({3, 2, 4});
    with_dropout.eval();
    CHECK(with_dropout(x, x, x).output.to_vector() == without(x, x, x).output.to_vector());
    with_dropout.train();
    auto [y, w] = with_dropout(x, x, x, {.average_attn_weights = false});
    bool some_zero = false;
    for (const double p : w.to_vector()) some_zero = some_zero || p == 0.0;
    CHECK(some_zero);  // 48 weights each dropped with probability 1/2
}

TEST_CASE("MultiheadAttention: torch's parameters, shapes and initialisation", "[attention]") {
    dc::manual_seed(10);
    const auto names = [](const nn::Module& m) {
        std::vector<std::string> out;
        for (const auto& [name, t] : m.named_parameters())
            out.push_back(name + dc::shape_str(t.shape()));
        return out;
    };
    nn::MultiheadAttention packed(8, 2);
    CHECK(names(packed) == std::vector<std::string>{"in_proj_weight[24,8]", "in_proj_bias[24]",
                                                    "out_proj.weight[8,8]", "out_proj.bias[8]"});
    nn::MultiheadAttention separate(8, 2,
                                    {.bias = false, .add_bias_kv = true, .kdim = 5, .vdim = 3});
    CHECK(names(separate) == std::vector<std::string>{"q_proj_weight[8,8]", "k_proj_weight[8,5]",
                                                      "v_proj_weight[8,3]", "bias_k[1,1,8]",
                                                      "bias_v[1,1,8]", "out_proj.weight[8,8]"});
    // xavier_uniform over [3E, E]: bound √(6/(E + 3E)); the biases start at 0
    const double bound = std::sqrt(6.0 / 32.0);
    double largest = 0.0;
    for (const double w : packed.named_parameters()[0].second.to_vector()) {
        largest = std::max(largest, std::abs(w));
    }
    CHECK(largest <= bound);
    CHECK(largest > 0.8 * bound);  // 192 draws fill the interval
    CHECK(packed.named_parameters()[1].second.to_vector() == std::vector<double>(24, 0.0));
    CHECK(packed.out_proj().bias().to_vector() == std::vector<double>(8, 0.0));
    CHECK(nn::to_string(packed).find("(out_proj): Linear(in_features=8, out_features=8") !=
          std::string::npos);
}

TEST_CASE("MultiheadAttention: one tensor as query, key and value, and a copy shares it",
          "[attention]") {
    nn::MultiheadAttention mha(6, 3, {.batch_first = true});
    const dc::Tensor x = dc::randn({2, 4, 6});
    auto [a, wa] = mha(x, x, x);
    auto [b, wb] = mha(x, x.clone(), x.clone());
    CHECK(a.to_vector() == b.to_vector());
    CHECK(wa.shape() == dc::Shape{2, 4, 4});
    nn::MultiheadAttention copy = mha;  // a Module copy shares its parameters
    CHECK(copy.named_parameters()[0].second.is_same(mha.named_parameters()[0].second));
    nn::Module& base = mha;
    CHECK_THROWS_WITH(base.forward(x), Catch::Contains("MultiheadAttention"));
}
