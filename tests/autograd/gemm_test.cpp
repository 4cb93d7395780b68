// The product kernel (autograd/src/gemm.cpp): every transpose combination, both kernels (Eigen's
// and, in a build with it, OpenBLAS's) and their size boundaries, split over threads or not,
// called from inside another parallel region, and empty depths.

#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gemm.hpp"
#include "restore_thread_settings.hpp"

namespace dc = descent;
using dc::detail::gemm;

namespace {
/// A product C [n, m] = op(A)·op(B) with its operands stored as gemm reads them.
template <class T>
struct Product {
    std::int64_t n, k, m;
    bool ta, tb;
    std::vector<T> a, b;
    std::int64_t ar() const { return ta ? k : n; }
    std::int64_t ac() const { return ta ? n : k; }
    std::int64_t br() const { return tb ? m : k; }
    std::int64_t bc() const { return tb ? k : m; }
    T op_a(std::int64_t i, std::int64_t p) const {
        return a[static_cast<std::size_t>(ta ? p * n + i : i * k + p)];
    }
    T op_b(std::int64_t p, std::int64_t j) const {
        return b[static_cast<std::size_t>(tb ? j * k + p : p * m + j)];
    }
    std::vector<T> run() const {
        std::vector<T> c(static_cast<std::size_t>(n * m), T(-7));  // overwritten, not added to
        gemm(a.data(), ar(), ac(), ta, b.data(), br(), bc(), tb, c.data());
        return c;
    }
};

/// Operands with small integer values (every product exact in any order) or uniform in [-1, 1].
template <class T>
Product<T> make(std::int64_t n, std::int64_t k, std::int64_t m, bool ta, bool tb, bool integers,
                unsigned seed) {
    Product<T> p{n, k, m, ta, tb, {}, {}};
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int> small(-3, 3);
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    auto draw = [&] { return integers ? T(small(gen)) : T(unit(gen)); };
    p.a.resize(static_cast<std::size_t>(n * k));
    p.b.resize(static_cast<std::size_t>(k * m));
    for (T& x : p.a) x = draw();
    for (T& x : p.b) x = draw();
    return p;
}

/// Checks c against the schoolbook product in double: exact for integer operands, else within
/// the summation bound |ĉ − c| ≤ k·ε·Σ|a||b| (any order, with or without fused multiply-add).
template <class T>
void check_product(const Product<T>& p, const std::vector<T>& c, bool exact) {
    int wrong = 0;
    for (std::int64_t i = 0; i < p.n; ++i) {
        for (std::int64_t j = 0; j < p.m; ++j) {
            double want = 0, magnitude = 0;
            for (std::int64_t q = 0; q < p.k; ++q) {
                want += double(p.op_a(i, q)) * double(p.op_b(q, j));
                magnitude += std::abs(double(p.op_a(i, q)) * double(p.op_b(q, j)));
            }
            const double got = double(c[static_cast<std::size_t>(i * p.m + j)]);
            const double bound =
                exact ? 0.0 : double(p.k) * double(std::numeric_limits<T>::epsilon()) * magnitude;
            if (!(std::abs(got - want) <= bound)) ++wrong;
        }
    }
    CHECK(wrong == 0);
}

struct Extents {
    std::int64_t n, k, m;
};
// Eigen's regime (one row or column, shallow, tiny), both sides of each OpenBLAS boundary
// (16 rows or columns, depth 32, 64³ work) and products split over threads with odd extents.
const std::vector<Extents> extents = {
    {1, 784, 256}, {256, 784, 1}, {8, 2, 16},   {15, 64, 300},  {16, 64, 300},  {300, 31, 40},
    {300, 32, 40}, {48, 48, 48},  {64, 64, 64}, {257, 100, 33}, {33, 100, 257}, {130, 70, 129},
};
}  // namespace

TEST_CASE("gemm: every transpose combination on both kernels, float and double", "[gemm]") {
    const RestoreThreadSettings restore;
    dc::set_num_threads(1);
    unsigned seed = 1;
    for (const Extents& e : extents) {
        for (const bool ta : {false, true}) {
            for (const bool tb : {false, true}) {
                INFO(e.n << "x" << e.k << " times " << e.k << "x" << e.m << ", ta " << ta << ", tb "
                         << tb << ", kernel " << dc::detail::gemm_kernel(e.n, e.k, e.m));
                const auto pd = make<double>(e.n, e.k, e.m, ta, tb, true, ++seed);
                check_product(pd, pd.run(), true);
                const auto pf = make<float>(e.n, e.k, e.m, ta, tb, false, ++seed);
                check_product(pf, pf.run(), false);
            }
        }
    }
}

TEST_CASE("gemm: the kernel is chosen by extents", "[gemm]") {
    // Eigen's own paths win for one row or column, shallow depth and small work in any build.
    for (const Extents& e : {Extents{1, 784, 256}, Extents{256, 784, 1}, Extents{300, 31, 40},
                             Extents{15, 64, 300}, Extents{48, 48, 48}}) {
        CHECK(std::string(dc::detail::gemm_kernel(e.n, e.k, e.m)) == "eigen");
    }
    const std::string large = dc::detail::gemm_kernel(256, 784, 256);
    CHECK((large == "blas" || large == "eigen"));  // blas when built with a BLAS
#ifdef DESCENT_EXPECT_OPENBLAS
    CHECK(large == "blas");
    CHECK(std::string(dc::detail::gemm_kernel(256, 784, 256, true)) == "blas");  // loaded
#endif
    CHECK(std::string(dc::detail::gemm_kernel(64, 64, 64)) == large);
    // Extents past cblas's int stay with Eigen.
    CHECK(std::string(dc::detail::gemm_kernel(16, std::int64_t{1} << 31, 16)) == "eigen");
}

TEST_CASE("gemm: split over two threads, the same bits as on one", "[thread-settings]") {
    const RestoreThreadSettings restore;
    dc::set_parallel_threshold(0);  // split every product that can be
    for (const Extents& e : extents) {
        for (const bool ta : {false, true}) {
            for (const bool tb : {false, true}) {
                INFO(e.n << "x" << e.k << "x" << e.m << ", ta " << ta << ", tb " << tb);
                const auto p = make<double>(e.n, e.k, e.m, ta, tb, true, 99);
                dc::set_num_threads(1);
                const std::vector<double> one = p.run();
                dc::set_num_threads(2);
                const std::vector<double> two = p.run();
                CHECK(one == two);
                check_product(p, two, true);
                CHECK(omp_get_max_threads() == 2);  // the caller's OpenMP count is kept
            }
        }
    }
}

TEST_CASE("gemm: Eigen's products split over the pool give the bits of one thread",
          "[thread-settings]") {
    // Real-valued operands (the order of the sums shows in the bits) and deep products: Eigen
    // blocks the depth by the size of what it multiplies, so the blocks of C must not depend on
    // the thread count.
    const RestoreThreadSettings restore;
    dc::set_parallel_threshold(0);
    const std::vector<Extents> eigen_regime = {
        {40, 3000, 10}, {10, 3000, 40}, {300, 31, 40}, {33, 2000, 15}, {200, 20, 200}};
    for (const Extents& e : eigen_regime) {
        for (const bool ta : {false, true}) {
            for (const bool tb : {false, true}) {
                INFO(e.n << "x" << e.k << "x" << e.m << ", ta " << ta << ", tb " << tb);
                REQUIRE(std::string(dc::detail::gemm_kernel(e.n, e.k, e.m)) == "eigen");
                const auto p = make<float>(e.n, e.k, e.m, ta, tb, false, 5);
                dc::set_num_threads(1);
                const std::vector<float> one = p.run();
                dc::set_num_threads(2);
                const std::vector<float> two = p.run();
                CHECK(one == two);
                check_product(p, two, false);
                CHECK(omp_get_max_threads() == 2);  // the caller's OpenMP count is kept
            }
        }
    }
}

TEST_CASE("gemm: called from inside a parallel region, every block is computed",
          "[thread-settings]") {
    const RestoreThreadSettings restore;
    dc::set_parallel_threshold(0);
    dc::set_num_threads(2);
    const auto p = make<double>(130, 70, 129, false, true, true, 7);
    std::vector<std::vector<double>> results(2);
#pragma omp parallel num_threads(2)
    results[static_cast<std::size_t>(omp_get_thread_num())] = p.run();
    for (const auto& c : results) {
        REQUIRE(c.size() == 130u * 129u);
        check_product(p, c, true);
    }
}

TEST_CASE("gemm: a depth of zero gives zeros, empty sides nothing", "[gemm]") {
    for (const Extents& e : {Extents{40, 0, 50}, Extents{3, 0, 2}, Extents{0, 40, 50}}) {
        const auto p = make<float>(e.n, e.k, e.m, false, false, true, 3);
        const std::vector<float> c = p.run();
        CHECK(c == std::vector<float>(static_cast<std::size_t>(e.n * e.m), 0.0f));
    }
}
