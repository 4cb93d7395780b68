// parallel_for, the pool every parallel kernel runs on: each item once, slots within the
// thread count, nested and concurrent calls, exceptions.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/threads.hpp>

#include "restore_thread_settings.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

namespace dc = descent;

TEST_CASE("parallel_for runs every item once, on slots below the thread count",
          "[threads][parallel_for]") {
    for (const int threads : {1, 2, 3, 8}) {
        for (const std::int64_t count : {0, 1, 2, 7, 1000}) {
            std::vector<std::atomic<int>> runs(static_cast<std::size_t>(count));
            std::atomic<int> bad_slot{0};
            dc::parallel_for(count, threads, [&](std::int64_t item, int slot) {
                runs[static_cast<std::size_t>(item)].fetch_add(1);
                if (slot < 0 || slot >= threads) bad_slot.fetch_add(1);
            });
            for (const auto& r : runs) CHECK(r.load() == 1);
            CHECK(bad_slot.load() == 0);
        }
    }
}

TEST_CASE("parallel_for: nested and concurrent calls, and an item's exception",
          "[threads][parallel_for]") {
    std::atomic<std::int64_t> sum{0};
    dc::parallel_for(4, 2, [&](std::int64_t i, int) {  // nested: runs on the item's thread
        dc::parallel_for(10, 2, [&](std::int64_t j, int slot) {
            CHECK(slot == 0);
            sum.fetch_add(i * 10 + j);
        });
    });
    CHECK(sum.load() == 780);  // Σ of 0..39

    std::vector<std::thread> callers;
    std::atomic<std::int64_t> total{0};
    for (int c = 0; c < 4; ++c) {
        callers.emplace_back([&] {
            for (int rep = 0; rep < 50; ++rep) {
                dc::parallel_for(100, 2, [&](std::int64_t i, int) { total.fetch_add(i); });
            }
        });
    }
    for (auto& t : callers) t.join();
    CHECK(total.load() == 4 * 50 * 4950);

    std::atomic<int> ran{0};
    CHECK_THROWS_WITH(dc::parallel_for(20, 2,
                                       [&](std::int64_t i, int) {
                                           ran.fetch_add(1);
                                           if (i == 3) throw std::runtime_error("item 3");
                                       }),
                      "item 3");
    CHECK(ran.load() == 20);  // the other items still ran
}

TEST_CASE("parallel_for_elements: every item once, on the caller below 2^16 elements",
          "[threads][parallel_for]") {
    const RestoreThreadSettings restore;
    dc::set_num_threads(2);
    for (const std::int64_t elements : {std::int64_t{100}, std::int64_t{1} << 16}) {
        std::vector<std::atomic<int>> seen(64);
        std::atomic<int> elsewhere{0};
        const auto caller = std::this_thread::get_id();
        dc::parallel_for_elements(64, elements, [&](std::int64_t i) {
            seen[static_cast<std::size_t>(i)].fetch_add(1);
            if (std::this_thread::get_id() != caller) elsewhere.fetch_add(1);
        });
        for (const auto& s : seen) CHECK(s.load() == 1);
        if (elements < (std::int64_t{1} << 16)) CHECK(elsewhere.load() == 0);
    }
}

TEST_CASE("elementwise ops over many chunks: every element, the same bits on 1 and 2 threads",
          "[threads][parallel_for]") {
    const RestoreThreadSettings restore;
    // 3 chunks of 2^15 and a ragged tail, so the last chunk is partial and not a packet multiple
    const std::int64_t n = 3 * (std::int64_t{1} << 15) + 77;
    dc::manual_seed(5);
    const dc::Tensor a = dc::randn({n}), b = dc::randn({n}), bias = dc::randn({7}),
                     rows = dc::randn({14000, 7});
    const auto run = [&](int threads) {
        dc::set_num_threads(threads);
        const dc::Tensor x = a.detach().requires_grad_();
        const dc::Tensor y = dc::relu(x) + dc::exp(x) * b - 2.0;
        y.backward(dc::ones({n}));  // relu's backward, and x's two gradients summed in place
        // a bias [7] over the rows of a [14000, 7] matrix, either side of the op
        return std::vector<std::vector<double>>{
            y.to_vector(), x.grad().to_vector(), dc::full({n}, 0.25).to_vector(),
            (rows + bias).to_vector(), (bias - rows).to_vector()};
    };
    const auto one = run(1);
    const auto two = run(2);
    CHECK(one == two);
    const std::vector<double> av = a.to_vector(), bv = b.to_vector();
    std::int64_t wrong = 0;
    for (std::size_t k = 0; k < av.size(); ++k) {
        // float32 results against double arithmetic on the same inputs: a few float32 ulps
        const double e = std::exp(av[k]) * bv[k];
        const double y = std::max(av[k], 0.0) + e - 2.0, dx = (av[k] > 0 ? 1.0 : 0.0) + e;
        if (std::abs(one[0][k] - y) > 1e-6 * (4.0 + std::abs(e))) ++wrong;
        if (std::abs(one[1][k] - dx) > 1e-6 * (2.0 + std::abs(e))) ++wrong;
        if (one[2][k] != 0.25) ++wrong;
    }
    const std::vector<double> biases = bias.to_vector(), matrix = rows.to_vector();
    for (std::size_t k = 0; k < matrix.size(); ++k) {  // float32 sums of float32 values
        if (one[3][k] != double(float(matrix[k]) + float(biases[k % 7]))) ++wrong;
        if (one[4][k] != double(float(biases[k % 7]) - float(matrix[k]))) ++wrong;
    }
    CHECK(wrong == 0);
}
