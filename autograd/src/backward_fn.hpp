#pragma once
// An op's backward formula as its node keeps it: gradients of the inputs from the gradient of
// the output. Like a move-only std::function, but a formula whose captures fit in 48 bytes
// (every built-in one) lives inside it, and one that captures only plain values is moved as
// bytes and needs no destructor call: a step records and drops hundreds of them.

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "descent/tensor.hpp"
#include "inline_vector.hpp"

namespace descent {

class BackwardContext;

/// One gradient per input of an op (undefined where not needed).
using Grads = InlineVector<Tensor, 3>;

class BackwardFn {
  public:
    BackwardFn() = default;
    template <class F>
    requires(!std::is_same_v<std::decay_t<F>, BackwardFn> &&
             std::is_invocable_r_v<Grads, const std::decay_t<F>&, const BackwardContext&,
                                   const Tensor&>) BackwardFn(F&& f) {  // NOLINT: implicit
        using D = std::decay_t<F>;
        if constexpr (kFitsInside<D>) {
            ::new (static_cast<void*>(bytes_)) D(std::forward<F>(f));
            ops_ = &kInside<D>;
        } else {
            ::new (static_cast<void*>(bytes_)) D*(new D(std::forward<F>(f)));
            ops_ = &kOutside<D>;
        }
    }
    BackwardFn(BackwardFn&& other) noexcept { take(other); }
    BackwardFn& operator=(BackwardFn&& other) noexcept {
        if (this != &other) {
            reset();
            take(other);
        }
        return *this;
    }
    BackwardFn(const BackwardFn&) = delete;
    BackwardFn& operator=(const BackwardFn&) = delete;
    ~BackwardFn() { reset(); }

    explicit operator bool() const { return ops_ != nullptr; }
    Grads operator()(const BackwardContext& c, const Tensor& g) const {
        return ops_->invoke(bytes_, c, g);
    }

  private:
    static constexpr std::size_t kBytes = 48;
    /// What the stored callable needs done; move and destroy are null for plain bytes.
    struct Ops {
        Grads (*invoke)(const void*, const BackwardContext&, const Tensor&);
        void (*move)(void* from, void* to) noexcept;
        void (*destroy)(void*) noexcept;
    };
    template <class D>
    static constexpr bool kFitsInside =
        sizeof(D) <= kBytes &&
        alignof(D) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<D>;
    template <class D>
    static constexpr bool kPlain =
        std::is_trivially_copyable_v<D>&& std::is_trivially_destructible_v<D>;

    template <class D>
    static constexpr Ops kInside = {
        [](const void* p, const BackwardContext& c, const Tensor& g) -> Grads {
            return (*static_cast<const D*>(p))(c, g);
        },
        kPlain<D> ? nullptr
                  : +[](void* from, void* to) noexcept {
                        ::new (to) D(std::move(*static_cast<D*>(from)));
                        static_cast<D*>(from)->~D();
                    },
        kPlain<D> ? nullptr : +[](void* p) noexcept { static_cast<D*>(p)->~D(); }};
    template <class D>
    static constexpr Ops kOutside = {
        [](const void* p, const BackwardContext& c, const Tensor& g) -> Grads {
            return (**static_cast<D* const*>(p))(c, g);
        },
        nullptr,  // the pointer moves as bytes
        [](void* p) noexcept { delete *static_cast<D**>(p); }};

    void take(BackwardFn& other) noexcept {
        ops_ = std::exchange(other.ops_, nullptr);
        if (!ops_) return;
        if (ops_->move) {
            ops_->move(other.bytes_, bytes_);
        } else {
            std::memcpy(bytes_, other.bytes_, kBytes);
        }
    }
    void reset() noexcept {
        if (ops_ && ops_->destroy) ops_->destroy(bytes_);
        ops_ = nullptr;
    }

    alignas(std::max_align_t) unsigned char bytes_[kBytes];
    const Ops* ops_ = nullptr;
};

}  // namespace descent
