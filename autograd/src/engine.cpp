// The reverse pass. The nodes reachable from the roots are put in topological order with an
// explicit stack (Kahn's algorithm over dependency counts): that order is the tape. It is run
// from the outputs towards the leaves, summing the gradients arriving at each node before the
// node's backward runs.

#include "descent/engine.hpp"

#include <fmt/format.h>

#include <array>
#include <mutex>
#include <span>

#include "anomaly.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "pass_scratch.hpp"
#include "same_shape.hpp"
#include "tensor_impl.hpp"

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

/// node's backward under anomaly detection: named in errors, its gradients checked finite.
Grads backward_checked(Node& node, const Tensor& grad) {
    const AnomalyScope scope(node.name(), "backward");
    Grads grads = node.backward(BackwardContext(node), grad);
    std::vector<Shape> shapes;
    for (const Edge& edge : node.inputs) shapes.push_back(edge.full_shape());
    check_backward_finite(node.name(), shapes, grads);
    return grads;
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
void deliver_to_leaf(Node& node, Tensor grad, bool create_graph) {
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
        if (!unshared(grad)) {
            slot = copy_of(grad);
        } else if (grad.requires_grad()) {
            slot = grad.detach();
        } else {
            slot = std::move(grad);
        }
    } else if (unshared(slot)) {
        slot.add_(grad);
    } else {
        slot = slot + grad;
    }
}

/// sum += g in place, for a gradient sum nothing else can see.
void accumulate_into(Tensor& sum, const Tensor& g) {
    kernel::dispatch_floating(sum.dtype(), "backward", [&](auto tag) {
        using T = decltype(tag);
        kernel::for_each_chunk(sum.numel(), [&](std::int64_t first, std::int64_t count) {
            kernel::out<T>(sum, first, count) += kernel::in<T>(g, first, count);
        });
    });
}

/// Where a pass starts: an output's node and the gradient of that output.
struct Root {
    NodePtr node;
    Tensor grad;
};

/// One reverse pass over the graph reachable from the roots. The roots own the graph while
/// the pass runs (a pass never removes an edge), so the pass refers to nodes by address.
class GraphTask {
  public:
    /// The roots' gradients are moved out of `roots` when the pass runs.
    explicit GraphTask(std::span<Root> roots)
        : roots_(roots), slots_((*scratch_).slots), order_((*scratch_).order) {
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
        create_graph_ = create_graph;
        // moved, not copied: a root's gradient may be taken over by a leaf
        for (Root& root : roots_) add_to(slots_.at(root.node.get()), std::move(root.grad));
        for (Node* node_ptr : order_) {
            Node& node = *node_ptr;
            Slot& slot = slots_.at(&node);
            if (!slot.needed || !slot.grad.defined()) continue;
            Tensor grad = node.pre_hooks.empty() ? std::move(slot.grad)
                                                 : run_hooks(node, std::move(slot.grad));
            if (slot.capture) slot.grad = grad;
            if (node.accumulator) {
                if (!capturing_) deliver_to_leaf(node, std::move(grad), create_graph);
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
        std::vector<Node*>& stack = (*scratch_).stack;
        for (const Root& r : roots_) {
            if (slots_.try_emplace(r.node.get()).second) stack.push_back(r.node.get());
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
        for (const Root& r : roots_) {
            Slot& slot = slots_.at(r.node.get());
            if (slot.pending_parents == 0) {
                slot.pending_parents = -1;  // queued once, even if listed twice
                stack.push_back(r.node.get());
            }
        }
        order_.reserve(slots_.size());
        while (!stack.empty()) {
            Node* node = stack.back();
            stack.pop_back();
            for (const auto& edge : node->inputs) {
                if (edge.node && --slots_.at(edge.node.get()).pending_parents == 0)
                    stack.push_back(edge.node.get());
            }
            order_.push_back(node);
        }
    }

    void mark_needed() {
        for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
            Slot& slot = slots_.at(*it);
            slot.needed = slot.capture;
            for (const auto& edge : (*it)->inputs) {
                slot.needed = slot.needed || (edge.node && slots_.at(edge.node.get()).needed);
            }
        }
    }

    /// Adds a gradient arriving at a node to the ones before it in the node's slot: in place
    /// when no graph is being built and nothing else holds the sum so far (as torch's input
    /// buffer), else a new sum.
    void add_to(Slot& slot, Tensor grad) {
        if (!slot.grad.defined()) {
            slot.grad = std::move(grad);
        } else if (!create_graph_ && unshared(slot.grad) && !slot.grad.requires_grad() &&
                   slot.grad.dtype() == grad.dtype() &&
                   same_shape(slot.grad.shape(), grad.shape())) {
            accumulate_into(slot.grad, grad);
        } else {
            slot.grad = slot.grad + grad;
        }
    }

    void propagate(Node& node, const Tensor& grad) {
        if (node.released) {
            throw AutogradError(fmt::format(
                "backward: trying to run backward through {} a second time, but its saved "
                "tensors were freed by the first backward; pass retain_graph = true to the first",
                node.name()));
        }
        Grads grads = is_anomaly_enabled() ? backward_checked(node, grad)
                                           : node.backward(BackwardContext(node), grad);
        for (std::size_t i = 0; i < node.inputs.size() && i < grads.size(); ++i) {
            const Edge& edge = node.inputs[i];
            Node* child = edge.node.get();
            if (!child || !grads[i].defined()) continue;
            Slot& slot = slots_.at(child);
            if (!slot.needed) continue;
            Tensor g = std::move(grads[i]);
            if (!edge.has_shape(g.impl()->shape)) g = sum_to(g, edge.full_shape());
            add_to(slot, std::move(g));
        }
    }

    std::span<Root> roots_;
    ScratchLease scratch_;
    SlotTable& slots_;
    std::vector<Node*>& order_;
    bool capturing_ = false;
    bool create_graph_ = false;
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

/// Output i and its gradient (none given: implied) as a root, checked.
Root make_root(const Tensor& out, const Tensor* grad_output, std::size_t i, std::string_view op) {
    if (!out.defined() || !out.requires_grad()) {
        throw AutogradError(fmt::format(
            "{}: output {} does not require grad (no input of its graph requires grad)", op, i));
    }
    Tensor g = grad_output && grad_output->defined() ? *grad_output : default_root_grad(out, op);
    if (!same_shape(g.shape(), out.shape()) || g.dtype() != out.dtype()) {
        throw ShapeError(
            fmt::format("{}: output {} has shape {} ({}) but its gradient has shape {} ({})", op, i,
                        shape_str(out.shape()), dtype_name(out.dtype()), shape_str(g.shape()),
                        dtype_name(g.dtype())));
    }
    return {gradient_edge(out), std::move(g)};
}

PooledVector<Root> make_roots(std::span<const Tensor> outputs, std::span<const Tensor> grad_outputs,
                              std::string_view op) {
    if (!grad_outputs.empty() && grad_outputs.size() != outputs.size()) {
        throw AutogradError(fmt::format("{}: {} outputs but {} output gradients", op,
                                        outputs.size(), grad_outputs.size()));
    }
    PooledVector<Root> roots;
    roots.reserve(outputs.size());
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        roots.push_back(
            make_root(outputs[i], grad_outputs.empty() ? nullptr : &grad_outputs[i], i, op));
    }
    return roots;
}

void run_backward(std::span<Root> roots, BackwardOptions options) {
    GraphTask(roots).execute(options.retain_graph || options.create_graph, options.create_graph);
}

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              BackwardOptions options) {
    PooledVector<Root> roots = make_roots(outputs, grad_outputs, "backward");
    run_backward(roots, options);
}

void backward_one(const Tensor& output, const Tensor& grad_output, BackwardOptions options) {
    Root root = make_root(output, &grad_output, 0, "backward");  // no list for one output
    run_backward(std::span(&root, 1), options);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         GradOptions options) {
    return grad(outputs, inputs, GradOutputs{}, options);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const GradOutputs& grad_outputs, GradOptions options) {
    PooledVector<Root> roots = make_roots(outputs, grad_outputs.tensors, "grad");
    GraphTask task(roots);
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
