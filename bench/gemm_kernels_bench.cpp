// Eigen's GEMM against OpenBLAS's (one thread each) at the shapes of a training step — the
// forward product x·Wᵀ and both backward ones, G·W and Gᵀ·x, of the compare/ MLPs — and at the
// boundaries of descent's choice between them (autograd/src/gemm.cpp); float32. BM_Descent is
// descent's kernel at get_num_threads() threads. Built when descent was built with OpenBLAS.

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <Eigen/Core>
#include <cstdint>
#include <descent/autograd.hpp>

#include "gemm.hpp"

extern "C" void openblas_set_num_threads(int);

namespace {
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// C [n, m] = op(A)·op(B) with depth k; args n, k, m, ta, tb.
struct Operands {
    explicit Operands(const benchmark::State& s)
        : n(s.range(0)),
          k(s.range(1)),
          m(s.range(2)),
          ta(s.range(3) != 0),
          tb(s.range(4) != 0),
          a(Matrix::Random(ta ? k : n, ta ? n : k)),
          b(Matrix::Random(tb ? m : k, tb ? k : m)),
          c(n, m) {}
    Eigen::Index n, k, m;
    bool ta, tb;
    Matrix a, b, c;
};

void finish(benchmark::State& state, const Operands& o) {
    state.counters["GFLOP/s"] = benchmark::Counter(2e-9 * double(o.n) * double(o.k) * double(o.m),
                                                   benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(descent::detail::gemm_kernel(o.n, o.k, o.m));
}

void BM_Eigen(benchmark::State& state) {
    Operands o(state);
    Eigen::setNbThreads(1);
    for (auto _ : state) {
        if (!o.ta && !o.tb) o.c.noalias() = o.a * o.b;
        if (!o.ta && o.tb) o.c.noalias() = o.a * o.b.transpose();
        if (o.ta && !o.tb) o.c.noalias() = o.a.transpose() * o.b;
        if (o.ta && o.tb) o.c.noalias() = o.a.transpose() * o.b.transpose();
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    Eigen::setNbThreads(0);
    finish(state, o);
}

void BM_OpenBlas(benchmark::State& state) {
    Operands o(state);
    openblas_set_num_threads(1);
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, o.ta ? CblasTrans : CblasNoTrans,
                    o.tb ? CblasTrans : CblasNoTrans, int(o.n), int(o.m), int(o.k), 1.0f,
                    o.a.data(), int(o.a.cols()), o.b.data(), int(o.b.cols()), 0.0f, o.c.data(),
                    int(o.m));
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    finish(state, o);
}

void BM_Descent(benchmark::State& state) {
    Operands o(state);
    for (auto _ : state) {
        descent::detail::gemm(o.a.data(), o.a.rows(), o.a.cols(), o.ta, o.b.data(), o.b.rows(),
                              o.b.cols(), o.tb, o.c.data());
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    finish(state, o);
}

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"n", "k", "m", "ta", "tb"})->UseRealTime();
    // 784-256-256-10 at batch 1, 32, 256 and 784-1024-1024-10 at batch 512: y = x·Wᵀ,
    // ∂x = G·W, ∂W = Gᵀ·x for the first two layers.
    for (const std::int64_t batch : {1, 32, 256}) {
        b->Args({batch, 784, 256, 0, 1})->Args({batch, 256, 784, 0, 0});
        b->Args({256, batch, 784, 1, 0})->Args({batch, 256, 256, 0, 1});
        b->Args({256, batch, 256, 1, 0});
    }
    b->Args({512, 784, 1024, 0, 1})->Args({512, 1024, 1024, 0, 1})->Args({512, 1024, 784, 0, 0});
    b->Args({1024, 512, 784, 1, 0})->Args({1024, 512, 1024, 1, 0});
    // The boundaries: rows (8, 16), columns (8, 16), depth (16, 32), cubes (48, 64).
    for (const std::int64_t side : {8, 16}) b->Args({side, 784, 256, 0, 1});
    for (const std::int64_t side : {8, 16}) b->Args({256, 784, side, 0, 1});
    for (const std::int64_t depth : {16, 32}) b->Args({256, depth, 784, 1, 0});
    for (const std::int64_t side : {48, 64}) b->Args({side, side, side, 0, 0});
}
}  // namespace

BENCHMARK(BM_Eigen)->Apply(shapes);
BENCHMARK(BM_OpenBlas)->Apply(shapes);
BENCHMARK(BM_Descent)->Apply(shapes);
