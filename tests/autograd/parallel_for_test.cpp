// parallel_for, the pool every parallel kernel runs on: each item once, slots within the
// thread count, nested and concurrent calls, exceptions.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/threads.hpp>

#include "restore_thread_settings.hpp"

#include <atomic>
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
