#pragma once
// What one collective call is, as every rank states it before the collective runs
// (agreement.cpp): the ranks must agree on all but the call's number.

#include <cstdint>
#include <string>

#include "descent/distributed/communicator.hpp"

namespace descent::distributed {

struct Communicator::Call {
    enum Kind : std::uint32_t { broadcast, allgather, alltoall, sum, finish };
    enum Element : std::uint32_t { bytes, float32, float64, int64, boolean };

    Kind kind;
    Element element = bytes;
    std::uint64_t count = 0;   ///< elements (bytes for bytes)
    std::int64_t root = -1;    ///< broadcast's root, else −1
    std::uint64_t layout = 0;  ///< a hash of allgather's per-rank counts, else 0
    std::uint64_t number = 0;  ///< how many collectives this rank took part in before

    bool agrees_with(const Call& other) const {
        return kind == other.kind && element == other.element && count == other.count &&
               root == other.root && layout == other.layout;
    }
    /// "allreduce_sum of float32[4]", "broadcast of 12 bytes from rank 1", ...
    std::string describe() const;
    static Element element_of(Dtype dtype);
};

}  // namespace descent::distributed
