// The reverse pass. The nodes reachable from the roots are put in topological order with an
// explicit stack (Kahn's algorithm over dependency counts): that order is the tape. It is run
// from the outputs towards the leaves, summing the gradients arriving at each node before the
// node's backward runs.

#include "descent/engine.hpp"

#include <fmt/format.h>

#include <array>
#include <mutex>

#include "anomaly.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {
namespace {

using NodePtr = std::shared_ptr<Node>;

/// The gradient after node's hooks. A hook may replace it, but only by a tensor of the same
/// shape and dtype (as torch: "hook has changed the size of value"), or the mismatch would
/// reach .grad() or an optimizer.
Tensor run_hooks(const Node& node, Tensor grad) {
    for (const auto& hook : node.pre_hooks) {
        Tensor replaced = hook(grad);
        if (!replaced.defined()) continue;
        if (replaced.shape() != grad.shape() || replaced.dtype() != grad.dtype()) {
            throw AutogradError(fmt::format(
                "backward: a hook on the gradient of {} returned {} {} for a gradient of {} {}; "
                "a hook must keep the gradient's shape and dtype",
                node.accumulator ? "a leaf" : std::string(node.name()) + "'s output",
                dtype_name(replaced.dtype()), shape_str(replaced.shape()), dtype_name(grad.dtype()),
                shape_str(grad.shape())));
        }
        grad = std::move(replaced);
    }
    return grad;
}

/// True when nothing but this handle can see t's values (no other handle, no alias).
bool unshared(const Tensor& t) {
    return t.impl().use_count() == 1 && t.impl()->storage.use_count() == 1;
}

/// Accumulates grad into the leaf's .grad(). The slot never shares storage with another leaf's
/// gradient or with a tensor the caller holds: a first gradient is taken over only when nothing
/// else can see it (else copied), and sums are written in place only into a gradient nobody
/// else holds. With create_graph the results stay on the tape (a recorded clone or sum). Leaves
/// shared between threads are safe: each accumulation holds a lock chosen by the leaf.
void deliver_to_leaf(Node& node, const Tensor& grad, bool create_graph) {
    auto leaf = node.leaf.lock();
    if (!leaf) return;
    static std::array<std::mutex, 64> locks;
    const std::lock_guard lock(locks[std::hash<const void*>{}(leaf.get()) % locks.size()]);
    Tensor& slot = leaf->grad;
    if (create_graph) {
        slot = slot.defined() ? slot + grad : grad.clone();
        return;
    }
    const NoGradGuard no_grad;
    if (!slot.defined()) {
        slot = unshared(grad) ? grad.detach() : grad.clone();
    } else if (unshared(slot)) {
        slot.add_(grad);
    } else {
        slot = slot + grad;
    }
}

/// What a pass keeps per node.
struct Slot {
    int pending_parents = 0;
    bool needed = true;
    bool capture = false;
    Tensor grad;  // the sum of the gradients arrived so far
};

/// Node → Slot for one pass: open addressing with linear probing in one array, grown to keep
/// it at most half full (std::unordered_map allocated every entry).
class SlotTable {
  public:
    /// The node's slot, and whether it was just created.
    std::pair<Slot*, bool> try_emplace(Node* node) {
        if (2 * (size_ + 1) > entries_.size()) grow();
        Entry& e = probe(node);
        if (e.node) return {&e.slot, false};
        e.node = node;
        ++size_;
        return {&e.slot, true};
    }
    /// The slot of a node of the pass, or nullptr.
    Slot* find(Node* node) {
        if (entries_.empty()) return nullptr;
        Entry& e = probe(node);
        return e.node ? &e.slot : nullptr;
    }
    const Slot* find(Node* node) const { return const_cast<SlotTable*>(this)->find(node); }
    /// The slot of a node known to be in the pass.
    Slot& at(Node* node) { return *find(node); }
    std::size_t size() const { return size_; }

  private:
    struct Entry {
        Node* node = nullptr;
        Slot slot;
    };
    /// The entry holding node, or the empty one where it would go (Fibonacci hashing of the
    /// address, whose low bits are alignment).
    Entry& probe(Node* node) {
        const std::size_t mask = entries_.size() - 1;
        std::size_t i = (reinterpret_cast<std::uintptr_t>(node) >> 4) * 0x9E3779B97F4A7C15u;
        i = (i >> 20) & mask;
        while (entries_[i].node && entries_[i].node != node) i = (i + 1) & mask;
        return entries_[i];
    }
    void grow() {
        std::vector<Entry> old = std::move(entries_);
        entries_ = std::vector<Entry>(old.empty() ? 64 : 2 * old.size());
        for (Entry& e : old)
            if (e.node) probe(e.node) = std::move(e);
    }
    std::vector<Entry> entries_;  // a power of two in size
    std::size_t size_ = 0;
};

/// One reverse pass over the graph reachable from the roots.
class GraphTask {
  public:
    GraphTask(const std::vector<NodePtr>& roots, std::vector<Tensor> root_grads)
        : roots_(roots), root_grads_(std::move(root_grads)) {
        order_reachable();
    }

    bool reaches(Node* node) const { return slots_.find(node) != nullptr; }

    /// descent::grad(): the gradient arriving at `node` is kept, not delivered to a leaf, and
    /// only the nodes with a path to such a node run.
    void capture(Node* node) {
        capturing_ = true;
        if (Slot* slot = slots_.find(node)) slot->capture = true;
    }

    void execute(bool retain_graph, bool create_graph) {
        if (capturing_) mark_needed();
        GradModeGuard mode(create_graph);
        for (std::size_t i = 0; i < roots_.size(); ++i) add_to(roots_[i].get(), root_grads_[i]);
        for (const auto& node_ptr : order_) {
            Node& node = *node_ptr;
            Slot& slot = slots_.at(&node);
            if (!slot.needed || !slot.grad.defined()) continue;
            Tensor grad = run_hooks(node, std::move(slot.grad));
            if (slot.capture) slot.grad = grad;
            if (node.accumulator) {
                if (!capturing_) deliver_to_leaf(node, grad, create_graph);
                continue;
            }
            propagate(node, grad);
            if (!retain_graph && !node.saved.empty()) {  // nodes without saved tensors may rerun
                node.saved.clear();
                node.released = true;
            }
        }
    }

    /// The gradient captured at `node` (undefined if none arrived).
    Tensor captured(Node* node) const {
        const Slot* slot = slots_.find(node);
        return slot && slot->capture ? slot->grad : Tensor{};
    }

  private:
    // Kahn's algorithm: count each node's parents with an explicit stack, then emit a node
    // once every parent has been emitted.
    void order_reachable() {
        std::vector<Node*> stack;
        for (const auto& r : roots_) {
            if (slots_.try_emplace(r.get()).second) stack.push_back(r.get());
        }
        while (!stack.empty()) {
            Node* node = stack.back();
            stack.pop_back();
            for (const auto& edge : node->inputs) {
                if (!edge.node) continue;
                auto [slot, fresh] = slots_.try_emplace(edge.node.get());
                ++slot->pending_parents;
                if (fresh) stack.push_back(edge.node.get());
            }
        }
        std::vector<NodePtr> ready;
        for (const auto& r : roots_) {
            Slot& slot = slots_.at(r.get());
            if (slot.pending_parents == 0) {
                slot.pending_parents = -1;  // queued once, even if listed twice
                ready.push_back(r);
            }
        }
        order_.reserve(slots_.size());
        while (!ready.empty()) {
            NodePtr node = std::move(ready.back());
            ready.pop_back();
            for (const auto& edge : node->inputs) {
                if (edge.node && --slots_.at(edge.node.get()).pending_parents == 0)
                    ready.push_back(edge.node);
            }
            order_.push_back(std::move(node));
        }
    }

    void mark_needed() {
        for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
            Slot& slot = slots_.at(it->get());
            slot.needed = slot.capture;
            for (const auto& edge : (*it)->inputs) {
                slot.needed = slot.needed || (edge.node && slots_.at(edge.node.get()).needed);
            }
        }
    }

    void add_to(Node* node, Tensor grad) {
        Slot& slot = slots_.at(node);
        slot.grad = slot.grad.defined() ? slot.grad + grad : std::move(grad);
    }

    void propagate(Node& node, const Tensor& grad) {
        if (node.released) {
            throw AutogradError(fmt::format(
                "backward: trying to run backward through {} a second time, but its saved "
                "tensors were freed by the first backward; pass retain_graph = true to the first",
                node.name()));
        }
        Grads grads;
        if (is_anomaly_enabled()) {
            const AnomalyScope scope(node.name(), "backward");
            grads = node.backward(BackwardContext(node), grad);
            std::vector<Shape> shapes;
            for (const Edge& edge : node.inputs) shapes.push_back(edge.full_shape());
            check_backward_finite(node.name(), shapes, grads);
        } else {
            grads = node.backward(BackwardContext(node), grad);
        }
        for (std::size_t i = 0; i < node.inputs.size() && i < grads.size(); ++i) {
            const Edge& edge = node.inputs[i];
            Node* child = edge.node.get();
            if (!child || !grads[i].defined() || !slots_.at(child).needed) continue;
            Tensor g = std::move(grads[i]);
            if (!edge.has_shape(g.shape())) g = sum_to(g, edge.full_shape());
            add_to(child, std::move(g));
        }
    }

    std::vector<NodePtr> roots_;
    std::vector<Tensor> root_grads_;
    SlotTable slots_;
    std::vector<NodePtr> order_;  // the tape: every node after all the nodes that feed it
    bool capturing_ = false;
};

struct Roots {
    std::vector<NodePtr> nodes;
    std::vector<Tensor> grads;
};

Tensor default_root_grad(const Tensor& out, std::string_view op) {
    if (out.numel() != 1) {
        throw AutogradError(fmt::format(
            "{}: a gradient can be implied only for a one-element output, got shape {}; pass "
            "the output gradient explicitly",
            op, shape_str(out.shape())));
    }
    return ones_like(out);
}

Roots make_roots(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                 std::string_view op) {
    if (!grad_outputs.empty() && grad_outputs.size() != outputs.size()) {
        throw AutogradError(fmt::format("{}: {} outputs but {} output gradients", op,
                                        outputs.size(), grad_outputs.size()));
    }
    Roots roots;
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
        roots.nodes.push_back(gradient_edge(out));
        roots.grads.push_back(std::move(g));
    }
    return roots;
}

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              BackwardOptions options) {
    Roots roots = make_roots(outputs, grad_outputs, "backward");
    GraphTask(roots.nodes, std::move(roots.grads))
        .execute(options.retain_graph || options.create_graph, options.create_graph);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         GradOptions options) {
    return grad(outputs, inputs, GradOutputs{}, options);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const GradOutputs& grad_outputs, GradOptions options) {
    Roots roots = make_roots(outputs, grad_outputs.tensors, "grad");
    GraphTask task(roots.nodes, std::move(roots.grads));
    std::vector<Node*> input_nodes;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined() || !inputs[i].requires_grad()) {
            throw AutogradError(fmt::format("grad: input {} does not require grad", i));
        }
        input_nodes.push_back(gradient_edge(inputs[i]).get());
        if (!task.reaches(input_nodes.back()) && !options.allow_unused) {
            throw AutogradError(
                fmt::format("grad: input {} (shape {}) is not used to compute the outputs; pass "
                            "allow_unused = true to get an undefined gradient for it",
                            i, shape_str(inputs[i].shape())));
        }
        task.capture(input_nodes.back());
    }
    task.execute(options.retain_graph || options.create_graph, options.create_graph);
    // One gradient may reach several inputs (as through a + b): each result gets its own copy.
    const GradModeGuard mode(options.create_graph);
    std::vector<Tensor> result;
    for (Node* node : input_nodes) {
        Tensor g = task.captured(node);
        for (const auto& earlier : result) {
            if (g.defined() && earlier.defined() && g.impl()->storage == earlier.impl()->storage) {
                g = g.clone();
                break;
            }
        }
        result.push_back(std::move(g));
    }
    return result;
}

}  // namespace descent
