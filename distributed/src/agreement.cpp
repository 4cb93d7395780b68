// The ranks' agreement on each collective (communicator.hpp): every rank states its call in
// one small allgather, and every rank compares them all, so that all throw together or none.

#include <fmt/format.h>

#include <vector>

#include "call.hpp"

namespace descent::distributed {

Communicator::Call::Element Communicator::Call::element_of(Dtype dtype) {
    switch (dtype) {
        case Dtype::float32:
            return float32;
        case Dtype::float64:
            return float64;
        case Dtype::int64:
            return int64;
        case Dtype::boolean:
            return boolean;
    }
    return bytes;
}

std::string Communicator::Call::describe() const {
    static constexpr std::string_view kinds[] = {"broadcast", "allgather", "alltoall",
                                                 "allreduce_sum", "the end of its world"};
    static constexpr std::string_view elements[] = {"bytes", "float32", "float64", "int64", "bool"};
    if (kind == finish) return std::string(kinds[finish]);
    std::string out = fmt::format("{} of ", kinds[kind]);
    out += element == bytes ? fmt::format("{} bytes", count)
                            : fmt::format("{}[{}]", elements[element], count);
    if (root >= 0) out += fmt::format(" from rank {}", root);
    return out;
}

void Communicator::agree(const Call& call) {
    Call mine = call;
    mine.number = calls_++;
    const auto ranks = static_cast<std::size_t>(size());
    if (ranks == 1) return;
    std::vector<Call> all(ranks);
    const std::vector<std::size_t> counts(ranks, sizeof(Call));
    allgather_impl(std::as_bytes(std::span(&mine, 1)), std::as_writable_bytes(std::span(all)),
                   counts);
    for (std::size_t r = 1; r < ranks; ++r) {
        if (all[r].agrees_with(all[0])) continue;
        const std::size_t done = all[0].kind == Call::finish   ? 0
                                 : all[r].kind == Call::finish ? r
                                                               : ranks;
        if (done < ranks) {  // one rank's world ended while another waits in a collective
            const std::size_t waiting = done == 0 ? r : 0;
            throw DistError(fmt::format(
                "rank {} has ended after {} collectives while rank {} is in {}, its collective "
                "{}: the ranks took different numbers of steps (as many batches on every rank?)",
                done, all[done].number, waiting, all[waiting].describe(), all[waiting].number + 1));
        }
        const bool counts_only = all[0].describe() == all[r].describe();  // allgather's layout
        throw DistError(fmt::format(
            "the ranks disagree on a collective: rank 0 is in {}, rank {} in {}{} (their "
            "collectives {} and {})",
            all[0].describe(), r, all[r].describe(),
            counts_only ? " with other per-rank counts" : "", all[0].number + 1,
            all[r].number + 1));
    }
}

void Communicator::agree_counts(std::span<const std::size_t> send_counts,
                                std::span<const std::size_t> recv_counts) {
    const auto ranks = static_cast<std::size_t>(size());
    if (ranks == 1) return;
    // every rank's sends and receives, so that every rank checks every pair alike
    std::vector<std::uint64_t> mine(send_counts.begin(), send_counts.end());
    mine.insert(mine.end(), recv_counts.begin(), recv_counts.end());
    std::vector<std::uint64_t> all(2 * ranks * ranks);
    const std::vector<std::size_t> counts(ranks, 2 * ranks * sizeof(std::uint64_t));
    allgather_impl(std::as_bytes(std::span(mine)), std::as_writable_bytes(std::span(all)), counts);
    for (std::size_t s = 0; s < ranks; ++s) {
        for (std::size_t r = 0; r < ranks; ++r) {
            const std::uint64_t sent = all[s * 2 * ranks + r];
            const std::uint64_t expected = all[r * 2 * ranks + ranks + s];
            if (sent != expected) {
                throw DistError(
                    fmt::format("alltoall: rank {} sends {} bytes to rank {}, which expects {}", s,
                                sent, r, expected));
            }
        }
    }
}

void Communicator::finish() noexcept {
    try {
        agree(Call{.kind = Call::finish});
    } catch (const std::exception& e) {
        abort(fmt::format("rank {} of {}: {}", rank(), size(), e.what()));
    }
}

}  // namespace descent::distributed
