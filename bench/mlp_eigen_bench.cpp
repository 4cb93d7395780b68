// The no-overhead limit of the MLP benchmark: mlp_eigen.hpp's hand-written forward and
// backward on the same problem as BM_MlpDescent (mlp_descent_bench.cpp).

#include <benchmark/benchmark.h>

#include "mlp_eigen.hpp"

namespace {

void BM_MlpEigen(benchmark::State& state) {
    descent_bench::EigenMlp mlp(descent_bench::make_mlp_problem(state.range(0)));
    for (auto _ : state) {
        const float loss = mlp.forward_backward();
        benchmark::DoNotOptimize(loss);
        benchmark::DoNotOptimize(mlp.weight_grad(0).data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));  // samples
}

}  // namespace

BENCHMARK(BM_MlpEigen)->ArgName("batch")->Arg(32)->Arg(256)->UseRealTime();
