#pragma once
// The reverse pass. Tensor::backward() accumulates into leaf .grad(); descent::grad() returns
// gradients without touching .grad(). With create_graph the backward is recorded too, which
// gives gradients of gradients (Hessian-vector products).

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "descent/tensor.hpp"

namespace descent {

struct GradOptions {
    bool retain_graph = false;  ///< keep the graph for another pass (implied by create_graph)
    bool create_graph = false;  ///< record the backward so the results can be differentiated
    bool allow_unused = false;  ///< an input the outputs do not depend on gets an undefined grad
};

/// The output gradients given to grad(): a braced list {g1, g2} or a vector. Empty: ones for
/// one-element outputs. (A class of its own so that grad(y, x, {.create_graph = true}) is not
/// ambiguous.)
struct GradOutputs {
    GradOutputs() = default;
    GradOutputs(std::initializer_list<Tensor> list) : tensors(list) {}
    GradOutputs(std::vector<Tensor> list) : tensors(std::move(list)) {}
    std::vector<Tensor> tensors;
};

/// d(Σ grad_outputs·outputs)/d(inputs), without touching .grad().
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const GradOutputs& grad_outputs = {}, GradOptions options = {});
/// The same with ones as output gradients: grad({loss}, {x}, {.create_graph = true}).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         GradOptions options);

/// Accumulates d(Σ grad_outputs·outputs) into the .grad() of every leaf reached. With
/// create_graph, mind the cycle Tensor::backward describes: reset the gradients once used.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              BackwardOptions options = {});

/// Counts of live tensor objects and graph nodes, for leak tests.
std::int64_t live_tensor_count();
std::int64_t live_node_count();

}  // namespace descent
