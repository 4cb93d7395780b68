// Square matmul n×n·n×n through descent::matmul, float32 and float64, forward only. The
// GFLOP/s counter counts 2n³ flops per product. BM_EigenGemm is the same product on
// preallocated Eigen matrices (what descent calls underneath).

#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdint>
#include <descent/autograd.hpp>

namespace dc = descent;

namespace {

void set_flops(benchmark::State& state) {
    const auto n = static_cast<double>(state.range(0));
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * n * n * n * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class T>
void BM_Matmul(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const dc::Tensor a = dc::randn({n, n}, {.dtype = dc::dtype_of<T>()});
    const dc::Tensor b = dc::randn({n, n}, {.dtype = dc::dtype_of<T>()});
    for (auto _ : state) {
        dc::Tensor c = dc::matmul(a, b);
        benchmark::DoNotOptimize(c.raw_data());
    }
    set_flops(state);
}

template <class T>
void BM_EigenGemm(benchmark::State& state) {
    using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Index n = state.range(0);
    const Matrix a = Matrix::Random(n, n);
    const Matrix b = Matrix::Random(n, n);
    Matrix c(n, n);
    for (auto _ : state) {
        c.noalias() = a * b;
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    set_flops(state);
}

void sizes(benchmark::internal::Benchmark* b) {
    b->RangeMultiplier(2)->Range(64, 1024)->UseRealTime();
}

}  // namespace

BENCHMARK_TEMPLATE(BM_Matmul, float)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_Matmul, double)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_EigenGemm, float)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_EigenGemm, double)->Apply(sizes);
