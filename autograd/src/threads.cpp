// Thread settings of the parallel kernels (threads.hpp). Kernels that call a library built on
// OpenMP set OpenMP's per-thread count to 1 around the call (OneOpenMpThread), so threads that
// run kernels at the same time never race on a setting.

#include "descent/threads.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <atomic>

#include "descent/check.hpp"
#include "threads_internal.hpp"

namespace descent {
namespace {
// 0: not set yet (OpenMP's default applies)
std::atomic<int> configured{0};
// 2²¹ ≈ 2.1e6 multiply-adds (a 128³ product), measured on a 2-core KVM guest (bench/README.md,
// "Threads"): idle, a second thread loses or ties below it and wins 1.25–2.7× from it up; on a
// loaded machine a split small product waits a whole scheduler slice (~12 ms).
std::atomic<std::int64_t> threshold{std::int64_t{1} << 21};
// More threads than this is a mistake, not a setting: OpenMP would try to start them all at the
// next product and abort when the system refuses.
constexpr int max_threads = 1024;
}  // namespace

void set_num_threads(int n) {
    check_option(n, closed(1, max_threads), "set_num_threads", "n");
    configured.store(n);
    omp_set_num_threads(n);
}

int get_num_threads() {
    const int n = configured.load();
    return n > 0 ? n : omp_get_max_threads();
}

std::int64_t parallel_threshold() {
    return threshold.load();
}

void set_parallel_threshold(std::int64_t work) {
    threshold.store(check_count(work, 0, "set_parallel_threshold", "work"));
}

namespace detail {
OneOpenMpThread::OneOpenMpThread() : previous_(omp_get_max_threads()) {
    omp_set_num_threads(1);
}

OneOpenMpThread::~OneOpenMpThread() {
    omp_set_num_threads(previous_);
}
}  // namespace detail

}  // namespace descent
