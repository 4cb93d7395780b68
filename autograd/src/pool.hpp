#pragma once
// Small blocks recycled per thread: the nodes, tensor records and small storages a training
// step allocates and frees by the hundred, every step the same sizes. A freed block goes onto
// the freeing thread's list for its size class and the next request of that class takes it,
// so a warm loop no longer calls the allocator. Blocks are 64-byte aligned (Eigen maps storage
// data as Aligned64). Under AddressSanitizer every block goes to operator new and delete, so
// each use after free is still caught.

#include <cstddef>
#include <new>

namespace descent::pool {

/// The largest block served from the lists; larger requests go to operator new.
inline constexpr std::size_t kMaxBytes = std::size_t{32} << 10;

/// A 64-byte aligned block of at least `bytes` (≥ 1) bytes.
void* allocate(std::size_t bytes);
/// Returns a block from allocate(bytes), with the same `bytes`.
void deallocate(void* block, std::size_t bytes) noexcept;

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
