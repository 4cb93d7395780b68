#include "composed_backward.hpp"

#include "descent/engine.hpp"

namespace descent::nn::detail {

std::vector<Tensor> composed_backward(
    const FunctionContext& ctx, const std::vector<Tensor>& inputs, const std::vector<Tensor>& grads,
    const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& recompute) {
    std::vector<Tensor> wrt;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (ctx.needs_input_grad(i)) {
            wrt.push_back(inputs[i]);
            which.push_back(i);
        }
    }
    std::vector<Tensor> out(inputs.size());
    if (wrt.empty()) return out;
    const std::vector<Tensor> found =
        descent::grad(recompute(inputs), wrt, grads, {.create_graph = true, .allow_unused = true});
    for (std::size_t k = 0; k < which.size(); ++k) out[which[k]] = found[k];
    return out;
}

}  // namespace descent::nn::detail
