#pragma once
// The matrix product kernel behind matmul and linear: C = op(A)·op(B) on row-major buffers, op
// an optional transpose. It picks the faster kernel per shape (OpenBLAS when descent was built
// with it, else Eigen) and the threads (threads.hpp), measured in bench/README.md ("GEMM").

#include <cstdint>

namespace descent::detail {

/// c [n, m] = op(a)·op(b) for a [ar, ac] and b [br, bc] (contiguous, row-major); op(a) is aᵀ
/// when ta, op(b) is bᵀ when tb; n = rows of op(a), m = columns of op(b). c is overwritten.
template <class T>
void gemm(const T* a, std::int64_t ar, std::int64_t ac, bool ta, const T* b, std::int64_t br,
          std::int64_t bc, bool tb, T* c);

/// Which kernel a float32 (or float64) product of these extents (n·k times k·m) uses: "blas"
/// (oneDNN's sgemm for float32 when built with oneDNN, else OpenBLAS's) or "eigen".
const char* gemm_kernel(std::int64_t n, std::int64_t k, std::int64_t m, bool float64 = false);

}  // namespace descent::detail
