// Thread settings (threads.hpp): set_num_threads / get_num_threads and the parallel threshold —
// their checks, that the setting is process-wide, and that products are the same at one and two
// threads, split or not. Tagged [thread-settings], not [threads]: a split product runs in an
// OpenMP parallel region, whose barriers ThreadSanitizer cannot see (Debian's libgomp is not
// instrumented), so only the last case, with products below the threshold, runs under it.

#include <omp.h>

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <thread>
#include <vector>

#include "restore_thread_settings.hpp"

namespace dc = descent;
using Catch::Contains;

namespace {
/// An [n, n] float64 matrix of small integers: every product of two is exact in any summation
/// order, so split and unsplit products must agree to the bit.
dc::Tensor small_integers(std::int64_t n, std::int64_t offset) {
    std::vector<double> v(static_cast<std::size_t>(n * n));
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<double>((static_cast<std::int64_t>(i) * 7 + offset) % 7 - 3);
    return dc::tensor(v, {n, n}, {.dtype = dc::float64});
}

/// The product by the schoolbook triple loop.
std::vector<double> naive_product(const dc::Tensor& a, const dc::Tensor& b, std::int64_t n) {
    const std::vector<double> x = a.to_vector(), y = b.to_vector();
    std::vector<double> c(static_cast<std::size_t>(n * n), 0.0);
    const auto at = [n](std::int64_t i, std::int64_t j) {
        return static_cast<std::size_t>(i * n + j);
    };
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t k = 0; k < n; ++k)
            for (std::int64_t j = 0; j < n; ++j) c[at(i, j)] += x[at(i, k)] * y[at(k, j)];
    return c;
}
}  // namespace

TEST_CASE("thread settings: counts below one and negative thresholds are errors",
          "[thread-settings]") {
    const RestoreThreadSettings restore;
    dc::set_num_threads(1);
    for (const int n : {0, -1, -2147483647 - 1, 1025, 2147483647}) {
        CHECK_THROWS_AS(dc::set_num_threads(n), dc::Error);
        CHECK_THROWS_WITH(dc::set_num_threads(n), Contains("set_num_threads: n"));
        CHECK(dc::get_num_threads() == 1);  // unchanged
    }
    dc::set_parallel_threshold(1000);
    for (const std::int64_t w : {std::int64_t{-1}, std::numeric_limits<std::int64_t>::min()}) {
        CHECK_THROWS_AS(dc::set_parallel_threshold(w), dc::Error);
        CHECK_THROWS_WITH(dc::set_parallel_threshold(w), Contains("set_parallel_threshold"));
        CHECK(dc::parallel_threshold() == 1000);
    }
}

TEST_CASE("thread settings: set_num_threads is process-wide and read back", "[thread-settings]") {
    const RestoreThreadSettings restore;
    for (const int n : {1, 2, 3}) {
        dc::set_num_threads(n);
        CHECK(dc::get_num_threads() == n);
        CHECK(omp_get_max_threads() == n);  // OpenMP's default for the calling thread too
        int seen = 0;
        std::thread([&] { seen = dc::get_num_threads(); }).join();
        CHECK(seen == n);
    }
    dc::set_parallel_threshold(0);
    CHECK(dc::parallel_threshold() == 0);
}

TEST_CASE("thread settings: products agree at one and two threads, split or not",
          "[thread-settings]") {
    const RestoreThreadSettings restore;
    // 160³ ≈ 4.1e6 multiply-adds: above the default threshold, so the default splits it.
    const std::int64_t n = 160;
    const dc::Tensor a = small_integers(n, 0), b = small_integers(n, 3);
    const std::vector<double> want = naive_product(a, b, n);
    for (const int threads : {1, 2}) {
        for (const std::int64_t threshold :
             {std::int64_t{0}, std::int64_t{1} << 21, std::numeric_limits<std::int64_t>::max()}) {
            INFO("threads " << threads << ", threshold " << threshold);
            dc::set_num_threads(threads);
            dc::set_parallel_threshold(threshold);
            CHECK(dc::matmul(a, b).to_vector() == want);
            // The product sets OpenMP's count for its own duration only.
            CHECK(omp_get_max_threads() == threads);
        }
    }
}

TEST_CASE("thread settings: changed while other threads multiply", "[threads]") {
    const RestoreThreadSettings restore;
    dc::set_parallel_threshold(std::int64_t{1} << 21);
    const std::int64_t n = 64;  // 64³ work: below the threshold, one thread per product
    const dc::Tensor a = small_integers(n, 1), b = small_integers(n, 5);
    const std::vector<double> want = naive_product(a, b, n);
    std::vector<int> ok(2, 0);
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < ok.size(); ++t)
        workers.emplace_back([&, t] {
            bool all = true;
            for (int r = 0; r < 20; ++r) all = all && dc::matmul(a, b).to_vector() == want;
            ok[t] = all ? 1 : 0;
        });
    for (int r = 0; r < 20; ++r) {
        dc::set_num_threads(1 + r % 2);
        dc::set_parallel_threshold((std::int64_t{1} << 21) + r);
    }
    for (std::thread& w : workers) w.join();
    CHECK(ok == std::vector<int>{1, 1});
}
