#pragma once
// A group of ranks training one model together, and the few collectives data-parallel training
// needs. Before each collective the ranks state which one they are in — its kind, element type,
// count and root — and every rank throws a DistError naming the ranks if they differ, so that
// float32[4] summed on one rank with float64[2] on another, or a rank in sum beside a rank in
// allgather, is an error and not garbage. A rank whose MpiWorld ends while the others are in
// a collective (it ran out of batches first) ends them all with an error naming the ranks. Two
// kinds: MpiWorld (one rank per process, Open MPI underneath) and LocalWorld (R ranks as R threads
// of one process, for tests and for checking a distributed program on one machine). Every sum over
// ranks is formed in rank order by default, so that results do not depend on the engine, the world
// kind or the run:  Σ_r x_r = ((x_0 + x_1) + x_2) + ...

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "descent/error.hpp"
#include "descent/lifetime.hpp"
#include "descent/tensor.hpp"

namespace descent::distributed {

/// A collective that cannot complete: another rank failed (the message names it), the ranks
/// disagree (model shapes, parameter values), or the communicator is gone.
class DistError : public Error {
  public:
    using Error::Error;
};

/// How a sum over ranks is formed.
enum class ReduceOrder {
    /// Reproducible (the default): rank r gathers the r-th slice of every rank's buffer, adds
    /// the slices in rank order and shares its slice with all (a reduce-scatter and an
    /// allgather: 2(R−1)/R of the buffer sent per rank, as a ring allreduce).
    rank_order,
    /// MPI_Allreduce with MPI_SUM: the engine picks the order, which for R > 2 may differ
    /// between runs. In a LocalWorld the same as rank_order.
    engine,
};

class Communicator {
  public:
    virtual ~Communicator() = default;
    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;

    virtual int rank() const = 0;
    virtual int size() const = 0;
    virtual std::string kind() const = 0;  ///< "mpi" or "local"
    /// Returns once every rank has called it.
    virtual void barrier() = 0;
    /// `bytes` of rank `root` copied to every rank (same length everywhere).
    void broadcast_bytes(std::span<std::byte> bytes, int root);
    /// Every rank's `mine` concatenated in rank order into `all`; counts[r] bytes from rank r
    /// (counts known to every rank, counts[rank()] == mine.size(), all.size() == Σ counts).
    void allgather_bytes(std::span<const std::byte> mine, std::span<std::byte> all,
                         std::span<const std::size_t> counts);
    /// Rank r sends send_counts[s] bytes of `send` (in rank order) to each rank s and receives
    /// recv_counts[s] bytes from each s, stored in rank order in `recv`.
    void alltoall_bytes(std::span<const std::byte> send, std::span<const std::size_t> send_counts,
                        std::span<std::byte> recv, std::span<const std::size_t> recv_counts);
    /// Ends every rank with `message` (which names this rank): MPI_Abort in an MpiWorld; in a
    /// LocalWorld the other ranks' next collective throws DistError with it.
    [[noreturn]] virtual void abort(const std::string& message) = 0;

    /// Element-wise sum over ranks, in place, every rank with the same length.
    void allreduce_sum(std::span<float> data, ReduceOrder order = ReduceOrder::rank_order);
    void allreduce_sum(std::span<double> data, ReduceOrder order = ReduceOrder::rank_order);
    /// A float32/float64 tensor summed over ranks in place (same shape and dtype everywhere).
    void allreduce_sum(Tensor& tensor, ReduceOrder order = ReduceOrder::rank_order);
    /// One number summed over ranks in rank order (a loss, a count).
    double sum(double value);
    /// Every rank's value, in rank order.
    std::vector<std::uint64_t> allgather(std::uint64_t value);
    /// Every rank's string, in rank order.
    std::vector<std::string> allgather(const std::string& value);
    /// Rank root's values of `tensor` (contiguous, same shape and dtype everywhere) on every
    /// rank, in place.
    void broadcast(Tensor& tensor, int root = 0);

    /// Ends when this communicator is destroyed (what holders check before using it).
    const Lifetime& lifetime() const { return lifetime_; }

  protected:
    Communicator() = default;
    /// Said by a world that ends (MpiWorld's destructor): the ranks still in a collective fail,
    /// naming this rank and how many collectives it took part in, and end every rank.
    void finish() noexcept;
    /// The collectives, after the public functions have checked this rank's arguments.
    virtual void broadcast_impl(std::span<std::byte> bytes, int root) = 0;
    virtual void allgather_impl(std::span<const std::byte> mine, std::span<std::byte> all,
                                std::span<const std::size_t> counts) = 0;
    virtual void alltoall_impl(std::span<const std::byte> send,
                               std::span<const std::size_t> send_counts, std::span<std::byte> recv,
                               std::span<const std::size_t> recv_counts) = 0;
    /// The engine's own sum (ReduceOrder::engine); the default forms it in rank order.
    virtual void engine_sum(std::span<float> data);
    virtual void engine_sum(std::span<double> data);

  private:
    struct Call;  // what one collective is, as every rank must state it alike (call.hpp)
    /// Every rank states `call`; a DistError on every rank if they differ (agreement.cpp).
    void agree(const Call& call);
    /// alltoall_bytes' counts: every rank's sends must match what each receiver expects.
    void agree_counts(std::span<const std::size_t> send_counts,
                      std::span<const std::size_t> recv_counts);
    /// The broadcast itself, in pieces MPI's int counts can hold.
    void broadcast_pieces(std::span<std::byte> bytes, int root);
    template <class T>
    void rank_order_sum(std::span<T> data);
    template <class T>
    std::vector<T>& scratch() {
        if constexpr (std::is_same_v<T, float>)
            return scratch_float_;
        else
            return scratch_double_;
    }
    std::vector<float> scratch_float_;  // what the ranks send in a sum, kept between sums
    std::vector<double> scratch_double_;
    std::uint64_t calls_ = 0;  // collectives this rank has taken part in
    Lifetime lifetime_;
};

/// A reference to a communicator that notices when it is gone: using it afterwards is a
/// DistError naming the holder instead of a use-after-free.
using CommunicatorRef = Watched<Communicator, DistError>;

/// Runs `body`; if it throws on this rank, every rank ends (world.abort) with a message naming
/// this rank and the error, instead of the others waiting forever in their next collective.
int run_or_abort(Communicator& world, const std::function<int()>& body);

}  // namespace descent::distributed
