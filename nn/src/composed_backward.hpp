#pragma once
// The differentiable backward of an op whose own backward is a hand-written loop: the op is run
// again from its saved inputs with composed, differentiable ops, and those outputs are
// differentiated with create_graph. An op's backward calls it when grad mode is on (a
// create_graph pass), so its gradients of any order are exact. Also the stand-in such ops share
// for an absent optional input.

#include <functional>
#include <vector>

#include "descent/function.hpp"
#include "descent/tensor.hpp"

namespace descent::nn::detail {

/// A stand-in for an absent optional input (a bias, a projection): a Function's inputs must all
/// be defined, so it gets an empty tensor, which or_undefined turns back.
inline Tensor or_empty(const Tensor& t, Dtype dtype) {
    return t.defined() ? t : zeros({0}, {.dtype = dtype});
}
inline Tensor or_undefined(const Tensor& t) {
    return t.numel() > 0 ? t : Tensor{};
}

/// One gradient per input (undefined where none is needed): those of the outputs of
/// `recompute(inputs)`, weighted by `grads`, one per output.
std::vector<Tensor> composed_backward(
    const FunctionContext& ctx, const std::vector<Tensor>& inputs, const std::vector<Tensor>& grads,
    const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& recompute);

}  // namespace descent::nn::detail
