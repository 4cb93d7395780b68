// Threads (run under ThreadSanitizer in CI): every thread has its own generator, so separate
// computations in separate threads never race and each thread's numbers depend only on its own
// seed; backward passes in several threads may accumulate into one shared leaf.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <thread>
#include <vector>

namespace dc = descent;

namespace {
/// A small seeded computation: random draws, a tiny fit, the final loss and weights.
std::vector<double> seeded_work(std::uint64_t seed) {
    dc::manual_seed(seed);
    dc::Tensor w = dc::randn({4, 3}).requires_grad_();
    const dc::Tensor x = dc::randn({16, 4}), y = dc::randn({16, 3});
    for (int step = 0; step < 20; ++step) {
        const dc::Tensor r = dc::matmul(x, w) - y;
        const dc::Tensor loss = (r * r).mean();
        w.set_grad({});
        loss.backward();
        const dc::NoGradGuard no_grad;
        w.sub_(w.grad(), 0.1);
    }
    std::vector<double> out = w.to_vector();
    out.push_back(dc::rand({1}).item());
    return out;
}
}  // namespace

TEST_CASE("threads: each thread's stream depends only on its own seed", "[threads]") {
    const std::vector<double> alone = seeded_work(11);
    std::vector<std::vector<double>> results(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < results.size(); ++t) {
        threads.emplace_back([&results, t] { results[t] = seeded_work(t % 2 == 0 ? 11 : 12); });
    }
    for (auto& th : threads) th.join();
    CHECK(results[0] == alone);
    CHECK(results[2] == alone);
    CHECK(results[1] == results[3]);
    CHECK(results[1] != alone);
}

TEST_CASE("threads: manual_seed in one thread leaves the others' streams alone", "[threads]") {
    dc::manual_seed(5);
    const double first = dc::rand({1}).item();
    dc::manual_seed(5);
    std::thread other([] {
        dc::manual_seed(99);
        for (int i = 0; i < 100; ++i) static_cast<void>(dc::rand({8}));
    });
    other.join();
    CHECK(dc::rand({1}).item() == first);
}

TEST_CASE("threads: a new thread's generator starts at seed 0, whatever its creator's",
          "[threads]") {
    dc::manual_seed(123);  // not inherited
    dc::Generator reference(0);
    const double expected = reference.uniform();
    double seen = 0.0;
    std::thread fresh([&seen] { seen = dc::global_generator().uniform(); });
    fresh.join();
    CHECK(seen == expected);
}

TEST_CASE("threads: backward in several threads into one shared leaf", "[threads]") {
    dc::Tensor w = dc::ones({64}, {.dtype = dc::float64}).requires_grad_();
    constexpr int kThreads = 4, kPasses = 25;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&w, t] {
            for (int i = 0; i < kPasses; ++i) (w * static_cast<double>(t + 1)).sum().backward();
        });
    }
    for (auto& th : threads) th.join();
    // Σ_t (t + 1)·kPasses = 10·25 per element, exactly, whatever the interleaving
    for (const double g : w.grad().to_vector()) CHECK(g == 250.0);
}

TEST_CASE("threads: a leaf's grad() is read once the thread that runs backward is joined",
          "[threads]") {
    // grad() read during another thread's backward into the same leaf is a data race, as in
    // torch (tensor.hpp); waiting for the thread makes the read safe, which TSan checks here
    dc::Tensor w = dc::ones({16}, {.dtype = dc::float64}).requires_grad_();
    for (int round = 1; round <= 3; ++round) {
        std::thread worker([&w] { (w * 2.0).sum().backward(); });
        worker.join();
        for (const double g : w.grad().to_vector()) CHECK(g == 2.0 * round);
    }
}

TEST_CASE("threads: forward passes sharing parameters record concurrently", "[threads]") {
    dc::Tensor w = dc::ones({8, 8}, {.dtype = dc::float64}).requires_grad_();
    std::vector<double> sums(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < sums.size(); ++t) {
        threads.emplace_back([&w, &sums, t] {
            const dc::Tensor x = dc::full({2, 8}, static_cast<double>(t), {.dtype = dc::float64});
            const auto g = dc::grad({dc::matmul(x, w).sum()}, {w});
            sums[t] = g[0].sum().item();
        });
    }
    for (auto& th : threads) th.join();
    for (std::size_t t = 0; t < sums.size(); ++t) CHECK(sums[t] == 2.0 * 8 * 8 * t);
}
