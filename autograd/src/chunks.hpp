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

/// body(start) for start = 0, block, 2·block, … < n (a block repeated over [0, n), as a bias
/// over the rows of a matrix), whole blocks grouped into chunks of about kChunkElements.
template <class Body>
void for_each_block(std::int64_t n, std::int64_t block, Body&& body) {
    const std::int64_t blocks = n / block,
                       per_chunk = std::max<std::int64_t>(1, kChunkElements / block);
    if (n <= kChunkElements || blocks == 1) {
        for (std::int64_t s = 0; s < n; s += block) body(s);
        return;
    }
    parallel_for_elements((blocks + per_chunk - 1) / per_chunk, n, [&](std::int64_t c) {
        const std::int64_t last = std::min(blocks, (c + 1) * per_chunk);
        for (std::int64_t i = c * per_chunk; i < last; ++i) body(i * block);
    });
}

}  // namespace descent::kernel
