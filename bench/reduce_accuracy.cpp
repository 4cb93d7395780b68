// The accuracy of float32 reductions over 10⁷ elements, relative to the float64 reduction of
// the same values: a constant 0.1f (where a float accumulator drifts by ~9%) and uniform
// random values. A measurement printed for bench/README.md, not a benchmark.
//   build-bench/bench/reduce_accuracy

#include <fmt/core.h>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <functional>

namespace dc = descent;

namespace {
double relative(double a, double b) {
    return std::abs(a - b) / std::abs(b);
}

void report(const char* name, const dc::Tensor& x32,
            const std::function<dc::Tensor(const dc::Tensor&)>& f) {
    const double a = f(x32).item(), b = f(x32.to(dc::float64)).item();
    fmt::print("{:<28} float32 {:<14.9g} float64 {:<14.9g} relative error {:.2g}\n", name, a, b,
               relative(a, b));
}

dc::Tensor mse(const dc::Tensor& x, const dc::Tensor& y) {
    const dc::Tensor d = x - y;
    return (d * d).mean();
}
}  // namespace

int main() {
    constexpr std::int64_t n = 10'000'000;
    const dc::Tensor c = dc::full({n}, 0.1);
    report("sum of 0.1f", c, [](const dc::Tensor& x) { return x.sum(); });
    report("mean of 0.1f", c, [](const dc::Tensor& x) { return x.mean(); });
    dc::manual_seed(7);
    const dc::Tensor r = dc::rand({n}) + 0.5, t = dc::rand({n});
    report("sum of U(0.5, 1.5)", r, [](const dc::Tensor& x) { return x.sum(); });
    report("mean", r, [](const dc::Tensor& x) { return x.mean(); });
    report("var", r, [](const dc::Tensor& x) { return x.var(); });
    report("std", r, [](const dc::Tensor& x) { return x.std(); });
    report("logsumexp", r, [](const dc::Tensor& x) { return x.logsumexp({0}); });
    report("mse against U(0, 1)", r, [&](const dc::Tensor& x) { return mse(x, t.to(x.dtype())); });
}
