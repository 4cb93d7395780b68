// Elementwise ops on float32 tensors of 1e3 … 1e7 elements, forward only (no input requires
// grad). Bytes processed count the minimum traffic of the op: every input element read once
// and every output element written once. BM_EigenAddInto is the same add on preallocated Eigen
// arrays: the gap to BM_Add is what descent adds (a fresh output allocation per op, dispatch).

#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdint>
#include <descent/autograd.hpp>

namespace dc = descent;

namespace {

constexpr std::int64_t kBroadcastWidth = 100;  // C of the [N/C, C] + [C] add

void set_traffic(benchmark::State& state, std::int64_t elements_read,
                 std::int64_t elements_written) {
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.SetBytesProcessed(state.iterations() * (elements_read + elements_written) *
                            static_cast<std::int64_t>(sizeof(float)));
}

void BM_Add(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const dc::Tensor a = dc::randn({n});
    const dc::Tensor b = dc::randn({n});
    for (auto _ : state) {
        dc::Tensor c = a + b;
        benchmark::DoNotOptimize(c.raw_data());
    }
    set_traffic(state, 2 * n, n);
}

void BM_Mul(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const dc::Tensor a = dc::randn({n});
    const dc::Tensor b = dc::randn({n});
    for (auto _ : state) {
        dc::Tensor c = a * b;
        benchmark::DoNotOptimize(c.raw_data());
    }
    set_traffic(state, 2 * n, n);
}

void BM_Exp(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const dc::Tensor a = dc::randn({n});
    for (auto _ : state) {
        dc::Tensor c = dc::exp(a);
        benchmark::DoNotOptimize(c.raw_data());
    }
    set_traffic(state, n, n);
}

void BM_Relu(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const dc::Tensor a = dc::randn({n});
    for (auto _ : state) {
        dc::Tensor c = dc::relu(a);
        benchmark::DoNotOptimize(c.raw_data());
    }
    set_traffic(state, n, n);
}

/// [N/C, C] + [C]: the bias add of a linear layer.
void BM_AddBroadcastRow(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const dc::Tensor a = dc::randn({n / kBroadcastWidth, kBroadcastWidth});
    const dc::Tensor b = dc::randn({kBroadcastWidth});
    for (auto _ : state) {
        dc::Tensor c = a + b;
        benchmark::DoNotOptimize(c.raw_data());
    }
    set_traffic(state, n + kBroadcastWidth, n);
}

/// The add kernel alone: Eigen arrays, output allocated once outside the loop.
void BM_EigenAddInto(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const Eigen::ArrayXf a = Eigen::ArrayXf::Random(n);
    const Eigen::ArrayXf b = Eigen::ArrayXf::Random(n);
    Eigen::ArrayXf c(n);
    for (auto _ : state) {
        c = a + b;
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    set_traffic(state, 2 * n, n);
}

void sizes(benchmark::internal::Benchmark* b) {
    b->RangeMultiplier(10)->Range(1'000, 10'000'000)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_Add)->Apply(sizes);
BENCHMARK(BM_Mul)->Apply(sizes);
BENCHMARK(BM_Exp)->Apply(sizes);
BENCHMARK(BM_Relu)->Apply(sizes);
BENCHMARK(BM_AddBroadcastRow)->Apply(sizes);
BENCHMARK(BM_EigenAddInto)->Apply(sizes);
