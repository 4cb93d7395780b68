#pragma once
// The ONNX graph export_onnx builds: nodes, initializers, the graph's input and output, and
// its serialisation as a ModelProto (ir_version 8, opset 17). Values are named by strings, as
// in ONNX; initializers keep the names they are given (the model's state_dict names).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "descent/tensor.hpp"

namespace descent::nn::onnx_detail {

inline constexpr std::int64_t kOpset = 17;
inline constexpr std::int64_t kIrVersion = 8;  // the IR version of opset 17 (ONNX 1.12)

/// A node attribute: one float, int, string, or a list of ints or strings.
struct Attribute {
    enum class Kind { f, i, s, ints, strings };
    std::string name;
    Kind kind = Kind::i;
    double f = 0.0;
    std::int64_t i = 0;
    std::string s;
    std::vector<std::int64_t> ints;
    std::vector<std::string> strings;
};
Attribute attr(std::string name, std::int64_t value);
Attribute attr(std::string name, double value);
Attribute attr(std::string name, std::string value);
Attribute attr(std::string name, std::vector<std::int64_t> values);
Attribute attr(std::string name, std::vector<std::string> values);

/// One extent of a graph input or output: a number, a named symbolic one ("batch"), or
/// unknown (value -1).
struct Dim {
    std::int64_t value = 0;
    std::string param;  ///< non-empty: symbolic
};

class Graph {
  public:
    /// `dtype`: the model's floating type, for the constants scalar() makes.
    explicit Graph(Dtype dtype) : dtype_(dtype) {}
    Dtype dtype() const { return dtype_; }

    /// A value name not used yet, from `hint`.
    std::string fresh(std::string_view hint);
    /// Adds `value` (float32, float64 or int64) as an initializer named `name`; returns it.
    std::string initializer(const std::string& name, const Tensor& value);
    /// A constant initializer with a fresh name from `hint`.
    std::string constant(std::string_view hint, const Tensor& value);
    /// An int64 1-D constant initializer (shapes, axes, pads).
    std::string ints(std::string_view hint, const std::vector<std::int64_t>& values);
    /// A 0-d constant of the model's dtype.
    std::string scalar(std::string_view hint, double value);
    /// Adds a node with one output (named from `hint`); returns the output's name.
    std::string node(std::string_view op, std::vector<std::string> inputs,
                     std::vector<Attribute> attributes = {}, std::string_view hint = {});
    /// Adds a node with `outputs` outputs; returns their names.
    std::vector<std::string> node(std::string_view op, std::vector<std::string> inputs,
                                  std::vector<Attribute> attributes, std::size_t outputs,
                                  std::string_view hint);
    /// Adds a node writing the given output names.
    void node_to(std::string_view op, std::vector<std::string> inputs,
                 std::vector<std::string> outputs, std::vector<Attribute> attributes = {});

    /// Keeps `name` from fresh() and initializers (the graph's input and output).
    void reserve(const std::string& name) { used_.push_back(name); }
    void add_input(const std::string& name, Dtype dtype, std::vector<Dim> dims);
    void add_output(const std::string& name, Dtype dtype, std::vector<Dim> dims);

    /// The ModelProto's bytes.
    std::string serialize(std::string_view graph_name) const;

  private:
    struct Node {
        std::string op;
        std::vector<std::string> inputs, outputs;
        std::vector<Attribute> attributes;
        std::string name;
    };
    struct ValueInfo {
        std::string name;
        Dtype dtype;
        std::vector<Dim> dims;
    };
    struct Initializer {
        std::string name;
        Tensor value;
    };
    Dtype dtype_;
    std::vector<Node> nodes_;
    std::vector<Initializer> initializers_;
    std::vector<ValueInfo> inputs_, outputs_;
    std::vector<std::string> used_;
    std::int64_t counter_ = 0;
};

}  // namespace descent::nn::onnx_detail
