// Hostile inputs to the attention layers: every bad option, shape, dtype or mask is a
// descent::Error naming the function or layer called and the offending values, never a crash, a
// NaN, or a silently wrong shape.

#include <catch2/catch.hpp>
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
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

dc::Tensor r(const dc::Shape& s) {
    return dc::randn(s);
}
}  // namespace

TEST_CASE("hostile attention: scaled_dot_product_attention's inputs", "[attention][hostile]") {
    const auto sdpa = [](const dc::Tensor& q, const dc::Tensor& k, const dc::Tensor& v,
                         nn::ScaledDotProductAttentionOptions o = {}) {
        return nn::scaled_dot_product_attention(q, k, v, o);
    };
    const auto name = Contains("scaled_dot_product_attention");
    const dc::Tensor q = r({2, 3, 4}), k = r({2, 5, 4}), v = r({2, 5, 6});
    CHECK_THROWS_WITH(sdpa(r({4}), k, v), name && Contains("[4]"));
    CHECK_THROWS_WITH(sdpa(dc::Tensor{}, k, v), name && Contains("query"));
    CHECK_THROWS_AS(sdpa(q.to(dc::float64), k, v), dc::DtypeError);
    CHECK_THROWS_WITH(sdpa(q, k, dc::ones({2, 5, 6}, {.dtype = dc::int64})),
                      name && Contains("int64"));
    CHECK_THROWS_WITH(sdpa(q, r({2, 5, 3}), v), name && Contains("[2,3,4]") && Contains("[2,5,3]"));
    // key and value of different lengths
    CHECK_THROWS_WITH(sdpa(q, k, r({2, 6, 6})), name && Contains("[2,5,4]") && Contains("[2,6,6]"));
    CHECK_THROWS_AS(sdpa(q, r({3, 5, 4}), r({3, 5, 6})), dc::ShapeError);  // batch 2 vs 3

    SECTION("masks") {
        const auto mask_of = [](const dc::Shape& s, dc::Dtype d) {
            return dc::zeros(s, {.dtype = d});
        };
        CHECK_THROWS_WITH(sdpa(q, k, v, {.attn_mask = mask_of({3, 5}, dc::int64)}),
                          name && Contains("attn_mask") && Contains("int64"));
        CHECK_THROWS_WITH(sdpa(q, k, v, {.attn_mask = mask_of({3, 5}, dc::float64)}),
                          name && Contains("float64"));
        CHECK_THROWS_WITH(sdpa(q, k, v, {.attn_mask = mask_of({3, 6}, dc::boolean)}),
                          name && Contains("[3,6]") && Contains("[2,3,5]"));
        // a mask that would enlarge the output
        CHECK_THROWS_WITH(sdpa(q, k, v, {.attn_mask = mask_of({7, 3, 5}, dc::boolean)}),
                          name && Contains("[7,3,5]"));
        CHECK_THROWS_WITH(sdpa(q, k, v, {.attn_mask = dc::ones({3, 5}) != 0, .is_causal = true}),
                          name && Contains("is_causal"));
    }
    SECTION("options") {
        for (const double p : {kNaN, -0.1, 1.5, kInf}) {
            CHECK_THROWS_WITH(sdpa(q, k, v, {.dropout_p = p}), name && Contains("dropout_p"));
        }
        for (const double s : {kNaN, kInf, -kInf}) {
            CHECK_THROWS_WITH(sdpa(q, k, v, {.scale = s}), name && Contains("scale"));
        }
    }
    CHECK_THROWS_WITH(nn::generate_square_subsequent_mask(-1),
                      Contains("generate_square_subsequent_mask") && Contains("-1"));
    CHECK_THROWS_AS(nn::generate_square_subsequent_mask(3, dc::int64), dc::DtypeError);
    CHECK_THROWS_AS(nn::generate_square_subsequent_mask(kMax), dc::ShapeError);
}

TEST_CASE("hostile attention: MultiheadAttention's options", "[attention][hostile]") {
    using M = nn::MultiheadAttention;
    const auto name = Contains("MultiheadAttention");
    CHECK_THROWS_WITH(M(10, 3), name && Contains("10") && Contains("3") && Contains("divisible"));
    CHECK_THROWS_WITH(M(0, 1), name && Contains("embed_dim"));
    CHECK_THROWS_WITH(M(-8, 2), name && Contains("embed_dim") && Contains("-8"));
    CHECK_THROWS_WITH(M(8, 0), name && Contains("num_heads"));
    CHECK_THROWS_WITH(M(8, -2), name && Contains("num_heads"));
    CHECK_THROWS_WITH(M(8, 2, {.kdim = 0}), name && Contains("kdim"));
    CHECK_THROWS_WITH(M(8, 2, {.vdim = -3}), name && Contains("vdim") && Contains("-3"));
    for (const double p : {kNaN, -0.5, 1.01, kInf}) {
        CHECK_THROWS_WITH(M(8, 2, {.dropout = p}), name && Contains("dropout"));
    }
    CHECK_THROWS_WITH(M(kMax, 1), name);                   // 3E overflows
    CHECK_THROWS_WITH(M(std::int64_t{1} << 32, 1), name);  // [3E, E] overflows
}

TEST_CASE("hostile attention: MultiheadAttention's inputs and masks", "[attention][hostile]") {
    nn::MultiheadAttention mha(8, 2, {.kdim = 6, .vdim = 5});
    const auto name = Contains("MultiheadAttention");
    const dc::Tensor q = r({4, 3, 8}), k = r({5, 3, 6}), v = r({5, 3, 5});
    CHECK_NOTHROW(mha(q, k, v));
    CHECK_THROWS_WITH(mha(r({1, 4, 3, 8}), k, v), name && Contains("[1,4,3,8]"));
    CHECK_THROWS_WITH(mha(q, r({5, 6}), r({5, 5})), name && Contains("[5,6]"));
    CHECK_THROWS_WITH(mha(r({4, 3, 7}), k, v), name && Contains("[4,3,7]"));  // E = 8
    CHECK_THROWS_WITH(mha(q, r({5, 3, 8}), v), name && Contains("[5,3,8]"));  // kdim = 6
    CHECK_THROWS_WITH(mha(q, k, r({6, 3, 5})), name && Contains("[6,3,5]"));  // S: 5 vs 6
    CHECK_THROWS_WITH(mha(q, r({5, 2, 6}), r({5, 2, 5})), name && Contains("[5,2,6]"));  // N
    CHECK_THROWS_WITH(mha(q.to(dc::float64), k, v), name && Contains("float64"));
    CHECK_THROWS_WITH(mha(q, k, dc::Tensor{}), name && Contains("value"));

    SECTION("key_padding_mask") {
        CHECK_THROWS_WITH(
            mha(q, k, v, {.key_padding_mask = dc::zeros({3, 6}) != 0}),
            name && Contains("key_padding_mask") && Contains("[3,6]") && Contains("[3,5]"));
        CHECK_THROWS_WITH(
            mha(q, k, v, {.key_padding_mask = dc::zeros({3, 5}, {.dtype = dc::int64})}),
            name && Contains("key_padding_mask") && Contains("int64"));
        CHECK_THROWS_AS(mha(q, k, v, {.key_padding_mask = dc::zeros({5, 3}) != 0}), dc::ShapeError);
        // unbatched: [S]
        CHECK_THROWS_WITH(
            mha(r({4, 8}), r({5, 6}), r({5, 5}), {.key_padding_mask = dc::zeros({1, 5}) != 0}),
            name && Contains("[1,5]"));
    }
    SECTION("attn_mask") {
        CHECK_THROWS_WITH(mha(q, k, v, {.attn_mask = dc::zeros({4, 6})}),
                          name && Contains("attn_mask") && Contains("[4,6]") && Contains("[4,5]") &&
                              Contains("[6,4,5]"));
        CHECK_THROWS_WITH(mha(q, k, v, {.attn_mask = dc::zeros({3, 4, 5})}),
                          name && Contains("[3,4,5]"));  // needs N·heads = 6
        CHECK_THROWS_WITH(mha(q, k, v, {.attn_mask = dc::zeros({1, 6, 4, 5})}),
                          name && Contains("[1,6,4,5]"));
        CHECK_THROWS_WITH(mha(q, k, v, {.attn_mask = dc::zeros({4, 5}, {.dtype = dc::int64})}),
                          name && Contains("attn_mask") && Contains("int64"));
        CHECK_THROWS_WITH(mha(q, k, v, {.attn_mask = dc::zeros({4, 5}, {.dtype = dc::float64})}),
                          name && Contains("float64"));
        CHECK_THROWS_WITH(mha(q, k, v, {.is_causal = true}), name && Contains("is_causal"));
    }
}

TEST_CASE("hostile attention: multi_head_attention_forward's weights", "[attention][hostile]") {
    const auto name = Contains("multi_head_attention_forward");
    const dc::Tensor x = r({3, 2, 4});
    const dc::Tensor w = r({12, 4}), out_w = r({4, 4});
    const auto call = [&](nn::MultiheadAttentionParameters p) {
        return nn::multi_head_attention_forward(x, x, x, p);
    };
    CHECK_NOTHROW(call({.num_heads = 2, .in_proj_weight = w, .out_proj_weight = out_w}));
    CHECK_THROWS_WITH(call({.num_heads = 2, .in_proj_weight = w}),
                      name && Contains("out_proj_weight"));
    CHECK_THROWS_WITH(call({.num_heads = 0, .in_proj_weight = w, .out_proj_weight = out_w}),
                      name && Contains("num_heads"));
    CHECK_THROWS_WITH(call({.num_heads = 3, .in_proj_weight = w, .out_proj_weight = out_w}),
                      name && Contains("divisible"));
    CHECK_THROWS_WITH(call({.num_heads = 2, .out_proj_weight = out_w}),
                      name && Contains("in_proj_weight"));
    CHECK_THROWS_WITH(call({.num_heads = 2,
                            .in_proj_weight = w,
                            .q_proj_weight = out_w,
                            .out_proj_weight = out_w}),
                      name && Contains("q_proj_weight"));
    CHECK_THROWS_WITH(
        call({.num_heads = 2, .in_proj_weight = r({12, 5}), .out_proj_weight = out_w}),
        name && Contains("in_proj_weight") && Contains("[12,5]"));
    CHECK_THROWS_WITH(call({.num_heads = 2,
                            .in_proj_weight = w,
                            .in_proj_bias = r({8}),
                            .out_proj_weight = out_w}),
                      name && Contains("in_proj_bias") && Contains("[12]"));
    CHECK_THROWS_WITH(call({.num_heads = 2,
                            .in_proj_weight = w,
                            .bias_k = r({1, 1, 4}),
                            .out_proj_weight = out_w}),
                      name && Contains("bias_v"));
    CHECK_THROWS_WITH(call({.num_heads = 2, .in_proj_weight = w, .out_proj_weight = r({4, 3})}),
                      name && Contains("[4,3]"));
    CHECK_THROWS_WITH(
        call({.num_heads = 2, .in_proj_weight = w, .out_proj_weight = out_w, .dropout_p = kNaN}),
        name && Contains("dropout_p"));
}

TEST_CASE("hostile attention: TransformerEncoderLayer and TransformerEncoder",
          "[attention][transformer][hostile]") {
    using L = nn::TransformerEncoderLayer;
    const auto name = Contains("TransformerEncoderLayer");
    CHECK_THROWS_WITH(L(0, 1), name && Contains("d_model"));
    CHECK_THROWS_WITH(L(-4, 2), name && Contains("d_model") && Contains("-4"));
    CHECK_THROWS_WITH(L(8, 0), name && Contains("nhead"));
    CHECK_THROWS_WITH(L(10, 3), name && Contains("10") && Contains("3") && Contains("divisible"));
    CHECK_THROWS_WITH(L(8, 2, {.dim_feedforward = 0}), name && Contains("dim_feedforward"));
    CHECK_THROWS_WITH(L(8, 2, {.dim_feedforward = -16}), name && Contains("-16"));
    for (const double p : {kNaN, -0.1, 2.0}) {
        CHECK_THROWS_WITH(L(8, 2, {.dropout = p}), name && Contains("dropout"));
    }
    for (const double eps : {kNaN, 0.0, -1e-5, kInf}) {
        CHECK_THROWS_WITH(L(8, 2, {.layer_norm_eps = eps}), name && Contains("layer_norm_eps"));
    }
    CHECK_THROWS_WITH(L(8, 2, {.activation = static_cast<nn::TransformerActivation>(7)}),
                      name && Contains("activation"));
    CHECK_THROWS_WITH(L(8, 2, {.dim_feedforward = kMax}), name);

    L layer(8, 2, {.dim_feedforward = 16});
    const dc::Tensor src = r({5, 3, 8});
    CHECK_THROWS_WITH(layer(src, {.is_causal = true}), name && Contains("src_mask"));
    CHECK_THROWS_WITH(layer(r({5, 3, 6})),
                      name && Contains("MultiheadAttention") && Contains("[5,3,6]"));
    CHECK_THROWS_AS(layer(r({2, 5, 3, 8})), dc::ShapeError);
    CHECK_THROWS_WITH(layer(src, {.src_key_padding_mask = dc::zeros({5, 3}) != 0}),
                      name && Contains("key_padding_mask"));
    CHECK_THROWS_AS(layer(src, {.src_mask = dc::zeros({5, 5}, {.dtype = dc::int64})}),
                    dc::DtypeError);

    const auto encoder_name = Contains("TransformerEncoder");
    CHECK_THROWS_WITH(nn::TransformerEncoder(layer, 0), encoder_name && Contains("num_layers"));
    CHECK_THROWS_WITH(nn::TransformerEncoder(layer, -2), encoder_name && Contains("-2"));
    nn::TransformerEncoder encoder(layer, 2);
    CHECK_THROWS_WITH(encoder(src, {.is_causal = true}), encoder_name && Contains("mask"));
    CHECK_THROWS_WITH(
        encoder(src, {.mask = dc::zeros({5, 4})}),
        Contains("TransformerEncoder: layers.0: TransformerEncoderLayer") && Contains("[5,4]"));
}
