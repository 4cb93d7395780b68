// What a second thread buys: float32 products of growing work at 1 and 2 threads with the
// parallel threshold off (every product split, as Eigen alone does), which is how the
// threshold in autograd/src/threads.cpp was chosen; and training steps of a small model (the
// README's 64-128-10 MLP, batch 32) and a large one (784-1024-1024-10, batch 512) at 1 and 2
// threads with the threshold on and off. Run it idle and next to competing processes
// (bench/README.md, "Threads").

#include <benchmark/benchmark.h>

#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

namespace dc = descent;
namespace nn = descent::nn;

namespace {

/// [n, n] · [n, n] with the threshold off: the raw cost of splitting a product of n³ work.
void BM_SplitProduct(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    dc::set_num_threads(static_cast<int>(state.range(1)));
    const std::int64_t saved = dc::parallel_threshold();
    dc::set_parallel_threshold(0);
    const dc::Tensor a = dc::randn({n, n}), b = dc::randn({n, n});
    for (auto _ : state) {
        dc::Tensor c = dc::matmul(a, b);
        benchmark::DoNotOptimize(c.raw_data());
    }
    dc::set_parallel_threshold(saved);
    state.counters["work"] = static_cast<double>(n * n * n);
}

/// One training step (forward, backward, Adam) of an MLP; range(1) = 0 turns the threshold off.
void train_step(benchmark::State& state, std::vector<std::int64_t> widths, std::int64_t batch) {
    dc::set_num_threads(static_cast<int>(state.range(0)));
    const std::int64_t saved = dc::parallel_threshold();
    if (state.range(1) == 0) dc::set_parallel_threshold(0);
    dc::manual_seed(0);
    nn::Sequential model;
    for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
        model.push_back(nn::Linear(widths[i], widths[i + 1]));
        if (i + 2 < widths.size()) model.push_back(nn::ReLU());
    }
    dc::optim::Adam adam(model.parameters(), {.lr = 1e-3});
    const dc::Tensor x = dc::randn({batch, widths.front()});
    const dc::Tensor y = dc::randint(0, widths.back(), {batch});
    for (auto _ : state) {
        const dc::Tensor loss = nn::cross_entropy(model(x), y);
        adam.zero_grad();
        loss.backward();
        adam.step();
        benchmark::DoNotOptimize(loss.raw_data());
    }
    dc::set_parallel_threshold(saved);
}

void BM_SmallModelStep(benchmark::State& state) {
    train_step(state, {64, 128, 10}, 32);
}

void BM_LargeModelStep(benchmark::State& state) {
    train_step(state, {784, 1024, 1024, 10}, 512);
}

}  // namespace

BENCHMARK(BM_SplitProduct)
    ->ArgsProduct({{32, 48, 64, 96, 128, 144, 160, 176, 192, 224, 256, 384, 512}, {1, 2}})
    ->ArgNames({"n", "threads"})
    ->UseRealTime();
BENCHMARK(BM_SmallModelStep)
    ->ArgsProduct({{1, 2}, {1, 0}})
    ->ArgNames({"threads", "threshold"})
    ->UseRealTime();
BENCHMARK(BM_LargeModelStep)
    ->ArgsProduct({{1, 2}, {1, 0}})
    ->ArgNames({"threads", "threshold"})
    ->UseRealTime();
