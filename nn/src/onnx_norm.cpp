// export_onnx's normalisation layers: BatchNorm1d/2d and InstanceNorm1d/2d with running
// statistics as BatchNormalization, LayerNorm as LayerNormalization (opset 17; composed in
// float64 models, whose eps a float32 attribute would round), GroupNorm and InstanceNorm
// without running statistics composed of ReduceMean, Sub, Mul, Sqrt and Div.

#include <fmt/format.h>

#include "descent/nn/layers.hpp"
#include "descent/nn/normalization.hpp"
#include "onnx_exporters.hpp"

namespace descent::nn::onnx_detail {
namespace {

using Ints = std::vector<std::int64_t>;

/// m's `name` as an initializer, or else a constant `fill` of `shape` (not affine).
std::string param_or(Graph& g, const Module& m, const std::string& path, std::string_view name,
                     const Shape& shape, double fill) {
    if (has_param(m, name)) return param(g, m, path, name);
    return g.constant(name, full(shape, fill, {.dtype = g.dtype()}));
}

/// ONNX's epsilon attributes are float32: a float64 model adds its eps to the variance in
/// float64 instead (and gives the op epsilon 0), so its output is not off by eps's rounding.
std::string batch_normalization(Module& m, const std::string& path, const Value& in, Graph& g,
                                double eps) {
    const std::int64_t channels = in.example.size(1);
    const std::string scale = param_or(g, m, path, "weight", {channels}, 1.0);
    const std::string bias = param_or(g, m, path, "bias", {channels}, 0.0);
    const std::string mean = param(g, m, path, "running_mean");
    std::string var = param(g, m, path, "running_var");
    if (g.dtype() == Dtype::float64) {
        var = g.node("Add", {var, g.scalar("eps", eps)});
        eps = 0.0;
    }
    return g.node("BatchNormalization", {in.name, scale, bias, mean, var}, {attr("epsilon", eps)});
}

void check_batched(Module& m, const std::string& path, const Value& in) {
    if (in.example.dim() < 2 || in.batch_axis != 0) {
        refuse(path, m, "the input must be [N, C, ...] (batch first)");
    }
}

Value batch_norm(Module& m, const std::string& path, const Value& in, Graph& g) {
    check_batched(m, path, in);
    if (!has_param(m, "running_mean")) {
        refuse(path, m, "track_running_stats=False normalises by the batch in eval mode too");
    }
    return ran(m, in, batch_normalization(m, path, in, g, static_cast<BatchNorm1d&>(m).eps()));
}

Value layer_norm(Module& m, const std::string& path, const Value& in, Graph& g) {
    auto& n = static_cast<LayerNorm&>(m);
    const Shape& shape = n.normalized_shape();
    const auto axis = -static_cast<std::int64_t>(shape.size());
    if (in.batch_axis >= in.example.dim() + axis) {
        refuse(path, m, "the batch dimension is among the normalised ones");
    }
    if (g.dtype() == Dtype::float64) {  // eps in float64 (see batch_normalization)
        Ints axes;
        for (std::int64_t k = axis; k < 0; ++k) axes.push_back(k);
        const std::string mean = g.node("ReduceMean", {in.name}, {attr("axes", axes)});
        const std::string centred = g.node("Sub", {in.name, mean});
        const std::string var =
            g.node("ReduceMean", {g.node("Mul", {centred, centred})}, {attr("axes", axes)});
        const std::string deviation =
            g.node("Sqrt", {g.node("Add", {var, g.scalar("eps", n.eps())})});
        std::string y = g.node("Div", {centred, deviation});
        if (has_param(m, "weight")) y = g.node("Mul", {y, param(g, m, path, "weight")});
        if (has_param(m, "bias")) y = g.node("Add", {y, param(g, m, path, "bias")});
        return ran(m, in, y);
    }
    std::vector<std::string> inputs{in.name, param_or(g, m, path, "weight", shape, 1.0)};
    if (has_param(m, "bias")) inputs.push_back(param(g, m, path, "bias"));
    return ran(
        m, in,
        g.node("LayerNormalization", inputs, {attr("axis", axis), attr("epsilon", n.eps())}));
}

/// x [N, C, ...] normalised over each of `groups` groups of channels and all positions, then
/// scaled and shifted per channel by m's weight and bias if it has them.
std::string group_normalization(Module& m, const std::string& path, const Value& in, Graph& g,
                                std::int64_t groups, double eps) {
    const std::string grouped = g.node("Reshape", {in.name, g.ints("shape", {0, groups, -1})});
    const Attribute axes = attr("axes", Ints{2});
    const std::string mean = g.node("ReduceMean", {grouped}, {axes});
    const std::string centred = g.node("Sub", {grouped, mean});
    const std::string var = g.node("ReduceMean", {g.node("Mul", {centred, centred})}, {axes});
    const std::string deviation = g.node("Sqrt", {g.node("Add", {var, g.scalar("eps", eps)})});
    const std::string normed = g.node("Div", {centred, deviation});
    std::string y = g.node("Reshape", {normed, g.node("Shape", {in.name})});
    // weight and bias [C] as [C, 1, ...] against [N, C, ...]
    Ints per_channel(static_cast<std::size_t>(in.example.dim() - 1), 1);
    per_channel[0] = in.example.size(1);
    if (has_param(m, "weight")) {
        const std::string w =
            g.node("Reshape", {param(g, m, path, "weight"), g.ints("shape", per_channel)});
        y = g.node("Mul", {y, w});
    }
    if (has_param(m, "bias")) {
        const std::string b =
            g.node("Reshape", {param(g, m, path, "bias"), g.ints("shape", per_channel)});
        y = g.node("Add", {y, b});
    }
    return y;
}

Value group_norm(Module& m, const std::string& path, const Value& in, Graph& g) {
    check_batched(m, path, in);
    auto& n = static_cast<GroupNorm&>(m);
    return ran(m, in, group_normalization(m, path, in, g, n.num_groups(), n.eps()));
}

/// Instance norm: running statistics in eval mode if it tracks them, else each channel's own.
Value instance_norm(Module& m, const std::string& path, const Value& in, Graph& g) {
    check_batched(m, path, in);
    const double eps = static_cast<InstanceNormNd&>(m).eps();
    if (has_param(m, "running_mean")) return ran(m, in, batch_normalization(m, path, in, g, eps));
    return ran(m, in, group_normalization(m, path, in, g, in.example.size(1), eps));
}

}  // namespace

void add_norm_exporters(std::vector<ExporterEntry>& table) {
    table.push_back(entry<BatchNorm1d>(batch_norm));
    table.push_back(entry<BatchNorm2d>(batch_norm));
    table.push_back(entry<LayerNorm>(layer_norm));
    table.push_back(entry<GroupNorm>(group_norm));
    table.push_back(entry<InstanceNorm1d>(instance_norm));
    table.push_back(entry<InstanceNorm2d>(instance_norm));
}

}  // namespace descent::nn::onnx_detail
