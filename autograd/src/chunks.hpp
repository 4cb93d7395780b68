#pragma once
// Elementwise work over a large tensor, cut into fixed chunks shared by descent's pool.

#include <algorithm>
#include <cstdint>

#include "descent/threads.hpp"

namespace descent::kernel {

/// Elements per chunk: a multiple of every packet width and of 64 bytes, so a chunk starts
/// aligned and each element gets the same arithmetic whichever thread runs it; 128 KiB of
/// floats, enough that a chunk's work dwarfs handing it out.
inline constexpr std::int64_t kChunkElements = std::int64_t{1} << 15;

/// body(first, count) over the chunks of [0, n): on the calling thread alone when n fits in
/// one chunk (no pool call for a small tensor), else on descent's pool.
template <class Body>
void for_each_chunk(std::int64_t n, Body&& body) {
    if (n <= kChunkElements) {
        body(std::int64_t{0}, n);
        return;
    }
    parallel_for_elements((n + kChunkElements - 1) / kChunkElements, n, [&](std::int64_t c) {
        const std::int64_t first = c * kChunkElements;
        body(first, std::min(kChunkElements, n - first));
    });
}

}  // namespace descent::kernel
