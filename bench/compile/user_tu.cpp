// A user's translation unit: the three umbrella headers and a small MLP trained for a few
// steps. bench/compile/measure.sh times its compilation (bench/README.md, "Build cost").

#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <iostream>

namespace dc = descent;

int main() {
    dc::manual_seed(0);
    dc::nn::Sequential model{dc::nn::Linear(4, 16), dc::nn::ReLU(), dc::nn::Linear(16, 3)};
    dc::optim::Adam adam(model.parameters(), {.lr = 1e-2});
    const dc::Tensor x = dc::randn({32, 4});
    const dc::Tensor y = dc::randint(0, 3, {32});
    for (int step = 0; step < 100; ++step) {
        const dc::Tensor loss = dc::nn::cross_entropy(model(x), y);
        adam.zero_grad();
        loss.backward();
        adam.step();
        if (step % 25 == 0) std::cout << "step " << step << " loss " << loss.item() << '\n';
    }
    std::cout << model(x).argmax(1).slice(0, 0, 8) << '\n';
}
