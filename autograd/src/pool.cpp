#include "pool.hpp"

#include <algorithm>
#include <array>

namespace descent::pool {
namespace {

constexpr std::align_val_t kAlignment{64};

// Size classes: 64, 128, ..., 1024 bytes (16 classes), then 2, 4, 8, 16, 32 KiB.
constexpr std::size_t kSmallClasses = 16, kClasses = kSmallClasses + 5;
// A list keeps at most 1024 blocks of its class and at most 4 MiB (the rest are freed): at
// most about 27 MiB per thread in all.
constexpr std::size_t kMaxBlocks = 1024, kMaxListBytes = std::size_t{4} << 20;

std::size_t class_of(std::size_t bytes) {
    if (bytes <= 1024) return bytes == 0 ? 0 : (bytes - 1) / 64;
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

/// One thread's free lists: each free block holds the pointer to the next.
struct FreeLists {
    std::array<void*, kClasses> head{};
    std::array<std::size_t, kClasses> count{};
    ~FreeLists();
};

thread_local FreeLists* lists = nullptr;  // null before first use and after the thread's end
thread_local bool lists_ended = false;

FreeLists::~FreeLists() {
    for (std::size_t c = 0; c < kClasses; ++c) {
        while (void* block = head[c]) {
            head[c] = *static_cast<void**>(block);
            ::operator delete(block, kAlignment);
        }
    }
    lists = nullptr;
    lists_ended = true;  // blocks freed later in this thread (at exit) go to operator delete
}

FreeLists* this_thread_lists() {
    if (!lists && !lists_ended) {
        thread_local FreeLists mine;
        lists = &mine;
    }
    return lists;
}

constexpr bool kPooled =
#ifdef __SANITIZE_ADDRESS__
    false;
#else
    true;
#endif

}  // namespace

void* allocate(std::size_t bytes) {
    if (!kPooled || bytes > kMaxBytes) return ::operator new(bytes == 0 ? 1 : bytes, kAlignment);
    const std::size_t c = class_of(bytes);
    if (FreeLists* l = this_thread_lists(); l && l->head[c]) {
        void* block = l->head[c];
        l->head[c] = *static_cast<void**>(block);
        --l->count[c];
        return block;
    }
    return ::operator new(class_bytes(c), kAlignment);
}

void deallocate(void* block, std::size_t bytes) noexcept {
    if (!block) return;
    if (kPooled && bytes <= kMaxBytes) {
        const std::size_t c = class_of(bytes);
        FreeLists* l = this_thread_lists();
        if (l && l->count[c] < max_blocks(c)) {
            *static_cast<void**>(block) = l->head[c];
            l->head[c] = block;
            ++l->count[c];
            return;
        }
    }
    ::operator delete(block, kAlignment);
}

}  // namespace descent::pool
