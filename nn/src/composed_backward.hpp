#pragma once
// The differentiable backward of an op whose own backward is a hand-written loop: the op is run
// again from its saved inputs with composed, differentiable ops, and those outputs are
// differentiated with create_graph. An op's backward calls it when grad mode is on (a
// create_graph pass), so its gradients of any order are exact.

#include <functional>
#include <vector>

#include "descent/function.hpp"

namespace descent::nn::detail {

/// One gradient per input (undefined where none is needed): those of the outputs of
/// `recompute(inputs)`, weighted by `grads`, one per output.
std::vector<Tensor> composed_backward(
    const FunctionContext& ctx, const std::vector<Tensor>& inputs, const std::vector<Tensor>& grads,
    const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& recompute);

}  // namespace descent::nn::detail
