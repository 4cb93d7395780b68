#include "node.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <unordered_set>

#include "anomaly.hpp"
#include "descent/engine.hpp"
#include "descent/grad_mode.hpp"
#include "pool.hpp"
#include "tensor_impl.hpp"

namespace descent {
namespace {
std::atomic<std::int64_t> live_nodes{0};

/// Fills s (a fresh entry of a node's saved list) with t, an input or the output.
void save(SavedTensor& s, const Tensor& t, const Tensor& out) {
    const auto& impl = t.impl();
    s.version = impl->storage->version;
    s.requires_grad = impl->requires_grad;
    if (t.is_same(out)) {
        s.is_output = true;
        s.requires_grad = true;  // record() is about to put out on the tape
        s.data = alias(t, t.shape()).impl();
    } else {
        s.data = impl;  // an input as itself: unpacking a leaf must give back this very tensor
        s.grad_fn = impl->grad_fn;
    }
}
}  // namespace

Node::Node() {
    live_nodes.fetch_add(1, std::memory_order_relaxed);
}

namespace {
/// The children a destructor still has to empty: the first few in place (a node has one or
/// two inputs), the rest on the pools.
class PendingNodes {
  public:
    bool empty() const { return few_ == 0 && more_.empty(); }
    void push(std::shared_ptr<Node>&& node) {
        if (few_ < in_place_.size()) {
            in_place_[few_++] = std::move(node);
        } else {
            more_.push_back(std::move(node));
        }
    }
    std::shared_ptr<Node> pop() {
        if (more_.empty()) return std::move(in_place_[--few_]);
        std::shared_ptr<Node> node = std::move(more_.back());
        more_.pop_back();
        return node;
    }

  private:
    std::array<std::shared_ptr<Node>, 4> in_place_;
    std::size_t few_ = 0;
    PooledVector<std::shared_ptr<Node>> more_;
};
}  // namespace

// Dropping the last owner of a long chain would destroy it recursively, one stack frame per
// node. Instead, the children whose last owner is this node are moved onto an explicit stack
// and emptied there before they are destroyed, so each destructor call is shallow.
Node::~Node() {
    PendingNodes pending;
    auto take_children = [&pending](Node& node) {
        for (auto& edge : node.inputs) {
            if (edge.node) pending.push(std::move(edge.node));
        }
        for (auto& s : node.saved) {
            if (s.grad_fn) pending.push(std::move(s.grad_fn));
        }
        node.inputs.clear();
        node.saved.clear();
    };
    take_children(*this);
    while (!pending.empty()) {
        const std::shared_ptr<Node> node = pending.pop();
        if (node.use_count() == 1) take_children(*node);
    }
    live_nodes.fetch_sub(1, std::memory_order_relaxed);
}

std::string_view Node::name() const {
    if (accumulator) return "AccumulateGrad";
    return op == Op::custom ? std::string_view(label) : op_name(op);
}

Tensor BackwardContext::saved(std::size_t i) const {
    if (i >= node_.saved.size()) {
        throw AutogradError(fmt::format("{}: saved tensor {} asked for, but {} were saved",
                                        node_.name(), i, node_.saved.size()));
    }
    const SavedTensor& s = node_.saved[i];
    if (s.data->storage->version != s.version) {
        throw AutogradError(fmt::format(
            "{}: a tensor of shape {} saved for backward was modified in place (version {} when "
            "saved, {} now); clone it before modifying it",
            node_.name(), shape_str(s.data->shape), s.version, s.data->storage->version));
    }
    // Without a graph being built, what was saved: the input itself, or the output's alias.
    // With one, a leaf input is itself too; the output and a non-leaf input come back as an
    // alias wearing their producer (the output's node is given back only here; a non-leaf
    // keeps the producer it had when saved, whatever the tensor's is now).
    const bool on_tape = is_grad_enabled() && s.requires_grad;
    if (!on_tape || (!s.is_output && !s.grad_fn)) return Tensor(s.data);
    Tensor t = alias(Tensor(s.data), s.data->shape);
    if (on_tape) {
        t.impl()->requires_grad = true;
        t.impl()->grad_fn = s.is_output ? node_.shared_from_this() : s.grad_fn;
    }
    return t;
}

std::shared_ptr<Node> leaf_accumulator(const Tensor& leaf) {
    const auto& impl = leaf.impl();
    if (!impl->grad_accumulator) {
        impl->grad_accumulator = std::allocate_shared<Node>(pool::Allocator<Node>{});
        impl->grad_accumulator->accumulator = true;
        impl->grad_accumulator->leaf = impl;
    }
    return impl->grad_accumulator;
}

namespace {
/// Inputs and to_save: a vector of tensors or TensorRefs.
template <class Tensors>
Tensor record_node(Op op, std::string_view label, const Tensors& inputs, Tensor out,
                   const Tensors& to_save, BackwardFn backward) {
    if (is_anomaly_enabled()) {
        const std::vector<Tensor> checked(inputs.begin(), inputs.end());
        check_forward_finite(op == Op::custom ? label : op_name(op), checked, out);
    }
    if (!is_grad_enabled()) return out;
    bool any = false;
    for (const Tensor& t : inputs) any = defined_impl(t).requires_grad || any;
    if (!any) return out;

    auto node = std::allocate_shared<Node>(pool::Allocator<Node>{});
    node->op = op;
    if (op == Op::custom) node->label = label;
    node->inputs.reserve(inputs.size());
    for (const Tensor& t : inputs) {
        const TensorImpl& impl = defined_impl(t);
        node->inputs.emplace_back(gradient_edge(t), impl.shape, impl.dtype);
    }
    node->saved.reserve(to_save.size());
    for (const Tensor& t : to_save) save(node->saved.emplace_back(), t, out);
    node->backward = std::move(backward);
    out.impl()->requires_grad = true;
    out.impl()->grad_fn = std::move(node);
    return out;
}
}  // namespace

Tensor record(Op op, const std::vector<Tensor>& inputs, Tensor out,
              const std::vector<Tensor>& to_save, BackwardFn backward) {
    return record_node(op, {}, inputs, std::move(out), to_save, std::move(backward));
}

Tensor record_custom(const std::string& name, const std::vector<Tensor>& inputs, Tensor out,
                     const std::vector<Tensor>& to_save, BackwardFn backward) {
    return record_node(Op::custom, name, inputs, std::move(out), to_save, std::move(backward));
}

std::vector<std::string> custom_functions_in_graph(const Tensor& t) {
    std::vector<std::string> names;
    if (!t.defined() || !t.impl()->grad_fn) return names;
    std::vector<const Node*> stack{t.impl()->grad_fn.get()};
    std::unordered_set<const Node*> seen{stack.back()};
    while (!stack.empty()) {  // iteratively: the graph may be a million nodes deep
        const Node* node = stack.back();
        stack.pop_back();
        if (node->op == Op::custom &&
            std::find(names.begin(), names.end(), node->label) == names.end()) {
            names.push_back(node->label);
        }
        for (const auto& edge : node->inputs) {
            if (edge.node && seen.insert(edge.node.get()).second) stack.push_back(edge.node.get());
        }
    }
    return names;
}

Tensor record(Op op, TensorRefs inputs, Tensor out, TensorRefs to_save, BackwardFn backward) {
    return record_node(op, {}, inputs, std::move(out), to_save, std::move(backward));
}

std::int64_t live_node_count() {
    return live_nodes.load();
}

}  // namespace descent
