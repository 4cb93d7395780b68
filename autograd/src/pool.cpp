#include "pool.hpp"

#include <algorithm>

namespace descent::pool {
namespace detail {

constinit thread_local FreeLists lists{};

namespace {

constexpr std::align_val_t kAlignment{64};

std::size_t class_of(std::size_t bytes) {
    if (bytes <= kSmallBytes) return bytes == 0 ? 0 : (bytes - 1) / 64;
    std::size_t c = kSmallClasses, size = 2048;
    while (size < bytes) {
        size *= 2;
        ++c;
    }
    return c;
}

std::size_t class_bytes(std::size_t c) {
    return c < kSmallClasses ? (c + 1) * 64 : std::size_t{2048} << (c - kSmallClasses);
}

std::size_t max_blocks(std::size_t c) {
    return std::min(kMaxBlocks, kMaxListBytes / class_bytes(c));
}

thread_local bool lists_ended = false;

/// Frees the blocks left on the thread's lists when the thread ends; blocks freed later in it
/// (at exit) go to operator delete.
struct CleanUp {
    ~CleanUp() {
        for (std::size_t c = 0; c < kClasses; ++c) {
            while (void* block = lists.head[c]) {
                lists.head[c] = *static_cast<void**>(block);
                ::operator delete(block, kAlignment);
            }
            lists.count[c] = 0;
        }
        lists.live = false;
        lists_ended = true;
    }
};

/// True when the thread's lists may take blocks (registering their clean-up on first use).
bool lists_usable() {
    if (!lists.live && !lists_ended) {
        thread_local CleanUp clean_up;
        lists.live = true;
    }
    return lists.live;
}

}  // namespace

void* allocate_slow(std::size_t bytes) {
    if (!kRecycling || bytes > kMaxBytes) return ::operator new(bytes == 0 ? 1 : bytes, kAlignment);
    const std::size_t c = class_of(bytes);
    if (void* block = lists.head[c]) {  // a large class (the small ones are taken inline)
        lists.head[c] = *static_cast<void**>(block);
        --lists.count[c];
        return block;
    }
    return ::operator new(class_bytes(c), kAlignment);
}

void deallocate_slow(void* block, std::size_t bytes) noexcept {
    if (!block) return;
    if (kRecycling && bytes <= kMaxBytes && lists_usable()) {
        const std::size_t c = class_of(bytes);
        if (lists.count[c] < max_blocks(c)) {
            *static_cast<void**>(block) = lists.head[c];
            lists.head[c] = block;
            ++lists.count[c];
            return;
        }
    }
    ::operator delete(block, kAlignment);
}

}  // namespace detail
}  // namespace descent::pool
