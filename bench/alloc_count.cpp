// Heap allocations per training step and per op (bench/README.md, "Allocations"): every
// operator new in the process is counted (this program replaces the global operator new and
// delete), around the tiny training step of bench/compare, add + backward and the 100-op chain.
// Not a benchmark: a count, the same on every run.

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>

namespace {
std::atomic<std::int64_t> allocations{0};

void* counted(std::size_t bytes, std::size_t alignment) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    void* p = alignment <= alignof(std::max_align_t)
                  ? std::malloc(bytes == 0 ? 1 : bytes)
                  : std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
    if (!p) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t n) {
    return counted(n, 0);
}
void* operator new[](std::size_t n) {
    return counted(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
    return counted(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return counted(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}

namespace dc = descent;
namespace nn = descent::nn;

namespace {
/// Allocations per call of `body`, after warm-up calls (caches filled, as in a training loop).
double per_call(const std::function<void()>& body, int calls = 100) {
    for (int i = 0; i < 10; ++i) body();
    const std::int64_t before = allocations.load();
    for (int i = 0; i < calls; ++i) body();
    return static_cast<double>(allocations.load() - before) / calls;
}
}  // namespace

int main() {
    dc::manual_seed(0);
    nn::Sequential model{nn::Linear(2, 16), nn::ReLU(), nn::Linear(16, 1)};
    const dc::Tensor x = dc::randn({8, 2}), y = dc::randn({8, 1});
    descent::optim::Adam adam(model.parameters(), {.lr = 1e-4});
    const double step = per_call([&] {
        const dc::Tensor loss = nn::mse_loss(model(x), y);
        adam.zero_grad();
        loss.backward();
        adam.step();
    });
    const double forward = per_call([&] {
        const dc::NoGradGuard no_grad;
        static_cast<void>(nn::mse_loss(model(x), y));
    });

    dc::Tensor a = dc::full({1}, 1.0, {.requires_grad = true});
    dc::Tensor b = dc::full({1}, 2.0, {.requires_grad = true});
    const double add_backward = per_call([&] {
        a.set_grad({});
        b.set_grad({});
        (a + b).backward(dc::ones({1}));
    });
    const double add = per_call([&] { static_cast<void>(a + b); });
    const double chain = per_call([&] {
        a.set_grad({});
        b.set_grad({});
        dc::Tensor t = a;
        for (int i = 0; i < 100; ++i) t = i % 2 ? t * b : t + b;
        t.backward(dc::ones({1}));
    });
    fmt::print("heap allocations (operator new calls)\n");
    fmt::print(
        "  tiny step (2-16-1, batch 8, MSE, Adam): {:.1f}; its forward without grad: {:.1f}\n",
        step, forward);
    fmt::print("  add + backward, 1 element: {:.1f}; the add alone, recorded: {:.1f}\n",
               add_backward, add);
    fmt::print("  100-op chain + backward: {:.1f} ({:.1f} per op)\n", chain, chain / 100);
    return 0;
}
