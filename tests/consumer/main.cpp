// Builds against the installed package (every always-built library) and checks a few training
// steps on mini-batches.
#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/format.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

int main() {
    namespace dc = descent;
    dc::Tensor x = dc::tensor({1.0, 2.0}, {2}, {.requires_grad = true});
    (x * x).sum().backward();
    const bool grad_ok = x.grad().to_vector() == std::vector<double>{2.0, 4.0};

    dc::manual_seed(0);
    dc::nn::Sequential model{dc::nn::Linear(2, 4), dc::nn::ReLU(), dc::nn::Linear(4, 1)};
    dc::optim::SGD sgd(model.parameters(), {.lr = 0.1});
    const dc::Tensor input = dc::ones({3, 2}), target = dc::zeros({3, 1});
    const double before = dc::nn::mse_loss(model(input), target).item();
    dc::data::DataLoader loader(input, target, {.batch_size = 2, .seed = 1});
    for (int epoch = 0; epoch < 10; ++epoch) {
        for (auto& [x_batch, y_batch] : loader) {
            sgd.zero_grad();
            dc::nn::mse_loss(model(x_batch), y_batch).backward();
            sgd.step();
        }
    }
    const double after = dc::nn::mse_loss(model(input), target).item();
    const bool ok = grad_ok && after < before;
    fmt::print("consumer: d(x·x)/dx = {}; loss {:.4f} -> {:.4f} ({})\n", x.grad(), before, after,
               ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
