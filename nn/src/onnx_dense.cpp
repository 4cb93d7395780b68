// export_onnx's dense layers: Sequential, Linear, Embedding, Flatten, Dropout, Identity and the
// activations.

#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "descent/nn/layers.hpp"
#include "descent/nn/sequential.hpp"
#include "onnx_exporters.hpp"

namespace descent::nn::onnx_detail {
namespace {

Value sequential(Module& m, const std::string& path, const Value& in, Graph& g) {
    Value v = in;
    for (auto& [name, child] : m.named_children())
        v = export_module(*child, join(path, name), v, g);
    if (v.name == in.name) {  // empty: the identity
        v.name = g.node("Identity", {in.name});
    }
    return v;
}

/// y = x·Wᵀ + b: Gemm for a matrix, MatMul with the transposed weight for more dims.
Value linear(Module& m, const std::string& path, const Value& in, Graph& g) {
    const std::string w = param(g, m, path, "weight");
    const bool bias = has_param(m, "bias");
    if (in.example.dim() == 2) {
        std::vector<std::string> inputs{in.name, w};
        if (bias) inputs.push_back(param(g, m, path, "bias"));
        return ran(m, in, g.node("Gemm", inputs, {attr("transB", std::int64_t{1})}));
    }
    const std::string wt =
        g.node("Transpose", {w}, {attr("perm", std::vector<std::int64_t>{1, 0})});
    std::string y = g.node("MatMul", {in.name, wt});
    if (bias) y = g.node("Add", {y, param(g, m, path, "bias")});
    return ran(m, in, y);
}

Value embedding(Module& m, const std::string& path, const Value& in, Graph& g) {
    const std::string w = param(g, m, path, "weight");
    return ran(m, in, g.node("Gather", {w, in.name}, {attr("axis", std::int64_t{0})}));
}

Value identity(Module& m, const std::string&, const Value& in, Graph& g) {
    return ran(m, in, g.node("Identity", {in.name}));
}

Value flatten(Module& m, const std::string& path, const Value& in, Graph& g) {
    auto& f = static_cast<Flatten&>(m);
    Value out = ran(m, in, "");
    const std::int64_t rank = in.example.dim();
    if (rank == 0) refuse(path, m, "a 0-d input");
    const std::int64_t start = f.start_dim() < 0 ? f.start_dim() + rank : f.start_dim();
    const std::int64_t end = f.end_dim() < 0 ? f.end_dim() + rank : f.end_dim();
    std::int64_t batch = in.batch_axis, merged = -1;
    if (batch > end) {
        batch -= end - start;
    } else if (batch >= start && end > start) {
        batch = -1;
        merged = start;
    }
    out.batch_axis = batch;
    out.name = reshape(g, in, out.example.shape(), batch, merged);
    return out;
}

template <const char* Op>
Value unary(Module& m, const std::string&, const Value& in, Graph& g) {
    return ran(m, in, g.node(Op, {in.name}));
}
constexpr char kRelu[] = "Relu";
constexpr char kTanh[] = "Tanh";
constexpr char kSigmoid[] = "Sigmoid";

Value leaky_relu(Module& m, const std::string&, const Value& in, Graph& g) {
    const double slope = static_cast<LeakyReLU&>(m).negative_slope();
    return ran(m, in, g.node("LeakyRelu", {in.name}, {attr("alpha", slope)}));
}

/// GELU: x·½·(1 + erf(x/√2)), or x·½·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
Value gelu(Module& m, const std::string&, const Value& in, Graph& g) {
    const auto approximate = static_cast<GELU&>(m).approximate();
    std::string inner;
    if (approximate == GeluApproximation::none) {
        const std::string scaled = g.node("Mul", {in.name, g.scalar("c", std::numbers::sqrt2 / 2)});
        inner = g.node("Erf", {scaled});
    } else {
        const std::string x3 = g.node("Mul", {g.node("Mul", {in.name, in.name}), in.name});
        const std::string sum =
            g.node("Add", {in.name, g.node("Mul", {x3, g.scalar("c", 0.044715)})});
        const double k = std::sqrt(2.0 / std::numbers::pi);
        inner = g.node("Tanh", {g.node("Mul", {sum, g.scalar("c", k)})});
    }
    const std::string one_plus = g.node("Add", {inner, g.scalar("c", 1.0)});
    const std::string half_x = g.node("Mul", {in.name, g.scalar("c", 0.5)});
    return ran(m, in, g.node("Mul", {half_x, one_plus}));
}

/// Softplus with torch's beta and threshold: x where β·x > threshold, else log(1 + e^{βx})/β.
Value softplus(Module& m, const std::string&, const Value& in, Graph& g) {
    auto& s = static_cast<Softplus&>(m);
    const std::string bx = g.node("Mul", {in.name, g.scalar("beta", s.beta())});
    const std::string sp = g.node("Div", {g.node("Softplus", {bx}), g.scalar("beta", s.beta())});
    const std::string big = g.node("Greater", {bx, g.scalar("threshold", s.threshold())});
    return ran(m, in, g.node("Where", {big, in.name, sp}));
}

}  // namespace

void add_dense_exporters(std::vector<ExporterEntry>& table) {
    table.push_back(entry<Sequential>(sequential));
    table.push_back(entry<Linear>(linear));
    table.push_back(entry<Embedding>(embedding));
    table.push_back(entry<Flatten>(flatten));
    table.push_back(entry<Identity>(identity));
    table.push_back(entry<Dropout>(identity));
    table.push_back(entry<Dropout2d>(identity));
    table.push_back(entry<ReLU>(unary<kRelu>));
    table.push_back(entry<Tanh>(unary<kTanh>));
    table.push_back(entry<Sigmoid>(unary<kSigmoid>));
    table.push_back(entry<LeakyReLU>(leaky_relu));
    table.push_back(entry<GELU>(gelu));
    table.push_back(entry<Softplus>(softplus));
}

}  // namespace descent::nn::onnx_detail
