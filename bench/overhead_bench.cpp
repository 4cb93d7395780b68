// Fixed cost per op: 1-element tensors, so the kernel is free and what is measured is
// allocation, dtype dispatch, recording a node on the tape and running the reverse pass.

#include <benchmark/benchmark.h>

#include <descent/autograd.hpp>

namespace dc = descent;

namespace {

/// add with a recorded node (a requires grad) plus backward into a.grad().
void BM_AddBackward1(benchmark::State& state) {
    dc::Tensor a = dc::ones({1}, {.requires_grad = true});
    const dc::Tensor b = dc::ones({1});
    for (auto _ : state) {
        a.set_grad({});
        const dc::Tensor c = a + b;
        c.backward();
        benchmark::DoNotOptimize(a.grad().raw_data());
    }
}

/// Forward add only, grad mode on, a requires grad: the node is recorded (and dropped).
void BM_AddForwardRecorded1(benchmark::State& state) {
    const dc::Tensor a = dc::ones({1}, {.requires_grad = true});
    const dc::Tensor b = dc::ones({1});
    for (auto _ : state) {
        const dc::Tensor c = a + b;
        benchmark::DoNotOptimize(c.raw_data());
    }
}

/// Forward add of the same tensors under NoGradGuard: nothing recorded.
void BM_AddForwardNoGrad1(benchmark::State& state) {
    const dc::Tensor a = dc::ones({1}, {.requires_grad = true});
    const dc::Tensor b = dc::ones({1});
    const dc::NoGradGuard no_grad;
    for (auto _ : state) {
        const dc::Tensor c = a + b;
        benchmark::DoNotOptimize(c.raw_data());
    }
}

/// Forward add, grad mode on but no input requires grad: nothing recorded either.
void BM_AddForwardConstants1(benchmark::State& state) {
    const dc::Tensor a = dc::ones({1});
    const dc::Tensor b = dc::ones({1});
    for (auto _ : state) {
        const dc::Tensor c = a + b;
        benchmark::DoNotOptimize(c.raw_data());
    }
}

}  // namespace

BENCHMARK(BM_AddBackward1);
BENCHMARK(BM_AddForwardRecorded1);
BENCHMARK(BM_AddForwardNoGrad1);
BENCHMARK(BM_AddForwardConstants1);
