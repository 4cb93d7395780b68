#pragma once
// The pieces export_onnx's per-layer exporters share: the value flowing through the graph,
// the flat table they register in (one file per layer family), and small helpers.

#include <cstdint>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "descent/nn/module.hpp"
#include "onnx_graph.hpp"

namespace descent::nn::onnx_detail {

/// A tensor of the graph: its name, its value for the example input (which fixes every
/// extent but the batch's) and the axis that holds the batch (-1: none, merged away).
struct Value {
    std::string name;
    Tensor example;
    std::int64_t batch_axis = 0;
};

/// Emits the nodes of module `m` (at `path` in the model, "" for the whole model) applied to
/// `in`; returns the output.
using Exporter = Value (*)(Module& m, const std::string& path, const Value& in, Graph& g);

/// One row of the table: the concrete module type it exports.
struct ExporterEntry {
    std::type_index type;
    Exporter exporter;
};
template <class M>
ExporterEntry entry(Exporter exporter) {
    return {std::type_index(typeid(M)), exporter};
}

/// The layer families' rows (onnx_dense.cpp, onnx_spatial.cpp, onnx_norm.cpp,
/// onnx_recurrent.cpp, onnx_attention.cpp).
void add_dense_exporters(std::vector<ExporterEntry>& table);
void add_spatial_exporters(std::vector<ExporterEntry>& table);
void add_norm_exporters(std::vector<ExporterEntry>& table);
void add_recurrent_exporters(std::vector<ExporterEntry>& table);
void add_attention_exporters(std::vector<ExporterEntry>& table);

/// The table's exporter for m's concrete type, or an Error naming path and type.
Value export_module(Module& m, const std::string& path, const Value& in, Graph& g);

/// "3.conv", or "(the model)" for the root: for messages.
std::string display_path(const std::string& path);
/// An Error "export_onnx: <path> (<type>): <why>".
[[noreturn]] void refuse(const std::string& path, const Module& m, std::string_view why);
/// path + "." + name (name alone at the root).
std::string join(const std::string& path, std::string_view name);
/// m's own parameter or buffer `name` as an initializer named by its state_dict name.
std::string param(Graph& g, const Module& m, const std::string& path, std::string_view name);
/// Whether m has its own parameter or buffer `name` (defined).
bool has_param(const Module& m, std::string_view name);
/// The module applied to the example: the output Value named `name` (batch axis kept).
Value ran(Module& m, const Value& in, std::string name);
/// A Reshape of `in` to `shape` (the example's), the batch axis at `batch_axis` of the
/// result (-1: merged into another axis, which is then inferred).
std::string reshape(Graph& g, const Value& in, const Shape& shape, std::int64_t batch_axis,
                    std::int64_t merged_axis = -1);

}  // namespace descent::nn::onnx_detail
