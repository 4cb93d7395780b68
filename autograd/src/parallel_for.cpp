// parallel_for (threads.hpp): one pool of workers for every parallel kernel. A call publishes a
// job; workers that wake take a slot and claim items from a shared counter, and the caller claims
// items too, then waits for the claimed ones to finish. Idle workers poll briefly and then sleep
// on a condition variable: unlike a spinning OpenMP team, they leave the core to other processes
// (on a shared 2-vCPU machine a spinning team made training steps 10–100× slower).

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "descent/threads.hpp"

namespace descent {
namespace {

/// Polls of an atomic before a worker sleeps (or the caller yields): a few microseconds.
constexpr int kPolls = 2000;

struct Job {
    const std::function<void(std::int64_t, int)>* f = nullptr;
    std::int64_t count = 0;
    int threads = 0;
    std::atomic<std::int64_t> next{0};  // the next item to claim
    std::atomic<std::int64_t> done{0};  // items finished
    std::atomic<int> slots{1};          // slot 0 is the caller's
    std::exception_ptr failure;
    std::mutex failure_mutex;

    /// Claims and runs items until none is left.
    void work(int slot) {
        for (std::int64_t item = next.fetch_add(1); item < count; item = next.fetch_add(1)) {
            try {
                (*f)(item, slot);
            } catch (...) {
                const std::lock_guard lock(failure_mutex);
                if (!failure) failure = std::current_exception();
            }
            done.fetch_add(1, std::memory_order_acq_rel);
        }
    }
};

thread_local bool inside_item = false;

class Pool {
  public:
    ~Pool() {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
    }

    /// Runs the job with up to job.threads − 1 workers; false when another call holds the pool.
    bool run(Job& job) {
        std::unique_lock<std::mutex> owner(owner_, std::try_to_lock);
        if (!owner.owns_lock()) return false;
        grow(job.threads - 1);
        {
            const std::lock_guard lock(mutex_);
            job_ = &job;
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        job.work(0);
        // Items a worker claimed may still run: wait for them (yielding, so that a worker the
        // system descheduled gets the core back).
        for (int polls = 0; job.done.load(std::memory_order_acquire) < job.count; ++polls) {
            if (polls >= kPolls) std::this_thread::yield();
        }
        {
            const std::lock_guard lock(mutex_);
            job_ = nullptr;
        }
        // no worker may still be between taking the job and claiming a slot: wait for them
        while (active_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
        return true;
    }

  private:
    void grow(int wanted) {
        while (static_cast<int>(workers_.size()) < wanted) {
            workers_.emplace_back([this] { loop(); });
        }
    }

    void loop() {
        inside_item = true;      // a call from inside an item runs on its thread
        omp_set_num_threads(1);  // and so does a library's OpenMP (OpenBLAS's OpenMP build)
        std::uint64_t seen = generation_.load(std::memory_order_acquire);
        for (;;) {
            for (int polls = 0;
                 polls < kPolls && generation_.load(std::memory_order_acquire) == seen; ++polls) {
            }
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] {
                return stopping_ || generation_.load(std::memory_order_acquire) != seen;
            });
            if (stopping_) return;
            seen = generation_.load(std::memory_order_acquire);
            Job* job = job_;
            if (!job) continue;
            active_.fetch_add(1, std::memory_order_acq_rel);
            lock.unlock();
            const int slot = job->slots.fetch_add(1);
            if (slot < job->threads) job->work(slot);
            active_.fetch_sub(1, std::memory_order_acq_rel);
        }
    }

    std::mutex owner_;  // one call uses the pool at a time
    std::mutex mutex_;
    std::condition_variable wake_;
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<int> active_{0};  // workers inside a job
    Job* job_ = nullptr;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

Pool& pool() {
    static Pool instance;
    return instance;
}

}  // namespace

void parallel_for(std::int64_t count, int threads,
                  const std::function<void(std::int64_t, int)>& f) {
    if (count <= 0) return;
    Job job;
    job.f = &f;
    job.count = count;
    job.threads = static_cast<int>(std::min<std::int64_t>(threads, count));
    const bool outer = inside_item;
    inside_item = true;  // items that call parallel_for run their calls on their own thread
    if (job.threads <= 1 || outer || !pool().run(job)) job.work(0);
    inside_item = outer;
    if (job.failure) std::rethrow_exception(job.failure);
}

void parallel_for_elements(std::int64_t count, std::int64_t elements,
                           const std::function<void(std::int64_t)>& f) {
    constexpr std::int64_t kParallelElements = std::int64_t{1} << 16;
    const int threads = elements >= kParallelElements ? get_num_threads() : 1;
    parallel_for(count, threads, [&](std::int64_t item, int) { f(item); });
}

}  // namespace descent
