#pragma once
// How many threads descent's parallel kernels use: the matrix products, the convolution, window
// and normalisation kernels over their samples, and the optimizers' updates, all on one pool. Work
// too small to gain from a second thread always runs on one — split, its threads mostly wait for
// each other, and on a busy machine a waiting thread spins for the whole time slice of the other
// (measured: bench/README.md, "Threads").
//
//   descent::set_num_threads(1);   // e.g. one training process per core

#include <cstdint>
#include <functional>

namespace descent {

/// Threads for every later product, process-wide (1 ≤ n ≤ 1024); also OpenMP's default for the
/// calling thread (omp_set_num_threads). The default: OpenMP's (OMP_NUM_THREADS, else the cores).
void set_num_threads(int n);
int get_num_threads();

/// The work, m·n·k multiply-adds, from which a product may use more than one thread.
std::int64_t parallel_threshold();
/// Sets it (≥ 0; 0 lets every product use every thread), for tuning on other machines.
void set_parallel_threshold(std::int64_t work);

/// Runs f(item, slot) for every item in [0, count) on at most `threads` threads: the caller and
/// descent's pool of workers. Items are taken in order by whichever thread is free, so a worker
/// the system has not scheduled delays nothing but the item it holds; `slot` (0 ≤ slot <
/// threads) tells the running threads apart (for scratch memory). Idle workers sleep (after a
/// few microseconds of polling), so a second thread never burns a core another process needs.
/// Called from inside an item, or while another thread's call holds the pool, it runs the items
/// on the calling thread. f must not throw past the call (an exception is rethrown after all
/// items ran).
void parallel_for(std::int64_t count, int threads,
                  const std::function<void(std::int64_t item, int slot)>& f);

/// The items of a kernel that touches `elements` elements in all, as parallel_for: on every
/// thread from 2¹⁶ elements on, else on the caller (a second thread gains nothing below that).
void parallel_for_elements(std::int64_t count, std::int64_t elements,
                           const std::function<void(std::int64_t item)>& f);

}  // namespace descent
