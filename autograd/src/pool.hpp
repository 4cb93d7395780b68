#pragma once
// Small blocks recycled per thread: the nodes, tensor records and small storages a training
// step allocates and frees by the hundred, every step the same sizes. A freed block goes onto
// the freeing thread's list for its size class and the next request of that class takes it,
// so a warm loop no longer calls the allocator. Blocks are 64-byte aligned (Eigen maps storage
// data as Aligned64). Under AddressSanitizer every block goes to operator new and delete
// (kRecycling).

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>

namespace descent::pool {

/// The largest block served from the lists; larger requests go to operator new.
inline constexpr std::size_t kMaxBytes = std::size_t{32} << 10;

/// False under AddressSanitizer: then nothing freed is kept for reuse — neither these lists,
/// nor spare shapes, cached large blocks or data kept in a storage's own block — so every use
/// after free and every overrun is still caught.
inline constexpr bool kRecycling =
#ifdef __SANITIZE_ADDRESS__
    false;
#else
    true;
#endif

namespace detail {
// Size classes: 64, 128, ..., 1024 bytes (16 classes), then 2, 4, 8, 16, 32 KiB.
inline constexpr std::size_t kSmallClasses = 16, kClasses = kSmallClasses + 5;
inline constexpr std::size_t kSmallBytes = 1024;
// A list keeps at most 1024 blocks of its class and at most 4 MiB (the rest are freed): at
// most about 27 MiB per thread in all.
inline constexpr std::size_t kMaxBlocks = 1024, kMaxListBytes = std::size_t{4} << 20;

/// One thread's free lists: each free block holds the pointer to the next. Constant-initialised
/// and trivially destructible, so reaching it costs no guard. `live` is set once the thread has
/// registered the clean-up that frees the lists' blocks at its end, and cleared by that clean-up.
struct FreeLists {
    std::array<void*, kClasses> head;
    std::array<std::size_t, kClasses> count;
    bool live;
};
extern constinit thread_local FreeLists lists;

void* allocate_slow(std::size_t bytes);
void deallocate_slow(void* block, std::size_t bytes) noexcept;
}  // namespace detail

/// A 64-byte aligned block of at least `bytes` (≥ 1) bytes.
inline void* allocate(std::size_t bytes) {
    using namespace detail;
    if (kRecycling && bytes - 1 < kSmallBytes) {  // 1 ≤ bytes ≤ 1024: a list of its own
        const std::size_t c = (bytes - 1) / 64;
        if (void* block = lists.head[c]) {
            lists.head[c] = *static_cast<void**>(block);
            --lists.count[c];
            return block;
        }
    }
    return allocate_slow(bytes);
}

/// Returns a block from allocate(bytes), with the same `bytes`.
inline void deallocate(void* block, std::size_t bytes) noexcept {
    using namespace detail;
    if (kRecycling && bytes - 1 < kSmallBytes && block) {
        const std::size_t c = (bytes - 1) / 64;
        if (lists.live && lists.count[c] < kMaxBlocks) {
            *static_cast<void**>(block) = lists.head[c];
            lists.head[c] = block;
            ++lists.count[c];
            return;
        }
    }
    deallocate_slow(block, bytes);
}

/// For std::allocate_shared: the object and its control block in one pooled block.
template <class T>
struct Allocator {
    using value_type = T;
    Allocator() = default;
    template <class U>
    Allocator(const Allocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(pool::allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { pool::deallocate(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const Allocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace descent::pool
