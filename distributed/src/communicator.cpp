#include "descent/distributed/communicator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "call.hpp"

namespace descent::distributed {

namespace {

// Sums run over pieces of at most 2^27 elements, so that every byte count (≤ 2^30) fits the
// int that MPI takes.
constexpr std::size_t kPiece = std::size_t{1} << 27;

/// Slice r of n elements split over `ranks`: n / ranks each, one more for the first n % ranks.
struct Slice {
    std::size_t begin, length;
};
Slice slice_of(std::size_t n, int ranks, int r) {
    const auto R = static_cast<std::size_t>(ranks), q = n / R, extra = n % R;
    const auto k = static_cast<std::size_t>(r);
    return {k * q + std::min(k, extra), q + (k < extra ? 1 : 0)};
}

std::size_t total_of(std::span<const std::size_t> counts) {
    std::size_t total = 0;
    for (const std::size_t c : counts) total += c;
    return total;
}

/// FNV-1a of the counts: the ranks of an allgather must pass the same ones.
std::uint64_t hash_of(std::span<const std::size_t> counts) {
    std::uint64_t h = 14695981039346656037ULL;
    for (const std::size_t c : counts) {
        for (int byte = 0; byte < 8; ++byte) {
            h ^= (static_cast<std::uint64_t>(c) >> (8 * byte)) & 0xff;
            h *= 1099511628211ULL;
        }
    }
    return h;
}

void check_root(int root, int size) {
    if (root < 0 || root >= size) {
        throw DistError(
            fmt::format("broadcast: root {} is not a rank of this world of {}", root, size));
    }
}

}  // namespace

void Communicator::broadcast_bytes(std::span<std::byte> bytes, int root) {
    check_root(root, size());
    agree({.kind = Call::broadcast, .count = bytes.size(), .root = root});
    broadcast_pieces(bytes, root);
}

void Communicator::broadcast_pieces(std::span<std::byte> bytes, int root) {
    // in pieces of at most 2^30 bytes: MPI counts are ints, and a model may be larger
    constexpr std::size_t piece = std::size_t{1} << 30;
    std::size_t at = 0;
    do {  // once for an empty buffer too: every rank takes part
        broadcast_impl(bytes.subspan(at, std::min(piece, bytes.size() - at)), root);
        at += piece;
    } while (at < bytes.size());
}

void Communicator::allgather_bytes(std::span<const std::byte> mine, std::span<std::byte> all,
                                   std::span<const std::size_t> counts) {
    if (counts.size() != static_cast<std::size_t>(size()) ||
        counts[static_cast<std::size_t>(rank())] != mine.size() || total_of(counts) != all.size()) {
        throw DistError(fmt::format(
            "allgather: rank {} of {} gives {} counts, {} bytes of its own and room for {}; "
            "expected one count per rank, its own count equal to its bytes, and room for their sum",
            rank(), size(), counts.size(), mine.size(), all.size()));
    }
    agree({.kind = Call::allgather, .count = all.size(), .layout = hash_of(counts)});
    allgather_impl(mine, all, counts);
}

void Communicator::alltoall_bytes(std::span<const std::byte> send,
                                  std::span<const std::size_t> send_counts,
                                  std::span<std::byte> recv,
                                  std::span<const std::size_t> recv_counts) {
    const auto ranks = static_cast<std::size_t>(size());
    if (send_counts.size() != ranks || recv_counts.size() != ranks ||
        total_of(send_counts) != send.size() || total_of(recv_counts) != recv.size()) {
        throw DistError(fmt::format(
            "alltoall: rank {} of {} gives {} send counts for {} bytes and {} receive counts for "
            "room of {}; expected one count per rank, each list summing to its buffer",
            rank(), size(), send_counts.size(), send.size(), recv_counts.size(), recv.size()));
    }
    agree({.kind = Call::alltoall});
    agree_counts(send_counts, recv_counts);
    alltoall_impl(send, send_counts, recv, recv_counts);
}

template <class T>
void Communicator::rank_order_sum(std::span<T> data) {
    const int ranks = size(), me = rank();
    if (ranks == 1) return;
    const auto R = static_cast<std::size_t>(ranks);
    std::vector<std::size_t> recv_counts(R), slice_counts(R);
    // kept between calls: a buffer freshly mapped every step costs its page faults every step
    std::vector<T>& received = scratch<T>();
    for (std::size_t start = 0; start < data.size(); start += kPiece) {
        const std::span<T> piece = data.subspan(start, std::min(kPiece, data.size() - start));
        for (int s = 0; s < ranks; ++s)
            slice_counts[static_cast<std::size_t>(s)] =
                slice_of(piece.size(), ranks, s).length * sizeof(T);
        const std::size_t length = slice_of(piece.size(), ranks, me).length;
        std::fill(recv_counts.begin(), recv_counts.end(), length * sizeof(T));
        // reduce-scatter: slice s of every rank's piece goes to rank s ...
        if (received.size() < R * length) received.resize(R * length);
        const std::span<T> from_ranks(received.data(), R * length);
        alltoall_impl(std::as_bytes(piece), slice_counts, std::as_writable_bytes(from_ranks),
                      recv_counts);
        // ... which adds them in rank order: ((x_0 + x_1) + x_2) + ..., into x_0's place
        for (std::size_t s = 1; s < R; ++s)
            for (std::size_t i = 0; i < length; ++i) from_ranks[i] += from_ranks[s * length + i];
        // allgather: every rank's summed slice, in rank order, is the summed piece
        allgather_impl(std::as_bytes(from_ranks.first(length)), std::as_writable_bytes(piece),
                       slice_counts);
    }
}

void Communicator::engine_sum(std::span<float> data) {
    rank_order_sum(data);
}
void Communicator::engine_sum(std::span<double> data) {
    rank_order_sum(data);
}

void Communicator::allreduce_sum(std::span<float> data, ReduceOrder order) {
    agree({.kind = Call::sum, .element = Call::float32, .count = data.size()});
    order == ReduceOrder::rank_order ? rank_order_sum(data) : engine_sum(data);
}
void Communicator::allreduce_sum(std::span<double> data, ReduceOrder order) {
    agree({.kind = Call::sum, .element = Call::float64, .count = data.size()});
    order == ReduceOrder::rank_order ? rank_order_sum(data) : engine_sum(data);
}

void Communicator::allreduce_sum(Tensor& tensor, ReduceOrder order) {
    if (!tensor.defined()) throw Error("allreduce_sum: the tensor is undefined");
    const auto n = static_cast<std::size_t>(tensor.numel());
    switch (tensor.dtype()) {
        case Dtype::float32:
            allreduce_sum(std::span(tensor.mutable_data<float>(), n), order);
            return;
        case Dtype::float64:
            allreduce_sum(std::span(tensor.mutable_data<double>(), n), order);
            return;
        default:
            throw DtypeError(
                fmt::format("allreduce_sum: expected a float32 or float64 tensor, got {}",
                            dtype_name(tensor.dtype())));
    }
}

double Communicator::sum(double value) {
    allreduce_sum(std::span(&value, 1));
    return value;
}

std::vector<std::uint64_t> Communicator::allgather(std::uint64_t value) {
    std::vector<std::uint64_t> all(static_cast<std::size_t>(size()));
    const std::vector<std::size_t> counts(all.size(), sizeof value);
    allgather_bytes(std::as_bytes(std::span(&value, 1)), std::as_writable_bytes(std::span(all)),
                    counts);
    return all;
}

std::vector<std::string> Communicator::allgather(const std::string& value) {
    const std::vector<std::uint64_t> lengths = allgather(value.size());
    std::vector<std::size_t> counts(lengths.begin(), lengths.end());
    std::size_t total = 0;
    for (const std::size_t c : counts) total += c;
    std::string all(total, '\0');
    allgather_bytes(std::as_bytes(std::span(value)), std::as_writable_bytes(std::span(all)),
                    counts);
    std::vector<std::string> out;
    std::size_t at = 0;
    for (const std::size_t c : counts) {
        out.push_back(all.substr(at, c));
        at += c;
    }
    return out;
}

void Communicator::broadcast(Tensor& tensor, int root) {
    if (!tensor.defined()) throw Error("broadcast: the tensor is undefined");
    check_root(root, size());
    const auto n = static_cast<std::size_t>(tensor.numel());
    agree({.kind = Call::broadcast,
           .element = Call::element_of(tensor.dtype()),
           .count = n,
           .root = root});
    broadcast_pieces(std::span(static_cast<std::byte*>(tensor.raw_mutable_data()),
                               n * dtype_size(tensor.dtype())),
                     root);
}

int run_or_abort(Communicator& world, const std::function<int()>& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        world.abort(fmt::format("rank {} of {}: {}", world.rank(), world.size(), e.what()));
    }
    __builtin_unreachable();  // abort() does not return (GCC does not see it through virtual calls)
}

}  // namespace descent::distributed
