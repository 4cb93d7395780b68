// Selection along each dim of a float32 [1000, 1000] matrix, forward only: index_select of 500
// indices and gather of a [1000, 500] / [500, 1000] index, along dim 0 (whole rows) and dim 1
// (single elements). Items: the elements selected.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <descent/autograd.hpp>

namespace dc = descent;

namespace {

constexpr std::int64_t kSide = 1000, kPicked = 500;

void BM_IndexSelect(benchmark::State& state) {
    const std::int64_t dim = state.range(0);
    dc::manual_seed(0);
    const dc::Tensor x = dc::randn({kSide, kSide});
    const dc::Tensor index = dc::randint(0, kSide, {kPicked});
    for (auto _ : state) {
        dc::Tensor y = dc::index_select(x, dim, index);
        benchmark::DoNotOptimize(y.raw_data());
    }
    state.SetItemsProcessed(state.iterations() * kSide * kPicked);
}

void BM_Gather(benchmark::State& state) {
    const std::int64_t dim = state.range(0);
    dc::manual_seed(0);
    const dc::Tensor x = dc::randn({kSide, kSide});
    const dc::Tensor index =
        dc::randint(0, kSide, dim == 0 ? dc::Shape{kPicked, kSide} : dc::Shape{kSide, kPicked});
    for (auto _ : state) {
        dc::Tensor y = dc::gather(x, dim, index);
        benchmark::DoNotOptimize(y.raw_data());
    }
    state.SetItemsProcessed(state.iterations() * kSide * kPicked);
}

BENCHMARK(BM_IndexSelect)->Arg(0)->Arg(1);
BENCHMARK(BM_Gather)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
