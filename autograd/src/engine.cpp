// The reverse pass. The nodes reachable from the roots are put in topological order with an
// explicit stack (Kahn's algorithm over dependency counts): that order is the tape. It is run
// from the outputs towards the leaves, summing the gradients arriving at each node before the
// node's backward runs.

#include "descent/engine.hpp"

#include <fmt/format.h>

#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "anomaly.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {
namespace {

using NodePtr = std::shared_ptr<Node>;

/// Nodes reachable from the roots, each after every node that sends it a gradient.
std::vector<NodePtr> topological_order(const std::vector<NodePtr>& roots) {
    std::unordered_map<Node*, int> pending_parents;
    std::vector<Node*> stack;
    std::unordered_set<Node*> seen;
    for (const auto& r : roots) {
        if (seen.insert(r.get()).second) stack.push_back(r.get());
    }
    while (!stack.empty()) {
        Node* node = stack.back();
        stack.pop_back();
        for (const auto& child : node->next) {
            if (!child) continue;
            ++pending_parents[child.get()];
            if (seen.insert(child.get()).second) stack.push_back(child.get());
        }
    }
    std::vector<NodePtr> order;
    std::vector<NodePtr> ready;
    std::unordered_set<Node*> queued;
    for (const auto& r : roots) {
        if (pending_parents[r.get()] == 0 && queued.insert(r.get()).second) ready.push_back(r);
    }
    while (!ready.empty()) {
        NodePtr node = std::move(ready.back());
        ready.pop_back();
        for (const auto& child : node->next) {
            if (child && --pending_parents[child.get()] == 0) ready.push_back(child);
        }
        order.push_back(std::move(node));
    }
    return order;
}

Tensor run_hooks(const Node& node, Tensor grad) {
    for (const auto& hook : node.pre_hooks) {
        Tensor replaced = hook(grad);
        if (replaced.defined()) grad = std::move(replaced);
    }
    return grad;
}

void accumulate_into(std::unordered_map<Node*, Tensor>& buffers, Node* node, Tensor grad) {
    auto [it, inserted] = buffers.try_emplace(node, grad);
    if (!inserted) it->second = it->second + grad;
}

/// Takes g as a leaf's new .grad(): reused when nothing else can see its storage.
Tensor own(const Tensor& g) {
    if (g.impl().use_count() == 1 && g.impl()->storage.use_count() == 1) return g.detach();
    NoGradGuard no_grad;
    return g.clone();
}

void deliver_to_leaf(Node& node, const Tensor& grad, bool create_graph) {
    auto leaf = node.leaf.lock();
    if (!leaf) return;
    Tensor& slot = leaf->grad;
    if (!slot.defined()) {
        slot = create_graph ? grad : own(grad);
    } else if (create_graph) {
        slot = slot + grad;
    } else {
        NoGradGuard no_grad;
        slot.add_(grad);
    }
}

struct Pass {
    std::vector<NodePtr> roots;
    std::vector<Tensor> root_grads;
    std::unordered_set<Node*> captures;  // descent::grad(): gradients to return, not deliver
    bool retain_graph = false;
    bool create_graph = false;
    // descent::grad(): filled with the nodes the pass reaches, then checked before anything runs
    std::unordered_set<Node*>* reachable_captures = nullptr;
    std::function<void()> check_captures;
};

/// Runs the pass; returns the gradient arriving at each capture node.
std::unordered_map<Node*, Tensor> run(const Pass& pass) {
    const std::vector<NodePtr> order = topological_order(pass.roots);
    const bool capturing = !pass.captures.empty();
    if (pass.reachable_captures) {
        for (const auto& node : order) pass.reachable_captures->insert(node.get());
        pass.check_captures();
    }

    // When capturing, only nodes with a path to a capture node need to run.
    std::unordered_set<Node*> needed;
    if (capturing) {
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
            Node* node = it->get();
            bool need = pass.captures.contains(node);
            for (const auto& child : node->next)
                need = need || (child && needed.contains(child.get()));
            if (need) needed.insert(node);
        }
    }

    std::unordered_map<Node*, Tensor> buffers;
    std::unordered_map<Node*, Tensor> captured;
    GradModeGuard mode(pass.create_graph);
    for (std::size_t i = 0; i < pass.roots.size(); ++i) {
        accumulate_into(buffers, pass.roots[i].get(), pass.root_grads[i]);
    }
    for (const auto& node_ptr : order) {
        Node& node = *node_ptr;
        if (capturing && !needed.contains(&node)) continue;
        auto found = buffers.find(&node);
        if (found == buffers.end()) continue;
        Tensor grad = run_hooks(node, std::move(found->second));
        buffers.erase(found);
        if (pass.captures.contains(&node)) captured[&node] = grad;
        if (node.accumulator) {
            if (!capturing) deliver_to_leaf(node, grad, pass.create_graph);
            continue;
        }
        if (node.released) {
            throw AutogradError(fmt::format(
                "backward: trying to run backward through {} a second time, but its saved "
                "tensors were freed by the first backward; pass retain_graph = true to the first",
                node.name()));
        }
        std::vector<Tensor> grads;
        if (is_anomaly_enabled()) {
            AnomalyBackwardScope scope(node.name());
            grads = node.backward(BackwardContext(node), grad);
            check_backward_finite(node.name(), node.input_shapes, grads);
        } else {
            grads = node.backward(BackwardContext(node), grad);
        }
        for (std::size_t i = 0; i < node.next.size(); ++i) {
            Node* child = node.next[i].get();
            if (!child || i >= grads.size() || !grads[i].defined()) continue;
            if (capturing && !needed.contains(child)) continue;
            Tensor g = std::move(grads[i]);
            if (g.shape() != node.input_shapes[i]) g = sum_to(g, node.input_shapes[i]);
            accumulate_into(buffers, child, std::move(g));
        }
        if (!pass.retain_graph && !node.saved.empty()) {  // nodes without saved tensors may rerun
            node.saved.clear();
            node.released = true;
        }
    }
    return captured;
}

Tensor default_root_grad(const Tensor& out, std::string_view op) {
    if (out.numel() != 1) {
        throw AutogradError(fmt::format(
            "{}: a gradient can be implied only for a one-element output, got shape {}; pass "
            "the output gradient explicitly",
            op, shape_str(out.shape())));
    }
    return ones_like(out);
}

Pass make_pass(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
               std::string_view op) {
    if (!grad_outputs.empty() && grad_outputs.size() != outputs.size()) {
        throw AutogradError(fmt::format("{}: {} outputs but {} output gradients", op,
                                        outputs.size(), grad_outputs.size()));
    }
    Pass pass;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const Tensor& out = outputs[i];
        if (!out.defined() || !out.requires_grad()) {
            throw AutogradError(fmt::format(
                "{}: output {} does not require grad (no input of its graph requires grad)", op,
                i));
        }
        Tensor g = grad_outputs.empty() || !grad_outputs[i].defined() ? default_root_grad(out, op)
                                                                      : grad_outputs[i];
        if (g.shape() != out.shape() || g.dtype() != out.dtype()) {
            throw ShapeError(
                fmt::format("{}: output {} has shape {} ({}) but its gradient has shape {} ({})",
                            op, i, shape_str(out.shape()), dtype_name(out.dtype()),
                            shape_str(g.shape()), dtype_name(g.dtype())));
        }
        pass.roots.push_back(gradient_edge(out));
        pass.root_grads.push_back(std::move(g));
    }
    return pass;
}

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              BackwardOptions options) {
    Pass pass = make_pass(outputs, grad_outputs, "backward");
    pass.retain_graph = options.retain_graph || options.create_graph;
    pass.create_graph = options.create_graph;
    run(pass);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, GradOptions options) {
    Pass pass = make_pass(outputs, grad_outputs, "grad");
    pass.retain_graph = options.retain_graph || options.create_graph;
    pass.create_graph = options.create_graph;
    std::vector<Node*> input_nodes;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined() || !inputs[i].requires_grad()) {
            throw AutogradError(fmt::format("grad: input {} does not require grad", i));
        }
        input_nodes.push_back(gradient_edge(inputs[i]).get());
        pass.captures.insert(input_nodes.back());
    }
    std::unordered_set<Node*> reachable;
    pass.reachable_captures = &reachable;
    pass.check_captures = [&] {
        for (std::size_t i = 0; i < inputs.size() && !options.allow_unused; ++i) {
            if (!reachable.contains(input_nodes[i])) {
                throw AutogradError(fmt::format(
                    "grad: input {} (shape {}) is not used to compute the outputs; pass "
                    "allow_unused = true to get an undefined gradient for it",
                    i, shape_str(inputs[i].shape())));
            }
        }
    };
    auto captured = run(pass);
    std::vector<Tensor> result;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        auto it = captured.find(input_nodes[i]);
        result.push_back(it != captured.end() ? it->second : Tensor{});
    }
    return result;
}

}  // namespace descent
