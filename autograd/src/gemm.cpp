// Matrix products: Eigen's GEMM everywhere, a BLAS (one thread per call) from the sizes at which
// it is faster — oneDNN's sgemm for float32 where descent is built with oneDNN (5–20 % faster
// than OpenBLAS's at the transformer, LSTM and MLP shapes, bench/README.md), OpenBLAS's
// otherwise. All run under the one thread policy of threads.hpp: below the parallel
// threshold a product runs on the calling thread; above it C is cut into row (or column) blocks
// run on descent's pool, each block a single-threaded call over the whole depth k: the depth is
// never split, whatever the thread count.

#include "gemm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <new>
#include <type_traits>

#include "descent/eigen.hpp"
#include "descent/error.hpp"
#include "descent/threads.hpp"
#include "threads_internal.hpp"

#ifdef DESCENT_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif
#ifdef DESCENT_HAVE_OPENBLAS
#include <cblas.h>
#include <dlfcn.h>
#endif

namespace descent::detail {
namespace {

/// Eigen's product of C's rows (by_rows) or columns [lo, hi) alone, on the calling thread.
template <class T>
void eigen_block(const T* a, std::int64_t ar, std::int64_t ac, bool ta, const T* b, std::int64_t br,
                 std::int64_t bc, bool tb, T* c, bool by_rows, std::int64_t lo, std::int64_t hi) {
    using In = Eigen::Map<const RowMatrix<T>>;
    const In A(a, ar, ac), B(b, br, bc);
    Eigen::Map<RowMatrix<T>> C(c, ta ? ac : ar, tb ? br : bc);
    const bool whole = lo == 0 && hi == (by_rows ? C.rows() : C.cols());
    const auto product = [&](const auto& op_a, const auto& op_b) {
        if (whole) {  // as one expression: Eigen picks its matrix-vector kernels for a vector
            C.noalias() = op_a * op_b;
        } else if (by_rows) {
            C.middleRows(lo, hi - lo).noalias() = op_a.middleRows(lo, hi - lo) * op_b;
        } else {
            C.middleCols(lo, hi - lo).noalias() = op_a * op_b.middleCols(lo, hi - lo);
        }
    };
    if (!ta && !tb) {
        product(A, B);
    } else if (!ta && tb) {
        product(A, B.transpose());
    } else if (ta && !tb) {
        product(A.transpose(), B);
    } else {
        product(A.transpose(), B.transpose());
    }
}

// A BLAS wins from these extents on (bench/README.md, "GEMM": 1.26–1.44× at the MLP shapes
// from 32 rows; at the boundaries the two are within ±10 %); below, Eigen's small-product paths
// are faster, and for a single row or column its matrix-vector product, up to 7×.
constexpr std::int64_t kBlasMinSide = 16, kBlasMinDepth = 32, kBlasMinWork = 64 * 64 * 64;
// A product split over the threads on Eigen's kernel is cut into at most this many blocks (the
// most threads that can share it).
constexpr std::int64_t kEigenBlocks = 8;

#ifdef DESCENT_HAVE_OPENBLAS
/// OpenBLAS's two products, loaded on the first product that needs them rather than linked:
/// loading OpenBLAS starts its worker threads (OMP_NUM_THREADS − 1), and a process with a second
/// thread pays an atomic instruction for every reference count (the 100-op chain took 5–25 %
/// longer at 2 threads than at 1 in processes that never called it). It is set to one thread
/// per call (descent splits products itself); null when it cannot be loaded (Eigen then
/// computes those products).
struct OpenBlas {
    decltype(&cblas_sgemm) sgemm;
    decltype(&cblas_dgemm) dgemm;
};

const OpenBlas* openblas() {
    static const OpenBlas* const loaded = []() -> const OpenBlas* {
        void* lib = dlopen(DESCENT_OPENBLAS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) return nullptr;
        static const OpenBlas api{
            reinterpret_cast<decltype(&cblas_sgemm)>(dlsym(lib, "cblas_sgemm")),
            reinterpret_cast<decltype(&cblas_dgemm)>(dlsym(lib, "cblas_dgemm"))};
        const auto set_threads =
            reinterpret_cast<void (*)(int)>(dlsym(lib, "openblas_set_num_threads"));
        if (!api.sgemm || !api.dgemm || !set_threads) return nullptr;
        const OneOpenMpThread keep;  // puts back the caller's count, which its OpenMP build resets
        set_threads(1);
        return &api;
    }();
    return loaded;
}
#endif

/// Whether a BLAS computes T's products: oneDNN's sgemm for float32 where descent is built with
/// oneDNN, else OpenBLAS's when it loads.
template <class T>
bool blas_available() {
#ifdef DESCENT_HAVE_ONEDNN
    if constexpr (std::is_same_v<T, float>) return true;
#endif
#ifdef DESCENT_HAVE_OPENBLAS
    return openblas() != nullptr;
#else
    return false;
#endif
}

// cblas counts in int: larger extents stay with Eigen.
template <class T>
bool blas_pays(std::int64_t n, std::int64_t k, std::int64_t m) {
    return std::min(n, m) >= kBlasMinSide && k >= kBlasMinDepth && std::max({n, k, m}) <= INT_MAX &&
           static_cast<double>(n) * static_cast<double>(m) * static_cast<double>(k) >=
               static_cast<double>(kBlasMinWork) &&
           blas_available<T>();
}

/// C = op(A)·op(B) by the BLAS of blas_available, row-major, on the calling thread.
template <class T>
void blas_call(bool ta, bool tb, std::int64_t n, std::int64_t m, std::int64_t k, const T* a,
               std::int64_t lda, const T* b, std::int64_t ldb, T* c, std::int64_t ldc) {
#ifdef DESCENT_HAVE_ONEDNN
    if constexpr (std::is_same_v<T, float>) {
        const dnnl_status_t status =
            dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', n, m, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
        if (status == dnnl_out_of_memory) throw std::bad_alloc();
        if (status != dnnl_success) {
            throw Error(fmt::format("matmul: oneDNN's sgemm failed on {} x {} x {} (status {})", n,
                                    k, m, static_cast<int>(status)));
        }
        return;
    }
#endif
#ifdef DESCENT_HAVE_OPENBLAS
    const auto opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
    if constexpr (std::is_same_v<T, float>) {
        openblas()->sgemm(CblasRowMajor, opa, opb, int(n), int(m), int(k), 1.0f, a, int(lda), b,
                          int(ldb), 0.0f, c, int(ldc));
    } else {
        openblas()->dgemm(CblasRowMajor, opa, opb, int(n), int(m), int(k), 1.0, a, int(lda), b,
                          int(ldb), 0.0, c, int(ldc));
    }
#else
    (void)ta, (void)tb, (void)n, (void)m, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)c,
        (void)ldc;
#endif
}

// C's rows [r0, r1) need op(A)'s rows [r0, r1): rows of A, or columns of A when it is
// transposed. C's columns [c0, c1) need op(B)'s columns: columns of B, or rows when transposed.
template <class T>
void blas_gemm(const T* a, std::int64_t ac, bool ta, const T* b, std::int64_t bc, bool tb, T* c,
               std::int64_t n, std::int64_t k, std::int64_t m, int threads) {
    const bool by_rows = n >= m;
    const std::int64_t side = by_rows ? n : m;
    const int pieces = int(std::clamp<std::int64_t>(side / kBlasMinSide, 1, threads));
    auto piece = [&](int p) {
        const OneOpenMpThread one;  // on every thread that runs a piece (oneDNN reads it)
        const std::int64_t lo = side * p / pieces, hi = side * (p + 1) / pieces;
        if (by_rows) {
            blas_call(ta, tb, hi - lo, m, k, ta ? a + lo : a + lo * ac, ac, b, bc, c + lo * m, m);
        } else {
            blas_call(ta, tb, n, hi - lo, k, a, ac, tb ? b + lo * bc : b + lo, bc, c + lo, m);
        }
    };
    if (pieces == 1) {
        piece(0);
        return;
    }
    parallel_for(pieces, pieces, [&](std::int64_t p, int) { piece(static_cast<int>(p)); });
}
}  // namespace

const char* gemm_kernel(std::int64_t n, std::int64_t k, std::int64_t m, bool float64) {
    return (float64 ? blas_pays<double>(n, k, m) : blas_pays<float>(n, k, m)) ? "blas" : "eigen";
}

template <class T>
void gemm(const T* a, std::int64_t ar, std::int64_t ac, bool ta, const T* b, std::int64_t br,
          std::int64_t bc, bool tb, T* c) {
    const std::int64_t n = ta ? ac : ar, k = ta ? ar : ac, m = tb ? br : bc;
    if (n == 0 || m == 0) return;
    if (k == 0) {
        std::fill(c, c + n * m, T(0));
        return;
    }
    const double work = static_cast<double>(n) * static_cast<double>(m) * static_cast<double>(k);
    if (blas_pays<T>(n, k, m)) {
        const int threads =
            work < static_cast<double>(parallel_threshold()) ? 1 : get_num_threads();
        blas_gemm(a, ac, ta, b, bc, tb, c, n, k, m, threads);
        return;
    }
    // Eigen's own OpenMP split never starts. From the parallel threshold on, C is cut into
    // blocks of rows (or columns), their number fixed by the shape alone — Eigen's blocking of
    // the depth depends on a block's size, so the bits then do not depend on the thread count —
    // and the blocks run on descent's pool.
    const bool by_rows = n >= m;
    const std::int64_t side = by_rows ? n : m;
    const std::int64_t blocks =
        work < static_cast<double>(parallel_threshold())
            ? 1
            : std::clamp<std::int64_t>(side / kBlasMinSide, 1, kEigenBlocks);
    if (blocks == 1) {
        const OneOpenMpThread one;
        eigen_block(a, ar, ac, ta, b, br, bc, tb, c, by_rows, 0, side);
        return;
    }
    parallel_for(blocks, get_num_threads(), [&](std::int64_t block, int) {
        const OneOpenMpThread one;
        eigen_block(a, ar, ac, ta, b, br, bc, tb, c, by_rows, side * block / blocks,
                    side * (block + 1) / blocks);
    });
}

template void gemm<float>(const float*, std::int64_t, std::int64_t, bool, const float*,
                          std::int64_t, std::int64_t, bool, float*);
template void gemm<double>(const double*, std::int64_t, std::int64_t, bool, const double*,
                           std::int64_t, std::int64_t, bool, double*);

}  // namespace descent::detail
