// export_onnx's recurrent layers as ONNX's RNN, LSTM and GRU ops, one op per layer. The
// weights stay the torch-named initializers ("weight_ih_l0", "bias_hh_l1_reverse"); the gate
// order ONNX wants is made in the graph by Split and Concat: torch's LSTM has gates i, f, g, o
// and ONNX's i, o, f, c; torch's GRU r, z, n and ONNX's z, r, h (with linear_before_reset = 1,
// which is torch's n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn))). ONNX's Y [L, D, N, H]
// becomes torch's [L, N, D·H]; a batch-first layer is transposed on the way in and out.

#include <fmt/format.h>

#include "descent/nn/recurrent.hpp"
#include "onnx_exporters.hpp"

namespace descent::nn::onnx_detail {
namespace {

using Ints = std::vector<std::int64_t>;

/// t [G·H, ...] with its G gate blocks in `order`, as [1, G·H, ...].
std::string reordered(Graph& g, const std::string& t, const Ints& order) {
    std::string joined = t;
    if (order.size() > 1) {
        const auto parts =
            g.node("Split", {t}, {attr("axis", std::int64_t{0})}, order.size(), "gate");
        std::vector<std::string> ordered;
        for (const std::int64_t k : order) ordered.push_back(parts[static_cast<std::size_t>(k)]);
        joined = g.node("Concat", ordered, {attr("axis", std::int64_t{0})});
    }
    return g.node("Unsqueeze", {joined, g.ints("axes", {0})});
}

/// One layer's weights for every direction, concatenated on the direction axis.
std::string stacked(Graph& g, const std::vector<std::string>& per_direction) {
    if (per_direction.size() == 1) return per_direction[0];
    return g.node("Concat", per_direction, {attr("axis", std::int64_t{0})});
}

Value recurrent(Module& m, const std::string& path, const Value& in, Graph& g) {
    auto& r = static_cast<RecurrentLayer&>(m);
    const bool lstm = dynamic_cast<LSTM*>(&m) != nullptr;
    const bool gru = dynamic_cast<GRU*>(&m) != nullptr;
    if (r.proj_size() > 0) refuse(path, m, "LSTM projections (proj_size; ONNX's LSTM has none)");
    if (in.example.dim() != 3) refuse(path, m, "an unbatched (2-d) input");
    const std::int64_t expected_batch = r.batch_first() ? 0 : 1;
    if (in.batch_axis != expected_batch) {
        refuse(path, m, fmt::format("the batch must be dim {} of its input", expected_batch));
    }
    Value out;
    if (lstm) {
        out.example = static_cast<LSTM&>(m).forward(in.example).output;
    } else if (gru) {
        out.example = static_cast<GRU&>(m).forward(in.example).output;
    } else {
        out.example = static_cast<RNN&>(m).forward(in.example).output;
    }
    out.batch_axis = in.batch_axis;

    const Ints order = lstm ? Ints{0, 3, 1, 2} : gru ? Ints{1, 0, 2} : Ints{0};
    const std::string op = lstm ? "LSTM" : gru ? "GRU" : "RNN";
    const std::vector<std::string> suffixes =
        r.bidirectional() ? std::vector<std::string>{"", "_reverse"} : std::vector<std::string>{""};
    const Ints perm{1, 0, 2};
    std::string x = in.name;
    if (r.batch_first()) x = g.node("Transpose", {x}, {attr("perm", perm)});
    for (std::int64_t layer = 0; layer < r.num_layers(); ++layer) {
        std::vector<std::string> w, rr, b;
        for (const std::string& suffix : suffixes) {
            const auto name = [&](std::string_view what) {
                return fmt::format("{}_l{}{}", what, layer, suffix);
            };
            w.push_back(reordered(g, param(g, m, path, name("weight_ih")), order));
            rr.push_back(reordered(g, param(g, m, path, name("weight_hh")), order));
            if (r.has_bias()) {
                const std::string bias =
                    g.node("Concat",
                           {param(g, m, path, name("bias_ih")), param(g, m, path, name("bias_hh"))},
                           {attr("axis", std::int64_t{0})});
                // [2·G·H]: reorder each half's gates: as [2, G·H] split along dim 1
                const std::string halves = g.node("Reshape", {bias, g.ints("shape", {2, -1})});
                const auto parts = g.node("Split", {halves}, {attr("axis", std::int64_t{1})},
                                          order.size(), "gate");
                std::vector<std::string> ordered;
                for (const std::int64_t k : order) {
                    ordered.push_back(parts[static_cast<std::size_t>(k)]);
                }
                const std::string joined =
                    order.size() > 1 ? g.node("Concat", ordered, {attr("axis", std::int64_t{1})})
                                     : halves;
                b.push_back(g.node("Reshape", {joined, g.ints("shape", {1, -1})}));
            }
        }
        std::vector<std::string> inputs{x, stacked(g, w), stacked(g, rr)};
        if (r.has_bias()) inputs.push_back(stacked(g, b));
        std::vector<Attribute> attributes{
            attr("hidden_size", r.hidden_size()),
            attr("direction", std::string(r.bidirectional() ? "bidirectional" : "forward"))};
        if (gru) attributes.push_back(attr("linear_before_reset", std::int64_t{1}));
        if (!lstm && !gru) {
            const std::string f = r.relu() ? "Relu" : "Tanh";
            attributes.push_back(attr("activations", std::vector<std::string>(suffixes.size(), f)));
        }
        const auto outputs = g.node(op, inputs, attributes, lstm ? 3 : 2, op);
        // Y [L, D, N, H] → [L, N, D, H] → [L, N, D·H]
        const std::string y = g.node("Transpose", {outputs[0]}, {attr("perm", Ints{0, 2, 1, 3})});
        x = g.node("Reshape", {y, g.ints("shape", {0, 0, -1})});
    }
    if (r.batch_first()) x = g.node("Transpose", {x}, {attr("perm", perm)});
    out.name = x;
    return out;
}

}  // namespace

void add_recurrent_exporters(std::vector<ExporterEntry>& table) {
    table.push_back(entry<RNN>(recurrent));
    table.push_back(entry<LSTM>(recurrent));
    table.push_back(entry<GRU>(recurrent));
}

}  // namespace descent::nn::onnx_detail
