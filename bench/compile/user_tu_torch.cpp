// user_tu.cpp in libtorch (Debian's libtorch-dev): the same small MLP trained for a few steps,
// the other side of bench/compile/measure.sh.

#include <torch/torch.h>

#include <iostream>

int main() {
    torch::manual_seed(0);
    torch::nn::Sequential model(torch::nn::Linear(4, 16), torch::nn::ReLU(),
                                torch::nn::Linear(16, 3));
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
    const torch::Tensor x = torch::randn({32, 4});
    const torch::Tensor y = torch::randint(0, 3, {32});
    for (int step = 0; step < 100; ++step) {
        const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
        adam.zero_grad();
        loss.backward();
        adam.step();
        if (step % 25 == 0) std::cout << "step " << step << " loss " << loss.item<double>() << '\n';
    }
    std::cout << model->forward(x).argmax(1).slice(0, 0, 8) << '\n';
}
