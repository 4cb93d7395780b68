// export_onnx's convolution and pooling layers: Conv1d/2d (with Pad for reflect and replicate
// padding), ConvTranspose1d/2d, MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d and
// AdaptiveMaxPool1d/2d.

#include <fmt/format.h>

#include "descent/nn/conv.hpp"
#include "descent/nn/pooling.hpp"
#include "onnx_exporters.hpp"

namespace descent::nn::onnx_detail {
namespace {

using Ints = std::vector<std::int64_t>;

/// The input must be batched: [N, C, spatial...].
std::size_t spatial_rank(Module& m, const std::string& path, const Value& in, std::size_t rank) {
    if (in.example.dim() != static_cast<std::int64_t>(rank) + 2 || in.batch_axis != 0) {
        refuse(path, m,
               fmt::format("the input must be [N, C] and {} spatial dims (batch first)", rank));
    }
    return rank;
}

/// ONNX's pads: every begin, then every end.
Ints onnx_pads(const Ints& begin, const Ints& end) {
    Ints pads = begin;
    pads.insert(pads.end(), end.begin(), end.end());
    return pads;
}

Value conv(Module& m, const std::string& path, const Value& in, Graph& g) {
    auto& c = static_cast<ConvNd&>(m);
    const std::size_t rank = spatial_rank(m, path, in, c.rank());
    const auto& o = c.options();
    const Shape& w = c.weight().shape();
    const Ints kernel(w.begin() + 2, w.end());
    const Ints dilation = o.dilation.expand(rank, "export_onnx", "dilation");
    Ints begin(rank), end(rank);
    if (o.padding.same()) {  // torch: the total d·(k − 1), the odd one on the right
        for (std::size_t k = 0; k < rank; ++k) {
            const std::int64_t total = dilation[k] * (kernel[k] - 1);
            begin[k] = total / 2;
            end[k] = total - begin[k];
        }
    } else {
        begin = o.padding.extents().expand(rank, "export_onnx", "padding");
        end = begin;
    }
    std::string x = in.name;
    if (o.padding_mode != PadMode::constant) {
        if (o.padding_mode == PadMode::circular) {
            refuse(path, m, "circular padding (ONNX's Pad has 'wrap' only from opset 19)");
        }
        Ints b{0, 0}, e{0, 0};
        b.insert(b.end(), begin.begin(), begin.end());
        e.insert(e.end(), end.begin(), end.end());
        const std::string mode = o.padding_mode == PadMode::reflect ? "reflect" : "edge";
        x = g.node("Pad", {x, g.ints("pads", onnx_pads(b, e))}, {attr("mode", mode)});
        std::fill(begin.begin(), begin.end(), 0);
        std::fill(end.begin(), end.end(), 0);
    }
    std::vector<std::string> inputs{x, param(g, m, path, "weight")};
    if (has_param(m, "bias")) inputs.push_back(param(g, m, path, "bias"));
    return ran(m, in,
               g.node("Conv", inputs,
                      {attr("kernel_shape", kernel),
                       attr("strides", o.stride.expand(rank, "export_onnx", "stride")),
                       attr("pads", onnx_pads(begin, end)), attr("dilations", dilation),
                       attr("group", o.groups)}));
}

Value conv_transpose(Module& m, const std::string& path, const Value& in, Graph& g) {
    auto& c = static_cast<ConvTransposeNd&>(m);
    const std::size_t rank = spatial_rank(m, path, in, c.rank());
    const auto& o = c.options();
    const Shape& w = c.weight().shape();
    const Ints padding = o.padding.expand(rank, "export_onnx", "padding");
    std::vector<std::string> inputs{in.name, param(g, m, path, "weight")};
    if (has_param(m, "bias")) inputs.push_back(param(g, m, path, "bias"));
    return ran(m, in,
               g.node("ConvTranspose", inputs,
                      {attr("kernel_shape", Ints(w.begin() + 2, w.end())),
                       attr("strides", o.stride.expand(rank, "export_onnx", "stride")),
                       attr("pads", onnx_pads(padding, padding)),
                       attr("dilations", o.dilation.expand(rank, "export_onnx", "dilation")),
                       attr("output_padding",
                            o.output_padding.expand(rank, "export_onnx", "output_padding")),
                       attr("group", o.groups)}));
}

/// Crops the spatial dims of `y` to the example output's: where ceil_mode's last window
/// starts in the right padding, torch drops it and ONNX's output-size rule may not.
std::string crop_to(Graph& g, const std::string& y, const Value& out, std::size_t rank) {
    Ints axes, ends;
    for (std::size_t k = 0; k < rank; ++k) {
        axes.push_back(static_cast<std::int64_t>(k) + 2);
        ends.push_back(out.example.size(static_cast<std::int64_t>(k) + 2));
    }
    return g.node("Slice",
                  {y, g.ints("starts", Ints(rank, 0)), g.ints("ends", ends), g.ints("axes", axes)});
}

template <class Pool, std::size_t Rank, bool Max>
Value pool(Module& m, const std::string& path, const Value& in, Graph& g) {
    auto& p = static_cast<Pool&>(m);
    const std::size_t rank = spatial_rank(m, path, in, Rank);
    const auto& o = p.options();
    const Ints kernel = p.kernel_size().expand(rank, "export_onnx", "kernel_size");
    const Ints stride = o.stride.empty() ? kernel : o.stride.expand(rank, "export_onnx", "stride");
    const Ints padding = o.padding.expand(rank, "export_onnx", "padding");
    std::vector<Attribute> attributes{attr("kernel_shape", kernel), attr("strides", stride),
                                      attr("pads", onnx_pads(padding, padding)),
                                      attr("ceil_mode", std::int64_t{o.ceil_mode})};
    if constexpr (Max) {
        attributes.push_back(attr("dilations", o.dilation.expand(rank, "export_onnx", "dilation")));
    } else {
        if (o.divisor_override) refuse(path, m, "divisor_override (ONNX has none)");
        attributes.push_back(attr("count_include_pad", std::int64_t{o.count_include_pad}));
    }
    Value out = ran(m, in, "");
    std::string y = g.node(Max ? "MaxPool" : "AveragePool", {in.name}, attributes);
    out.name = o.ceil_mode ? crop_to(g, y, out, rank) : y;
    return out;
}

/// Adaptive pooling: global for output 1, else a plain pool with kernel = stride = in / out
/// where every input extent is a multiple of the output's.
template <class Pool, std::size_t Rank, bool Max>
Value adaptive(Module& m, const std::string& path, const Value& in, Graph& g) {
    auto& p = static_cast<Pool&>(m);
    const std::size_t rank = spatial_rank(m, path, in, Rank);
    const Ints size = p.output_size().expand(rank, "export_onnx", "output_size");
    bool global = true;
    Ints kernel(rank);
    for (std::size_t k = 0; k < rank; ++k) {
        const std::int64_t extent = in.example.size(static_cast<std::int64_t>(k) + 2);
        if (size[k] <= 0 || extent % size[k] != 0) {
            refuse(path, m,
                   fmt::format("input extent {} is not a multiple of output extent {} "
                               "(ONNX has no adaptive pooling)",
                               extent, size[k]));
        }
        kernel[k] = extent / size[k];
        global = global && size[k] == 1;
    }
    if (global) return ran(m, in, g.node(Max ? "GlobalMaxPool" : "GlobalAveragePool", {in.name}));
    return ran(m, in,
               g.node(Max ? "MaxPool" : "AveragePool", {in.name},
                      {attr("kernel_shape", kernel), attr("strides", kernel)}));
}

}  // namespace

void add_spatial_exporters(std::vector<ExporterEntry>& table) {
    table.push_back(entry<Conv1d>(conv));
    table.push_back(entry<Conv2d>(conv));
    table.push_back(entry<ConvTranspose1d>(conv_transpose));
    table.push_back(entry<ConvTranspose2d>(conv_transpose));
    table.push_back(entry<MaxPool1d>(pool<MaxPool1d, 1, true>));
    table.push_back(entry<MaxPool2d>(pool<MaxPool2d, 2, true>));
    table.push_back(entry<AvgPool1d>(pool<AvgPool1d, 1, false>));
    table.push_back(entry<AvgPool2d>(pool<AvgPool2d, 2, false>));
    table.push_back(entry<AdaptiveAvgPool1d>(adaptive<AdaptiveAvgPool1d, 1, false>));
    table.push_back(entry<AdaptiveAvgPool2d>(adaptive<AdaptiveAvgPool2d, 2, false>));
    table.push_back(entry<AdaptiveMaxPool1d>(adaptive<AdaptiveMaxPool1d, 1, true>));
    table.push_back(entry<AdaptiveMaxPool2d>(adaptive<AdaptiveMaxPool2d, 2, true>));
}

}  // namespace descent::nn::onnx_detail
