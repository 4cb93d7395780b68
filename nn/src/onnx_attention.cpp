// export_onnx's attention layers: TransformerEncoderLayer (post-norm and pre-norm, relu or
// gelu) and TransformerEncoder, without masks (the one-tensor forward). The self-attention is
// composed of MatMul, Softmax, Reshape and Transpose (opset 17 has no attention op):
//   qkv = x·in_proj_weightᵀ + in_proj_bias, split into q, k, v [N, L, E]
//   each as H heads [N, H, L, E/H]; softmax(q·kᵀ/√(E/H))·v; heads joined; out_proj.
// The linear layers, layer norms and activation reuse the table's exporters, so the
// initializers keep their state_dict names ("layers.0.self_attn.in_proj_weight").

#include <fmt/format.h>

#include <cmath>

#include "descent/nn/transformer.hpp"
#include "onnx_exporters.hpp"

namespace descent::nn::onnx_detail {
namespace {

using Ints = std::vector<std::int64_t>;

/// Self-attention of x [N, L, E] (batch first in the graph; `path` names the attention module).
std::string self_attention(MultiheadAttention& mha, const std::string& path, const Value& x,
                           Graph& g) {
    const auto& o = mha.options();
    if (o.add_bias_kv || o.add_zero_attn || !has_param(mha, "in_proj_weight")) {
        refuse(path, mha, "add_bias_kv, add_zero_attn and separate kdim/vdim projections");
    }
    const std::int64_t e = mha.embed_dim(), heads = mha.num_heads(), head_dim = e / heads;
    const std::string w =
        g.node("Transpose", {param(g, mha, path, "in_proj_weight")}, {attr("perm", Ints{1, 0})});
    std::string qkv = g.node("MatMul", {x.name, w});
    if (has_param(mha, "in_proj_bias")) {
        qkv = g.node("Add", {qkv, param(g, mha, path, "in_proj_bias")});
    }
    const auto parts = g.node("Split", {qkv}, {attr("axis", std::int64_t{-1})}, 3, "qkv");
    const std::string shape = g.ints("shape", {0, 0, heads, head_dim});
    const auto heads_of = [&](const std::string& t, const Ints& perm) {
        return g.node("Transpose", {g.node("Reshape", {t, shape})}, {attr("perm", perm)});
    };
    const std::string q = heads_of(parts[0], {0, 2, 1, 3});   // [N, H, L, hd]
    const std::string kt = heads_of(parts[1], {0, 2, 3, 1});  // [N, H, hd, L]
    const std::string v = heads_of(parts[2], {0, 2, 1, 3});
    const std::string scores =
        g.node("Mul", {g.node("MatMul", {q, kt}),
                       g.scalar("scale", 1.0 / std::sqrt(static_cast<double>(head_dim)))});
    const std::string weights = g.node("Softmax", {scores}, {attr("axis", std::int64_t{-1})});
    const std::string attended =
        g.node("Transpose", {g.node("MatMul", {weights, v})}, {attr("perm", Ints{0, 2, 1, 3})});
    const std::string joined = g.node("Reshape", {attended, g.ints("shape", {0, 0, e})});
    // out_proj through Linear's exporter: its example only fixes the rank (3-d: MatMul).
    const Value heads_out{joined, x.example, 0};
    return export_module(mha.out_proj(), join(path, "out_proj"), heads_out, g).name;
}

Value encoder_layer(Module& m, const std::string& path, const Value& in, Graph& g) {
    auto& layer = static_cast<TransformerEncoderLayer&>(m);
    const auto& o = layer.options();
    if (in.example.dim() != 3) refuse(path, m, "an unbatched (2-d) input");
    const std::int64_t expected_batch = o.batch_first ? 0 : 1;
    if (in.batch_axis != expected_batch) {
        refuse(path, m, fmt::format("the batch must be dim {} of its input", expected_batch));
    }
    const Ints swap{1, 0, 2};
    // Work batch first: [N, L, E].
    Value x = in;
    if (!o.batch_first) {
        x.name = g.node("Transpose", {x.name}, {attr("perm", swap)});
        x.example = in.example.transpose(0, 1);
        x.batch_axis = 0;
    }
    const auto attention_block = [&](const Value& v) {
        Value out = v;
        out.name = self_attention(layer.self_attn(), join(path, "self_attn"), v, g);
        return out;
    };
    const auto feed_forward = [&](const Value& v) {
        Value h = export_module(layer.linear1(), join(path, "linear1"), v, g);
        if (o.activation == TransformerActivation::relu) {
            h.name = g.node("Relu", {h.name});
        } else {
            GELU gelu;
            h = export_module(gelu, join(path, "activation"), h, g);
        }
        return export_module(layer.linear2(), join(path, "linear2"), h, g);
    };
    const auto add = [&](const Value& a, const Value& b) {
        Value sum = a;
        sum.name = g.node("Add", {a.name, b.name});
        return sum;
    };
    const std::string norm1 = join(path, "norm1"), norm2 = join(path, "norm2");
    if (o.norm_first) {
        x = add(x, attention_block(export_module(layer.norm1(), norm1, x, g)));
        x = add(x, feed_forward(export_module(layer.norm2(), norm2, x, g)));
    } else {
        x = export_module(layer.norm1(), norm1, add(x, attention_block(x)), g);
        x = export_module(layer.norm2(), norm2, add(x, feed_forward(x)), g);
    }
    std::string y = x.name;
    if (!o.batch_first) y = g.node("Transpose", {y}, {attr("perm", swap)});
    return ran(m, in, y);
}

Value encoder(Module& m, const std::string& path, const Value& in, Graph& g) {
    auto& e = static_cast<TransformerEncoder&>(m);
    Value x = in;
    for (std::int64_t i = 0; i < e.num_layers(); ++i) {
        x = export_module(e.layer(i), join(path, fmt::format("layers.{}", i)), x, g);
    }
    if (e.norm()) x = export_module(*e.norm(), join(path, "norm"), x, g);
    return ran(m, in, x.name);
}

}  // namespace

void add_attention_exporters(std::vector<ExporterEntry>& table) {
    table.push_back(entry<TransformerEncoderLayer>(encoder_layer));
    table.push_back(entry<TransformerEncoder>(encoder));
}

}  // namespace descent::nn::onnx_detail
