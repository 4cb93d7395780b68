#include "tensor_impl.hpp"

#include <fmt/format.h>
#include <sys/sysinfo.h>

#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <unordered_map>

#include "descent/engine.hpp"
#include "node.hpp"
#include "pool.hpp"
#include "spare_shapes.hpp"

namespace descent {
namespace {
std::atomic<std::int64_t> live_tensors{0};
constexpr std::align_val_t kAlignment{64};

// Freed large blocks, kept by exact size for the next tensor of that size. A training step
// allocates the same shapes every time; without this, each large block is a fresh mmap whose
// pages fault in again (measured: 13% of an MLP step in the kernel). Small blocks come from the
// pools, and the cache is bounded. Under AddressSanitizer it is off, so every free is checked.
class BlockCache {
  public:
    static constexpr std::size_t kMinBytes = std::size_t{64} << 10;
    static constexpr std::size_t kMaxCachedBytes = std::size_t{512} << 20;

    void* take(std::size_t bytes) {
        if (!enabled(bytes)) return nullptr;
        std::lock_guard lock(mutex_);
        const auto it = blocks_.find(bytes);
        if (it == blocks_.end()) return nullptr;
        void* block = it->second;
        blocks_.erase(it);
        cached_bytes_ -= bytes;
        return block;
    }

    bool keep(void* block, std::size_t bytes) {
        if (!enabled(bytes)) return false;
        std::lock_guard lock(mutex_);
        if (cached_bytes_ + bytes > kMaxCachedBytes) return false;
        blocks_.emplace(bytes, block);
        cached_bytes_ += bytes;
        return true;
    }

  private:
    static bool enabled(std::size_t bytes) { return pool::kRecycling && bytes >= kMinBytes; }

    std::mutex mutex_;
    std::unordered_multimap<std::size_t, void*> blocks_;
    std::size_t cached_bytes_ = 0;
};

// Never destroyed: storages held by static tensors may be freed after main returns.
BlockCache& block_cache() {
    static auto* cache = new BlockCache;
    return *cache;
}
}  // namespace

// Small blocks come from the per-thread pool, large ones from the block cache.
Storage::Storage(std::size_t bytes) : nbytes(bytes) {
    if (bytes == 0) return;
    if (bytes <= pool::kMaxBytes) {
        data = pool::allocate(bytes);
        return;
    }
    data = block_cache().take(bytes);
    if (!data) data = ::operator new(bytes, kAlignment);
}

Storage::Storage(std::size_t bytes, InPlace) : nbytes(bytes), in_place(true) {
    const auto end = reinterpret_cast<std::uintptr_t>(this + 1);
    data = reinterpret_cast<void*>((end + 63) & ~std::uintptr_t{63});
}

Storage::~Storage() {
    if (!data || in_place) return;
    if (nbytes <= pool::kMaxBytes) {
        pool::deallocate(data, nbytes);
    } else if (!block_cache().keep(data, nbytes)) {
        ::operator delete(data, kAlignment);
    }
}

TensorImpl::TensorImpl(std::shared_ptr<Storage> s, Shape sh, Dtype dt, std::int64_t n)
    : storage(std::move(s)), shape(std::move(sh)), dtype(dt), numel(n) {
    live_tensors.fetch_add(1, std::memory_order_relaxed);
}

TensorImpl::~TensorImpl() {
    spare_shapes::keep(std::move(shape));
    live_tensors.fetch_sub(1, std::memory_order_relaxed);
}

namespace {
/// A pool allocator whose blocks are `extra` bytes longer: room for an in-place storage's data.
template <class T>
struct WithTrailingBytes {
    using value_type = T;
    explicit WithTrailingBytes(std::size_t extra_bytes) : extra(extra_bytes) {}
    template <class U>
    WithTrailingBytes(const WithTrailingBytes<U>& other) noexcept : extra(other.extra) {}
    T* allocate(std::size_t n) { return static_cast<T*>(pool::allocate(n * sizeof(T) + extra)); }
    void deallocate(T* p, std::size_t n) noexcept { pool::deallocate(p, n * sizeof(T) + extra); }
    template <class U>
    bool operator==(const WithTrailingBytes<U>& other) const noexcept {
        return extra == other.extra;
    }
    std::size_t extra;
};

// Data of up to 1 KiB shares the storage's block; not under AddressSanitizer, where the slack
// after the data would hide an overrun.
constexpr std::size_t kInPlaceBytes = pool::kRecycling ? 1024 : 0;
}  // namespace

std::shared_ptr<Storage> make_storage(std::size_t nbytes) {
    if (nbytes == 0 || nbytes > kInPlaceBytes) {
        return std::allocate_shared<Storage>(pool::Allocator<Storage>{}, nbytes);
    }
    // The Storage object lies within the shared_ptr's block, which is 64-byte aligned; its data
    // starts at the next multiple of 64 after it, so 64 extra bytes beyond nbytes always hold it.
    return std::allocate_shared<Storage>(WithTrailingBytes<Storage>(nbytes + 64), nbytes,
                                         Storage::InPlace{});
}

std::uint64_t memory_bytes() {
    static const std::uint64_t bytes = [] {
        struct sysinfo info {};
        if (::sysinfo(&info) != 0) return std::numeric_limits<std::uint64_t>::max();
        return (static_cast<std::uint64_t>(info.totalram) + info.totalswap) * info.mem_unit;
    }();
    return bytes;
}

Tensor empty(Shape&& shape, Dtype dtype, std::string_view op) {
    const auto n = static_cast<std::uint64_t>(checked_numel(shape, op));
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(n, dtype_size(dtype), &bytes) || bytes > memory_bytes()) {
        throw ShapeError(fmt::format(
            "{}: shape {} of {} ({} elements of {} bytes) is larger than the {} bytes of memory "
            "(RAM and swap) of this machine",
            op, shape_str(shape), dtype_name(dtype), n, dtype_size(dtype), memory_bytes()));
    }
    try {
        return Tensor(std::allocate_shared<TensorImpl>(
            pool::Allocator<TensorImpl>{}, make_storage(static_cast<std::size_t>(bytes)),
            std::move(shape), dtype, static_cast<std::int64_t>(n)));
    } catch (const std::bad_alloc&) {
        throw ShapeError(fmt::format("{}: cannot allocate {} bytes for shape {} of {}", op, bytes,
                                     shape_str(shape), dtype_name(dtype)));
    }
}

Tensor empty(const Shape& shape, Dtype dtype, std::string_view op) {
    return empty(spare_shapes::copy(shape), dtype, op);
}

Tensor empty(std::initializer_list<std::int64_t> shape, Dtype dtype, std::string_view op) {
    return empty(spare_shapes::copy(shape.begin(), shape.size()), dtype, op);
}

Tensor empty_as(const Tensor& t) {
    const TensorImpl& like = defined_impl(t);
    const std::size_t bytes = static_cast<std::size_t>(like.numel) * dtype_size(like.dtype);
    return Tensor(
        std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>{}, make_storage(bytes),
                                         spare_shapes::copy(like.shape), like.dtype, like.numel));
}

Tensor copy_of(const Tensor& t) {
    Tensor copy = empty_as(t);
    if (t.numel() > 0)
        std::memcpy(copy.impl()->storage->data, t.raw_data(), copy.impl()->storage->nbytes);
    return copy;
}

Tensor alias(const Tensor& t, const Shape& shape) {
    const std::int64_t n = checked_numel(shape, "alias");
    if (n != t.numel()) {
        throw ShapeError(fmt::format("alias: shape {} does not hold the {} elements of {}",
                                     shape_str(shape), t.numel(), shape_str(t.shape())));
    }
    return Tensor(std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>{}, t.impl()->storage,
                                                   spare_shapes::copy(shape), t.dtype(), n));
}

std::int64_t live_tensor_count() {
    return live_tensors.load();
}

}  // namespace descent
