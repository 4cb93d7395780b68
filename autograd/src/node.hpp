#pragma once
// A node of the tape: the backward formula of one op result, edges to the nodes of its inputs
// and the tensors it saved. record() is how every op puts its result on the tape.
//
// Ownership runs one way, from outputs to inputs: a tensor owns its grad_fn node, a node owns
// the nodes of its inputs. A saved output is kept without its node (it gets the node back only
// while backward unpacks it), so no cycle exists. Destruction is iterative (see ~Node).

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>  // std::reference_wrapper
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "backward_fn.hpp"
#include "descent/tensor.hpp"
#include "inline_vector.hpp"
#include "op_list.hpp"
#include "pool.hpp"
#include "same_shape.hpp"
#include "tensor_impl.hpp"

namespace descent {

struct SavedTensor {
    std::shared_ptr<TensorImpl> data;  // the input itself, or an alias of the output
    std::shared_ptr<Node> grad_fn;     // producer of a saved non-leaf input when saved
    std::uint64_t version = 0;         // storage version when saved
    bool is_output = false;
    bool requires_grad = false;
};

/// The tape's own arrays that may be long — an edge's shape beyond four extents, the roots of a
/// pass — come from the per-thread pools (pool.hpp), like the nodes themselves: a step records
/// and frees them by the dozen. The short ones live inside their owner (inline_vector.hpp).
template <class T>
using PooledVector = std::vector<T, pool::Allocator<T>>;

/// An input's shape as its edge keeps it: up to four extents in place, more on the pools.
class EdgeShape {
  public:
    explicit EdgeShape(const Shape& shape) : rank_(shape.size()) {
        if (rank_ > kInline) {
            spilled_.assign(shape.begin(), shape.end());
        } else {
            std::copy(shape.begin(), shape.end(), inline_.begin());
        }
    }
    bool operator==(const Shape& shape) const {
        return shape.size() == rank_ && same_extents(shape.data(), data(), rank_);
    }
    Shape to_shape() const { return Shape(data(), data() + rank_); }

  private:
    static constexpr std::size_t kInline = 4;
    const std::int64_t* data() const { return rank_ > kInline ? spilled_.data() : inline_.data(); }
    std::size_t rank_;
    std::array<std::int64_t, kInline> inline_{};
    PooledVector<std::int64_t> spilled_;
};

/// Where the gradient of one input goes, and the input's shape and dtype.
struct Edge {
    Edge(std::shared_ptr<Node> to, const Shape& input_shape, Dtype input_dtype)
        : node(std::move(to)), shape(input_shape), dtype(input_dtype) {}
    std::shared_ptr<Node> node;  // null where no gradient flows
    EdgeShape shape;
    Dtype dtype;
    bool has_shape(const Shape& s) const { return shape == s; }
    Shape full_shape() const { return shape.to_shape(); }
};

struct Node : std::enable_shared_from_this<Node> {
    Node();
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    std::string_view name() const;

    Op op = Op::add;
    std::string label;             // a custom function's name (Op::custom)
    bool accumulator = false;      // delivers gradients into a leaf's .grad()
    InlineVector<Edge, 2> inputs;  // one per input of the op
    InlineVector<SavedTensor, 2> saved;
    BackwardFn backward;
    std::weak_ptr<TensorImpl> leaf;
    std::vector<GradHook> pre_hooks;
    bool released = false;
};

class BackwardContext {
  public:
    explicit BackwardContext(Node& node) : node_(node) {}
    /// Saved tensor i, checked against in-place modification since it was saved.
    Tensor saved(std::size_t i) const;
    std::size_t saved_count() const { return node_.saved.size(); }
    std::size_t input_count() const { return node_.inputs.size(); }
    bool needs_grad(std::size_t i) const { return node_.inputs[i].node != nullptr; }
    Shape input_shape(std::size_t i) const { return node_.inputs[i].full_shape(); }
    Dtype input_dtype(std::size_t i) const { return node_.inputs[i].dtype; }

  private:
    Node& node_;
};

/// An op's inputs or saved tensors as record() reads them: the caller's handles themselves.
using TensorRefs = std::initializer_list<std::reference_wrapper<const Tensor>>;

/// Puts `out` on the tape as the result of `op` applied to `inputs` when grad mode is on and
/// some input requires grad. `to_save` lists inputs or `out` itself. Also the anomaly check.
Tensor record(Op op, TensorRefs inputs, Tensor out, TensorRefs to_save, BackwardFn backward);
Tensor record(Op op, const std::vector<Tensor>& inputs, Tensor out,
              const std::vector<Tensor>& to_save, BackwardFn backward);
/// record() for a user's Function: its node is named `name` (in errors and anomaly reports).
Tensor record_custom(const std::string& name, const std::vector<Tensor>& inputs, Tensor out,
                     const std::vector<Tensor>& to_save, BackwardFn backward);

/// The names of the custom functions in the graph that produced t, each once.
std::vector<std::string> custom_functions_in_graph(const Tensor& t);

/// backward({output}, {grad_output}, options) without building the lists (Tensor::backward).
void backward_one(const Tensor& output, const Tensor& grad_output, BackwardOptions options);

/// The leaf accumulator of a leaf that requires grad, created on first use.
std::shared_ptr<Node> leaf_accumulator(const Tensor& leaf);
/// The node a gradient for t flows into: its grad_fn, or its leaf accumulator; none when t does
/// not require grad.
inline std::shared_ptr<Node> gradient_edge(const Tensor& t) {
    TensorImpl& impl = defined_impl(t);
    if (!impl.requires_grad) return nullptr;
    if (impl.grad_fn) return impl.grad_fn;
    return leaf_accumulator(t);
}

}  // namespace descent
