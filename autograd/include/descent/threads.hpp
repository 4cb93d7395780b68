#pragma once
// How many threads descent's parallel kernels use: the matrix products (Eigen's GEMM on
// OpenMP), and the convolution and window kernels over their samples. Work too small to gain
// from a second thread always runs on one — split, its threads mostly wait for each other,
// and on a busy machine a waiting thread spins for the whole time slice of the other
// (measured: bench/README.md, "Threads").
//
//   descent::set_num_threads(1);   // e.g. one training process per core

#include <cstdint>

namespace descent {

/// Threads for every later product, process-wide (1 ≤ n ≤ 1024); also OpenMP's default for the
/// calling thread (omp_set_num_threads). The default: OpenMP's (OMP_NUM_THREADS, else the cores).
void set_num_threads(int n);
int get_num_threads();

/// The work, m·n·k multiply-adds, from which a product may use more than one thread.
std::int64_t parallel_threshold();
/// Sets it (≥ 0; 0 lets every product use every thread), for tuning on other machines.
void set_parallel_threshold(std::int64_t work);

}  // namespace descent
