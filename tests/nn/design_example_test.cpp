// The user code of DESIGN.md ("The shape user code should have") compiles and trains.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <filesystem>

namespace dc = descent;
namespace data = descent::data;

TEST_CASE("the DESIGN.md example runs as written", "[nn][design]") {
    dc::manual_seed(0);
    const dc::Tensor features = dc::randn({256, 64});
    const dc::Tensor labels = dc::argmax(features.slice(1, 0, 10), 1);  // a learnable rule
    dc::data::DataLoader loader(features, labels, {.batch_size = 32});

    dc::nn::Sequential model{dc::nn::Linear(64, 128), dc::nn::BatchNorm1d(128), dc::nn::ReLU(),
                             dc::nn::Dropout(0.2), dc::nn::Linear(128, 10)};
    dc::optim::Adam adam(model.parameters(), {.lr = 1e-3});
    dc::optim::Lookahead opt(adam, {.k = 5, .alpha = 0.5});
    dc::optim::LRScheduler sched(
        opt, dc::optim::warmup(dc::optim::cosine(/*T_max=*/1000), /*steps=*/100));

    const double before = dc::nn::cross_entropy(model(features), labels).item();
    for (int epoch = 0; epoch < 40; ++epoch) {
        for (auto& [x, y] : loader) {  // shuffled mini-batches
            auto loss = dc::nn::cross_entropy(model(x), y);
            opt.zero_grad();
            loss.backward();
            dc::optim::clip_grad_norm(model.parameters(), 1.0);
            opt.step();
            sched.step();
        }
    }
    model.eval();
    const double after = dc::nn::cross_entropy(model(features), labels).item();
    CHECK(after < 0.7 * before);
    const auto path = std::filesystem::temp_directory_path() / "descent_design_model.safetensors";
    dc::nn::save(model.state_dict(), path.string());
    CHECK(dc::nn::load(path).size() == model.state_dict().size());
    std::filesystem::remove(path);

    const dc::Tensor a = dc::randn({2, 3}, {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor b = dc::randn({3, 2}, {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor c = dc::randn({2, 2}, {.dtype = dc::float64, .requires_grad = true});
    CHECK_NOTHROW(dc::gradcheck(
        [](const std::vector<dc::Tensor>& in) {
            return (in[0].matmul(in[1]).tanh() * in[2]).sum();
        },
        {a, b, c}));  // float64, central differences
}
