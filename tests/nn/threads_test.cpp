// Threads (run under ThreadSanitizer in CI): separate models trained in separate threads —
// initialisation, dropout, shuffled batches, Adam — race on nothing, and each ends exactly as
// the same training run alone in one thread.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <thread>
#include <vector>

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;

namespace {
/// A complete small training run from one seed: its final parameters and losses.
std::vector<double> train(std::uint64_t seed) {
    dc::manual_seed(seed);
    const dc::Tensor x = dc::randn({64, 5});
    const dc::Tensor y = dc::randint(0, 3, {64});
    nn::Sequential model{nn::Linear(5, 16), nn::ReLU(), nn::Dropout(0.3), nn::Linear(16, 3)};
    opt::Adam adam(model.parameters(), {.lr = 1e-2});
    data::DataLoader loader(x, y, {.batch_size = 16});
    std::vector<double> out;
    for (int epoch = 0; epoch < 3; ++epoch) {
        for (auto& [bx, by] : loader) {
            const dc::Tensor loss = nn::cross_entropy(model(bx), by);
            adam.zero_grad();
            loss.backward();
            adam.step();
            out.push_back(loss.item());
        }
    }
    for (const auto& p : model.parameters()) {
        for (const double v : p.to_vector()) out.push_back(v);
    }
    return out;
}
}  // namespace

TEST_CASE("threads: separate models train in separate threads as they do alone", "[threads]") {
    const std::vector<double> alone_a = train(21), alone_b = train(22);
    std::vector<double> a, b, c;
    std::thread ta([&a] { a = train(21); });
    std::thread tb([&b] { b = train(22); });
    std::thread tc([&c] { c = train(21); });
    ta.join();
    tb.join();
    tc.join();
    CHECK(a == alone_a);
    CHECK(b == alone_b);
    CHECK(c == alone_a);
    CHECK(a != b);
}

TEST_CASE("threads: one shared model, gradients accumulated from several threads", "[threads]") {
    dc::manual_seed(4);
    nn::Linear model(4, 2);
    const dc::Tensor x = dc::randn({8, 4});
    // the reference: four backward passes in one thread
    for (int i = 0; i < 4; ++i) model(x).sum().backward();
    const std::vector<double> expected = model.weight().grad().to_vector();
    model.zero_grad();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&] { model(x).sum().backward(); });
    for (auto& th : threads) th.join();
    const std::vector<double> got = model.weight().grad().to_vector();
    REQUIRE(got.size() == expected.size());
    // the same four terms added in another order: equal to float rounding
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(expected[i]).epsilon(1e-6));
}
