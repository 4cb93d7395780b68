#pragma once
// Small test problems for the optimizers: each gives a loss whose gradient descent computes.

#include <descent/autograd.hpp>
#include <vector>

namespace optim_test {
namespace dc = descent;

/// f(x, y) = (1 − x)² + 100(y − x²)² for params = [x, y].
inline dc::Tensor rosenbrock(const dc::Tensor& xy) {
    const dc::Tensor x = xy.slice(0, 0, 1), y = xy.slice(0, 1, 2);
    const dc::Tensor a = 1.0 - x, b = y - x * x;
    return (a * a + b * b * 100.0).sum();
}

/// Runs backward of loss(params) after clearing the gradients.
template <class Loss>
void compute_gradients(const std::vector<dc::Tensor>& params, Loss loss) {
    for (auto p : params) p.set_grad({});
    loss().backward();
}

}  // namespace optim_test
