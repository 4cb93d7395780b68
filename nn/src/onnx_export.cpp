// export_onnx (onnx.hpp): the model in eval mode, walked module by module through the flat
// exporter table, serialised and written atomically.

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "atomic_write.hpp"
#include "descent/autograd.hpp"
#include "descent/nn/onnx.hpp"
#include "descent/nn/recurrent.hpp"
#include "descent/nn/transformer.hpp"
#include "onnx_exporters.hpp"

namespace descent::nn::onnx_detail {
namespace {

const std::unordered_map<std::type_index, Exporter>& table() {
    static const auto map = [] {
        std::vector<ExporterEntry> rows;
        add_dense_exporters(rows);
        add_spatial_exporters(rows);
        add_norm_exporters(rows);
        add_recurrent_exporters(rows);
        add_attention_exporters(rows);
        std::unordered_map<std::type_index, Exporter> m;
        for (const auto& row : rows) m.emplace(row.type, row.exporter);
        return m;
    }();
    return map;
}

/// Puts the model in eval mode and restores every module's own training flag afterwards (a
/// child may have been in eval mode while its parent trained).
class EvalGuard {
  public:
    explicit EvalGuard(Module& model) {
        std::vector<Module*> stack{&model};
        while (!stack.empty()) {
            Module* m = stack.back();
            stack.pop_back();
            flags_.emplace_back(m, m->is_training());
            for (const auto& child : m->children()) stack.push_back(child.get());
        }
        model.eval();
    }
    ~EvalGuard() {
        // Parents first, so a child's own flag is the last word.
        for (auto& [m, training] : flags_) m->train(training);
    }
    EvalGuard(const EvalGuard&) = delete;
    EvalGuard& operator=(const EvalGuard&) = delete;

  private:
    std::vector<std::pair<Module*, bool>> flags_;
};

/// The floating dtype of the model's parameters and buffers (all alike), else the input's.
Dtype model_dtype(const Module& model, const Tensor& input) {
    std::optional<Dtype> dtype;
    for (const auto& [name, t] : model.state_dict()) {
        if (!t.defined() || (t.dtype() != Dtype::float32 && t.dtype() != Dtype::float64)) continue;
        if (dtype && *dtype != t.dtype()) {
            throw Error(fmt::format("export_onnx: the model mixes float32 and float64 ({} is {})",
                                    name, dtype_name(t.dtype())));
        }
        dtype = t.dtype();
    }
    if (dtype) return *dtype;
    if (input.dtype() == Dtype::float64) return Dtype::float64;
    return Dtype::float32;
}

/// Where the model's input holds the batch: dim 1 for a time-major (not batch-first) recurrent
/// or transformer model of [L, N, features], else dim 0.
std::int64_t input_batch_axis(Module& model, const Tensor& x) {
    if (x.dim() != 3) return 0;
    bool batch_first = true;
    if (auto* r = dynamic_cast<RecurrentLayer*>(&model)) batch_first = r->batch_first();
    if (auto* t = dynamic_cast<TransformerEncoderLayer*>(&model)) {
        batch_first = t->options().batch_first;
    }
    if (auto* t = dynamic_cast<TransformerEncoder*>(&model); t && t->num_layers() > 0) {
        batch_first = t->layer(0).options().batch_first;
    }
    return batch_first ? 0 : 1;
}

std::vector<Dim> dims(const Value& v, bool dynamic) {
    std::vector<Dim> out;
    for (std::int64_t k = 0; k < v.example.dim(); ++k) {
        if (dynamic && v.batch_axis < 0 && k == 0) {
            out.push_back(Dim{-1, {}});  // the batch merged into dim 0: unknown
        } else if (dynamic && k == v.batch_axis) {
            out.push_back(Dim{0, "batch"});
        } else {
            out.push_back(Dim{v.example.size(k), {}});
        }
    }
    return out;
}

}  // namespace

Value export_module(Module& m, const std::string& path, const Value& in, Graph& g) {
    const auto it = table().find(std::type_index(typeid(m)));
    if (it == table().end()) refuse(path, m, "no ONNX export for this module type");
    return it->second(m, path, in, g);
}

std::string display_path(const std::string& path) {
    return path.empty() ? "(the model)" : path;
}

void refuse(const std::string& path, const Module& m, std::string_view why) {
    throw Error(fmt::format("export_onnx: {} ({}): {}; nothing was written", display_path(path),
                            m.type_name(), why));
}

std::string join(const std::string& path, std::string_view name) {
    return path.empty() ? std::string(name) : fmt::format("{}.{}", path, name);
}

bool has_param(const Module& m, std::string_view name) {
    for (const auto& [key, t] : m.named_parameters()) {
        if (key == name) return t.defined();
    }
    for (const auto& [key, t] : m.named_buffers()) {
        if (key == name) return t.defined();
    }
    return false;
}

std::string param(Graph& g, const Module& m, const std::string& path, std::string_view name) {
    for (const auto& list : {m.named_parameters(), m.named_buffers()}) {
        for (const auto& [key, t] : list) {
            if (key == name && t.defined()) return g.initializer(join(path, name), t.detach());
        }
    }
    refuse(path, m, fmt::format("it has no '{}'", name));
}

Value ran(Module& m, const Value& in, std::string name) {
    return {std::move(name), m.forward(in.example), in.batch_axis};
}

std::string reshape(Graph& g, const Value& in, const Shape& shape, std::int64_t batch_axis,
                    std::int64_t merged_axis) {
    std::vector<std::int64_t> target(shape.begin(), shape.end());
    for (std::size_t j = 0; j < target.size(); ++j) {
        const auto k = static_cast<std::int64_t>(j);
        if (k == batch_axis) target[j] = batch_axis == in.batch_axis ? 0 : -1;
        if (k == merged_axis) target[j] = -1;
    }
    return g.node("Reshape", {in.name, g.ints("shape", target)});
}

}  // namespace descent::nn::onnx_detail

namespace descent::nn {

Tensor export_onnx(Module& model, const Tensor& example_input, const std::filesystem::path& path,
                   const OnnxExportOptions& options) {
    using namespace onnx_detail;
    if (!example_input.defined()) throw Error("export_onnx: the example input is undefined");
    if (example_input.dim() == 0) throw ShapeError("export_onnx: the example input is 0-d");
    if (example_input.numel() == 0) {
        throw ShapeError(
            fmt::format("export_onnx: the example input {} is empty (it must run the "
                        "model and fix its extents)",
                        shape_str(example_input.shape())));
    }
    if (options.input_name.empty() || options.output_name.empty() ||
        options.input_name == options.output_name) {
        throw Error("export_onnx: the input and output names must be distinct and non-empty");
    }
    const EvalGuard eval(model);
    const NoGradGuard no_grad;
    Graph g(model_dtype(model, example_input));
    g.reserve(options.input_name);
    g.reserve(options.output_name);
    const auto* recurrent = dynamic_cast<const RecurrentLayer*>(&model);
    const std::int64_t batch_axis = input_batch_axis(model, example_input);
    if (!recurrent) {  // the model must run on the example (a recurrent one is run below)
        try {
            (void)model.forward(example_input);
        } catch (const Error& e) {
            throw Error(fmt::format("export_onnx: the model does not run on the example input: {}",
                                    e.what()));
        }
    }
    Value in{options.input_name, example_input.detach(), batch_axis};
    Value out = export_module(model, "", in, g);
    g.node_to("Identity", {out.name}, {options.output_name});
    out.name = options.output_name;
    g.add_input(in.name, in.example.dtype(), dims(in, options.dynamic_batch));
    g.add_output(out.name, out.example.dtype(), dims(out, options.dynamic_batch));
    write_file_atomically(g.serialize("descent"), path, "export_onnx: cannot write");
    return out.example;
}

}  // namespace descent::nn
