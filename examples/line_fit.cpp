// Gradient descent on a line fit: the first example of the lecture.
// Data y = 3x − 2 + noise; parameters w, b; loss = mean((w·x + b − y)²);
// update θ ← θ − η·∂loss/∂θ with a fixed learning rate η.

#include <fmt/format.h>
#include <descent/autograd.hpp>

namespace dc = descent;

int main() {
    dc::manual_seed(0);
    const dc::Tensor x = dc::linspace(-1.0, 1.0, 64);
    const dc::Tensor y = x * 3.0 - 2.0 + dc::randn({64}) * 0.1;

    dc::Tensor w = dc::zeros({}, {.requires_grad = true});
    dc::Tensor b = dc::zeros({}, {.requires_grad = true});
    const double learning_rate = 0.1;

    for (int step = 0; step <= 200; ++step) {
        const dc::Tensor residual = w * x + b - y;
        const dc::Tensor loss = (residual * residual).mean();
        w.set_grad({});
        b.set_grad({});
        loss.backward();
        {
            dc::NoGradGuard no_grad;
            w.sub_(w.grad(), learning_rate);
            b.sub_(b.grad(), learning_rate);
        }
        if (step % 20 == 0) {
            fmt::print("step {:3d}  loss {:.6f}  w {:+.4f}  b {:+.4f}\n", step, loss.item(),
                       w.item(), b.item());
        }
    }
    return 0;
}
