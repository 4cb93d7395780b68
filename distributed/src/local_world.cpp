#include "descent/distributed/local_world.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

namespace descent::distributed {
namespace {

/// What rank r posts for a collective: its buffer and, per destination, its byte counts.
struct Post {
    const std::byte* data = nullptr;
    std::size_t bytes = 0;
    std::span<const std::size_t> counts;
};

/// The state the ranks of one run_local share. Every collective is post → barrier → copy from
/// the others' posts → barrier, so a buffer stays alive and unchanged while others read it.
struct World {
    explicit World(int n)
        : ranks(n), posts(static_cast<std::size_t>(n)), ended(static_cast<std::size_t>(n)) {}
    const int ranks;
    std::mutex mutex;
    std::condition_variable changed;
    int arrived = 0;
    std::uint64_t generation = 0;
    std::optional<std::string> failure;   // "rank r: what" of the first rank that failed
    std::optional<std::string> mismatch;  // sizes that did not match in a collective
    std::vector<Post> posts;
    std::vector<bool> ended;  // a rank whose body has returned takes part in nothing more

    void fail(std::string message) {
        const std::lock_guard lock(mutex);
        if (!failure) failure = std::move(message);
        changed.notify_all();
    }
    /// Ranks that passed a collective different sizes (MPI would abort): noted during the copy,
    /// raised on every rank after the collective's last barrier.
    void note_mismatch(std::string message) {
        const std::lock_guard lock(mutex);
        if (!mismatch) mismatch = std::move(message);
    }
    void raise_mismatch() {
        const std::lock_guard lock(mutex);
        if (!mismatch) return;
        if (!failure) failure = *mismatch;  // the world ends: every later collective throws
        throw DistError(*mismatch);
    }
    void end(int rank) {
        const std::lock_guard lock(mutex);
        ended[static_cast<std::size_t>(rank)] = true;
        changed.notify_all();
    }
    /// Returns when every rank has arrived; throws if a rank failed or ended meanwhile.
    void barrier(int me) {
        std::unique_lock lock(mutex);
        const std::uint64_t my_generation = generation;
        const auto check = [&] {
            if (failure) throw DistError(*failure);
            for (int r = 0; r < ranks; ++r)
                if (ended[static_cast<std::size_t>(r)]) {
                    throw DistError(fmt::format(
                        "rank {} returned while rank {} waits for it in a collective", r, me));
                }
        };
        check();
        if (++arrived == ranks) {
            arrived = 0;
            ++generation;
            changed.notify_all();
            return;
        }
        changed.wait(lock, [&] {
            return generation != my_generation || failure ||
                   std::find(ended.begin(), ended.end(), true) != ended.end();
        });
        if (generation == my_generation) check();
    }
};

std::size_t offset_of(std::span<const std::size_t> counts, int upto) {
    std::size_t at = 0;
    for (int r = 0; r < upto; ++r) at += counts[static_cast<std::size_t>(r)];
    return at;
}

class LocalRank final : public Communicator {
  public:
    LocalRank(World& world, int rank) : world_(world), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return world_.ranks; }
    std::string kind() const override { return "local"; }
    void barrier() override { world_.barrier(rank_); }

    [[noreturn]] void abort(const std::string& message) override {
        world_.fail(message);
        throw DistError(message);
    }

  protected:
    void broadcast_impl(std::span<std::byte> bytes, int root) override {
        post(bytes.data(), bytes.size(), {});
        const Post& from = world_.posts[static_cast<std::size_t>(root)];
        if (from.bytes != bytes.size()) {
            world_.note_mismatch(
                fmt::format("broadcast: rank {} sends {} bytes, rank {} expects {}", root,
                            from.bytes, rank_, bytes.size()));
        } else if (rank_ != root && !bytes.empty()) {
            std::memcpy(bytes.data(), from.data, bytes.size());
        }
        end_collective();
    }

    void allgather_impl(std::span<const std::byte> mine, std::span<std::byte> all,
                        std::span<const std::size_t> counts) override {
        post(mine.data(), mine.size(), counts);
        for (int r = 0; r < size(); ++r) {
            const Post& from = world_.posts[static_cast<std::size_t>(r)];
            const std::size_t n = counts[static_cast<std::size_t>(r)];
            if (from.bytes != n) {
                world_.note_mismatch(
                    fmt::format("allgather: rank {} sends {} bytes, rank {} expects {}", r,
                                from.bytes, rank_, n));
            } else if (n > 0) {
                std::memcpy(all.data() + offset_of(counts, r), from.data, n);
            }
        }
        end_collective();
    }

    void alltoall_impl(std::span<const std::byte> send, std::span<const std::size_t> send_counts,
                       std::span<std::byte> recv,
                       std::span<const std::size_t> recv_counts) override {
        post(send.data(), send.size(), send_counts);
        for (int s = 0; s < size(); ++s) {
            const Post& from = world_.posts[static_cast<std::size_t>(s)];
            const std::size_t n = from.counts[static_cast<std::size_t>(rank_)];
            if (n != recv_counts[static_cast<std::size_t>(s)]) {
                world_.note_mismatch(
                    fmt::format("alltoall: rank {} sends {} bytes to rank {}, which expects {}", s,
                                n, rank_, recv_counts[static_cast<std::size_t>(s)]));
            } else if (n > 0) {
                std::memcpy(recv.data() + offset_of(recv_counts, s),
                            from.data + offset_of(from.counts, rank_), n);
            }
        }
        end_collective();
    }

  private:
    /// Posts this rank's buffer and waits until every rank has posted its own.
    void post(const std::byte* data, std::size_t bytes, std::span<const std::size_t> counts) {
        world_.posts[static_cast<std::size_t>(rank_)] = {data, bytes, counts};
        barrier();
    }
    /// The last barrier of a collective: once every rank has copied what it needs (so no
    /// buffer is read after its rank moves on), a size mismatch any rank noted ends them all.
    void end_collective() {
        barrier();
        world_.raise_mismatch();
    }
    World& world_;
    const int rank_;
};

}  // namespace

void run_local(int ranks, const std::function<void(Communicator&)>& body) {
    if (ranks < 1 || ranks > 256) {
        throw DistError(fmt::format("run_local: ranks must be in [1, 256], got {}", ranks));
    }
    World world(ranks);
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(ranks));
    const auto run_rank = [&](int r) {
        try {
            LocalRank communicator(world, r);
            body(communicator);
        } catch (const std::exception& e) {
            world.fail(fmt::format("rank {}: {}", r, e.what()));
        } catch (...) {
            world.fail(fmt::format("rank {}: an exception that is not a std::exception", r));
        }
        world.end(r);
    };
    try {
        for (int r = 0; r < ranks; ++r) threads.emplace_back(run_rank, r);
    } catch (const std::system_error& e) {  // a thread could not start: end the others
        world.fail(fmt::format("run_local: cannot start rank {}: {}", threads.size(), e.what()));
    }
    for (std::thread& t : threads) t.join();
    if (world.failure) throw DistError(*world.failure);
}

}  // namespace descent::distributed
