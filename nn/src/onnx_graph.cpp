// Serialisation of the ONNX graph. Field numbers are those of onnx/onnx.proto (ONNX 1.12, as
// Debian's python3-onnx installs it in /usr/lib/python3/dist-packages/onnx/onnx.proto;
// https://github.com/onnx/onnx/blob/v1.12.0/onnx/onnx.proto):
//   ModelProto        ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8
//   OperatorSetIdProto domain 1, version 2
//   GraphProto        node 1, name 2, initializer 5, input 11, output 12
//   NodeProto         input 1, output 2, name 3, op_type 4, attribute 5
//   AttributeProto    name 1, f 2, i 3, s 4, ints 8, strings 9, type 20
//                     (AttributeType FLOAT 1, INT 2, STRING 3, INTS 7, STRINGS 8)
//   TensorProto       dims 1, data_type 2, name 8, raw_data 9 (DataType FLOAT 1, INT64 7,
//                     BOOL 9, DOUBLE 11; raw_data little-endian)
//   ValueInfoProto    name 1, type 2;  TypeProto tensor_type 1;  TypeProto.Tensor elem_type 1,
//                     shape 2;  TensorShapeProto dim 1;  Dimension dim_value 1, dim_param 2

#include "onnx_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>

#include "descent/error.hpp"
#include "protobuf_writer.hpp"

namespace descent::nn::onnx_detail {
namespace {

std::int64_t data_type(Dtype dtype) {
    switch (dtype) {
        case Dtype::float32:
            return 1;
        case Dtype::float64:
            return 11;
        case Dtype::int64:
            return 7;
        case Dtype::boolean:
            return 9;
    }
    return 0;
}

ProtoWriter tensor_proto(const std::string& name, const Tensor& value) {
    static_assert(std::endian::native == std::endian::little, "raw_data is little-endian");
    ProtoWriter t;
    for (const std::int64_t d : value.shape()) t.varint(1, d);
    t.varint(2, data_type(value.dtype()));
    t.bytes(8, name);
    const std::size_t element = value.dtype() == Dtype::float32 ? 4 : 8;
    t.bytes(9, std::string_view(static_cast<const char*>(value.raw_data()),
                                static_cast<std::size_t>(value.numel()) * element));
    return t;
}

ProtoWriter attribute_proto(const Attribute& a) {
    ProtoWriter w;
    w.bytes(1, a.name);
    switch (a.kind) {
        case Attribute::Kind::f:
            w.float32(2, static_cast<float>(a.f));
            w.varint(20, 1);
            break;
        case Attribute::Kind::i:
            w.varint(3, a.i);
            w.varint(20, 2);
            break;
        case Attribute::Kind::s:
            w.bytes(4, a.s);
            w.varint(20, 3);
            break;
        case Attribute::Kind::ints:
            for (const std::int64_t v : a.ints) w.varint(8, v);
            w.varint(20, 7);
            break;
        case Attribute::Kind::strings:
            for (const std::string& v : a.strings) w.bytes(9, v);
            w.varint(20, 8);
            break;
    }
    return w;
}

}  // namespace

Attribute attr(std::string name, std::int64_t value) {
    Attribute a;
    a.name = std::move(name);
    a.kind = Attribute::Kind::i;
    a.i = value;
    return a;
}
Attribute attr(std::string name, double value) {
    Attribute a;
    a.name = std::move(name);
    a.kind = Attribute::Kind::f;
    a.f = value;
    return a;
}
Attribute attr(std::string name, std::string value) {
    Attribute a;
    a.name = std::move(name);
    a.kind = Attribute::Kind::s;
    a.s = std::move(value);
    return a;
}
Attribute attr(std::string name, std::vector<std::int64_t> values) {
    Attribute a;
    a.name = std::move(name);
    a.kind = Attribute::Kind::ints;
    a.ints = std::move(values);
    return a;
}
Attribute attr(std::string name, std::vector<std::string> values) {
    Attribute a;
    a.name = std::move(name);
    a.kind = Attribute::Kind::strings;
    a.strings = std::move(values);
    return a;
}

std::string Graph::fresh(std::string_view hint) {
    std::string name;
    do {
        name = fmt::format("/{}_{}", hint.empty() ? "v" : hint, counter_++);
    } while (std::find(used_.begin(), used_.end(), name) != used_.end());
    used_.push_back(name);
    return name;
}

std::string Graph::initializer(const std::string& name, const Tensor& value) {
    if (value.dtype() == Dtype::boolean) throw Error("export_onnx: a bool initializer");
    if (std::find(used_.begin(), used_.end(), name) != used_.end()) {
        throw Error(fmt::format("export_onnx: two values named '{}'", name));
    }
    used_.push_back(name);
    initializers_.push_back({name, value});
    return name;
}

std::string Graph::constant(std::string_view hint, const Tensor& value) {
    std::string name = fresh(hint);
    initializers_.push_back({name, value});
    return name;
}

std::string Graph::ints(std::string_view hint, const std::vector<std::int64_t>& values) {
    std::vector<double> v(values.begin(), values.end());
    return constant(hint,
                    tensor(v, {static_cast<std::int64_t>(values.size())}, {.dtype = Dtype::int64}));
}

std::string Graph::scalar(std::string_view hint, double value) {
    return constant(hint, full({}, value, {.dtype = dtype_}));
}

std::string Graph::node(std::string_view op, std::vector<std::string> inputs,
                        std::vector<Attribute> attributes, std::string_view hint) {
    return node(op, std::move(inputs), std::move(attributes), 1, hint.empty() ? op : hint)[0];
}

std::vector<std::string> Graph::node(std::string_view op, std::vector<std::string> inputs,
                                     std::vector<Attribute> attributes, std::size_t outputs,
                                     std::string_view hint) {
    std::vector<std::string> names;
    for (std::size_t k = 0; k < outputs; ++k) names.push_back(fresh(hint.empty() ? op : hint));
    node_to(op, std::move(inputs), names, std::move(attributes));
    return names;
}

void Graph::node_to(std::string_view op, std::vector<std::string> inputs,
                    std::vector<std::string> outputs, std::vector<Attribute> attributes) {
    nodes_.push_back({std::string(op), std::move(inputs), std::move(outputs), std::move(attributes),
                      fmt::format("{}_{}", op, nodes_.size())});
}

void Graph::add_input(const std::string& name, Dtype dtype, std::vector<Dim> dims) {
    inputs_.push_back({name, dtype, std::move(dims)});
}

void Graph::add_output(const std::string& name, Dtype dtype, std::vector<Dim> dims) {
    outputs_.push_back({name, dtype, std::move(dims)});
}

std::string Graph::serialize(std::string_view graph_name) const {
    const auto value_info = [](const ValueInfo& v) {
        ProtoWriter shape;
        for (const Dim& d : v.dims) {
            ProtoWriter dim;
            if (!d.param.empty()) {
                dim.bytes(2, d.param);
            } else if (d.value >= 0) {
                dim.varint(1, d.value);
            }
            shape.message(1, dim);
        }
        ProtoWriter tensor_type;
        tensor_type.varint(1, data_type(v.dtype));
        tensor_type.message(2, shape);
        ProtoWriter type;
        type.message(1, tensor_type);
        ProtoWriter info;
        info.bytes(1, v.name);
        info.message(2, type);
        return info;
    };
    ProtoWriter graph;
    for (const Node& n : nodes_) {
        ProtoWriter node;
        for (const std::string& in : n.inputs) node.bytes(1, in);
        for (const std::string& out : n.outputs) node.bytes(2, out);
        node.bytes(3, n.name);
        node.bytes(4, n.op);
        for (const Attribute& a : n.attributes) node.message(5, attribute_proto(a));
        graph.message(1, node);
    }
    graph.bytes(2, graph_name);
    for (const Initializer& i : initializers_) graph.message(5, tensor_proto(i.name, i.value));
    for (const ValueInfo& v : inputs_) graph.message(11, value_info(v));
    for (const ValueInfo& v : outputs_) graph.message(12, value_info(v));

    ProtoWriter opset;
    opset.bytes(1, "");
    opset.varint(2, kOpset);
    ProtoWriter model;
    model.varint(1, kIrVersion);
    model.bytes(2, "descent");
    model.bytes(3, "0.2.0");
    model.message(7, graph);
    model.message(8, opset);
    return model.data();
}

}  // namespace descent::nn::onnx_detail
