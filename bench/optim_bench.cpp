// Optimizer updates as memory traffic: Adam, AdamW and SGD with momentum over one 10M-element
// tensor and over 1,000 tensors of 10k elements (float32), reported in GB/s of the bytes an
// update must move, next to a STREAM-style triad a[i] = b[i] + s·c[i] measured here.
// Bytes per element (float32): SGD-momentum reads θ, g, b and writes θ, b: 5·4; Adam/AdamW
// read θ, g, m, v and write θ, m, v: 7·4.

#include <benchmark/benchmark.h>

#include <descent/autograd.hpp>
#include <descent/eigen.hpp>
#include <descent/optim.hpp>
#include <memory>
#include <vector>

namespace dc = descent;
namespace opt = descent::optim;

namespace {

std::vector<dc::Tensor> make_params(std::int64_t tensors, std::int64_t elements) {
    std::vector<dc::Tensor> params;
    for (std::int64_t i = 0; i < tensors; ++i) {
        dc::Tensor p = dc::full({elements}, 0.5, {.requires_grad = true});
        p.set_grad(dc::full({elements}, 1e-3));
        params.push_back(p);
    }
    return params;
}

template <class Make>
void run(benchmark::State& state, Make make, double bytes_per_element) {
    const std::int64_t tensors = state.range(0), elements = state.range(1);
    auto params = make_params(tensors, elements);
    std::unique_ptr<opt::Optimizer> optimizer = make(params);
    optimizer->step();  // allocates the state buffers outside the timed loop
    for (auto _ : state) optimizer->step();
    state.SetBytesProcessed(
        static_cast<std::int64_t>(state.iterations() * tensors * elements * bytes_per_element));
}

void BM_SGDMomentum(benchmark::State& state) {
    run(
        state,
        [](auto& p) {
            return std::make_unique<opt::SGD>(p, opt::SGDOptions{.lr = 1e-3, .momentum = 0.9});
        },
        5 * 4);
}

void BM_Adam(benchmark::State& state) {
    run(
        state, [](auto& p) { return std::make_unique<opt::Adam>(p, opt::AdamOptions{}); }, 7 * 4);
}

void BM_AdamW(benchmark::State& state) {
    run(
        state, [](auto& p) { return std::make_unique<opt::AdamW>(p, opt::AdamWOptions{}); }, 7 * 4);
}

/// The machine's attainable bandwidth for this access pattern: a[i] = b[i] + s·c[i].
void BM_StreamTriad(benchmark::State& state) {
    const auto n = static_cast<Eigen::Index>(state.range(0) * state.range(1));
    Eigen::ArrayXf a = Eigen::ArrayXf::Zero(n), b = Eigen::ArrayXf::Ones(n),
                   c = Eigen::ArrayXf::Ones(n);
    for (auto _ : state) {
        a = b + 0.5f * c;
        benchmark::DoNotOptimize(a.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * 3 * 4));
}

}  // namespace

#define DESCENT_OPTIM_SHAPES \
    ->Args({1, 10'000'000})->Args({1000, 10'000})->Unit(benchmark::kMillisecond)
BENCHMARK(BM_StreamTriad) DESCENT_OPTIM_SHAPES;
BENCHMARK(BM_SGDMomentum) DESCENT_OPTIM_SHAPES;
BENCHMARK(BM_Adam) DESCENT_OPTIM_SHAPES;
BENCHMARK(BM_AdamW) DESCENT_OPTIM_SHAPES;
