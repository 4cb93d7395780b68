// Reductions on float32 tensors of 1e3 … 1e7 elements, forward only: the full sum and mean,
// the variance, a mean squared error written out as ((a − b)²).mean(), and sums over one dim
// of an [N/100, 100] matrix (over the rows, as a bias gradient, and over the columns, as a
// softmax denominator). Bytes processed count every input element read once.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <descent/autograd.hpp>

namespace dc = descent;

namespace {

constexpr std::int64_t kWidth = 100;  // C of the [N/C, C] matrix

void set_traffic(benchmark::State& state, std::int64_t elements_read) {
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.SetBytesProcessed(state.iterations() * elements_read *
                            static_cast<std::int64_t>(sizeof(float)));
}

template <class Op>
void run(benchmark::State& state, const dc::Tensor& x, Op op) {
    for (auto _ : state) {
        dc::Tensor y = op(x);
        benchmark::DoNotOptimize(y.raw_data());
    }
    set_traffic(state, x.numel());
}

void BM_Sum(benchmark::State& state) {
    run(state, dc::randn({state.range(0)}), [](const dc::Tensor& x) { return x.sum(); });
}

void BM_Mean(benchmark::State& state) {
    run(state, dc::randn({state.range(0)}), [](const dc::Tensor& x) { return x.mean(); });
}

void BM_Var(benchmark::State& state) {
    run(state, dc::randn({state.range(0)}), [](const dc::Tensor& x) { return x.var(); });
}

void BM_SumOverRows(benchmark::State& state) {
    run(state, dc::randn({state.range(0) / kWidth, kWidth}),
        [](const dc::Tensor& x) { return x.sum({0}); });
}

void BM_SumOverColumns(benchmark::State& state) {
    run(state, dc::randn({state.range(0) / kWidth, kWidth}),
        [](const dc::Tensor& x) { return x.sum({1}); });
}

void BM_MseLoss(benchmark::State& state) {
    const dc::Tensor target = dc::randn({state.range(0)});
    run(state, dc::randn({state.range(0)}), [&](const dc::Tensor& x) {
        const dc::Tensor d = x - target;
        return (d * d).mean();
    });
}

void sizes(benchmark::internal::Benchmark* b) {
    b->RangeMultiplier(10)->Range(1000, 10'000'000)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_Sum)->Apply(sizes);
BENCHMARK(BM_Mean)->Apply(sizes);
BENCHMARK(BM_Var)->Apply(sizes);
BENCHMARK(BM_SumOverRows)->Apply(sizes);
BENCHMARK(BM_SumOverColumns)->Apply(sizes);
BENCHMARK(BM_MseLoss)->Apply(sizes);
