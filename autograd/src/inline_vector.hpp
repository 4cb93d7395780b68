#pragma once
// A vector whose first N elements live inside it: a node's edges and saved tensors, and the
// gradients a formula returns, are one to three, so most of them need no block at all. Longer
// ones move to a block from the per-thread pools (pool.hpp).

#include <cstddef>
#include <iterator>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "pool.hpp"

namespace descent {

template <class T, std::size_t N>
class InlineVector {
  public:
    using value_type = T;
    using iterator = T*;
    using const_iterator = const T*;

    InlineVector() = default;
    /// n value-initialised elements.
    explicit InlineVector(std::size_t n) { resize(n); }
    /// The items, each moved or copied once: `return {g, g * y};` (an initializer list would
    /// copy every item twice, and a copy of a tensor handle is an atomic increment).
    template <class... Items>
    requires(sizeof...(Items) > 1 ||
             (sizeof...(Items) == 1 && (!std::is_integral_v<std::remove_cvref_t<Items>> && ...) &&
              (!std::is_same_v<std::remove_cvref_t<Items>, InlineVector> && ...))) &&
        (std::is_constructible_v<T, Items&&> && ...) InlineVector(Items&&... items) {
        reserve(sizeof...(Items));
        (emplace_back(std::forward<Items>(items)), ...);
    }
    template <std::input_iterator It>
    InlineVector(It first, It last) {
        if constexpr (std::forward_iterator<It>) reserve(std::distance(first, last));
        for (; first != last; ++first) emplace_back(*first);
    }
    InlineVector(const InlineVector& other) : InlineVector(other.begin(), other.end()) {}
    InlineVector(InlineVector&& other) noexcept { take(other); }
    InlineVector& operator=(const InlineVector& other) {
        if (this != &other) *this = InlineVector(other);
        return *this;
    }
    InlineVector& operator=(InlineVector&& other) noexcept {
        if (this != &other) {
            release();
            take(other);
        }
        return *this;
    }
    ~InlineVector() { release(); }

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T* data() { return data_; }
    const T* data() const { return data_; }
    T* begin() { return data_; }
    T* end() { return data_ + size_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }
    T& back() { return data_[size_ - 1]; }

    /// Room for n elements; elements move only when n exceeds the room there is.
    void reserve(std::size_t n) {
        if (n <= capacity_) return;
        T* block = pool::Allocator<T>{}.allocate(n);
        std::uninitialized_move(begin(), end(), block);
        std::destroy(begin(), end());
        free_block();
        data_ = block;
        capacity_ = n;
    }
    template <class... Args>
    T& emplace_back(Args&&... args) {
        if (size_ == capacity_) reserve(2 * capacity_);
        T* slot = ::new (static_cast<void*>(data_ + size_)) T(std::forward<Args>(args)...);
        ++size_;
        return *slot;
    }
    void push_back(const T& item) { emplace_back(item); }
    void push_back(T&& item) { emplace_back(std::move(item)); }
    void resize(std::size_t n) {
        reserve(n);
        while (size_ < n) emplace_back();
        while (size_ > n) std::destroy_at(data_ + --size_);
    }
    /// Destroys the elements and keeps the room.
    void clear() {
        std::destroy(begin(), end());
        size_ = 0;
    }

  private:
    T* in_place() { return std::launder(reinterpret_cast<T*>(storage_)); }
    bool spilled() const { return capacity_ > N; }
    void free_block() {
        if (spilled()) pool::Allocator<T>{}.deallocate(data_, capacity_);
    }
    void release() {
        clear();
        free_block();
        data_ = in_place();
        capacity_ = N;
    }
    /// Takes other's elements (its block, or moved one by one from its inside), leaving it
    /// empty; this is empty and in place.
    void take(InlineVector& other) noexcept {
        if (other.spilled()) {
            data_ = other.data_;
            capacity_ = other.capacity_;
            size_ = other.size_;
            other.data_ = other.in_place();
            other.capacity_ = N;
            other.size_ = 0;
            return;
        }
        std::uninitialized_move(other.begin(), other.end(), data_);
        size_ = other.size_;
        other.clear();
    }

    alignas(T) unsigned char storage_[N * sizeof(T)];
    T* data_ = in_place();
    std::size_t size_ = 0;
    std::size_t capacity_ = N;
};

}  // namespace descent
