#pragma once
// References that notice when their object is gone. An object that others keep a reference to
// (an optimizer under a Lookahead or a scheduler, anything handed to a TrainingState, a
// communicator) holds a Lifetime; the holder keeps a Watched reference, and using it after the
// object was destroyed is an Error naming the holder, never a read of freed memory.

#include <concepts>
#include <memory>
#include <string>
#include <utility>

#include "descent/error.hpp"

namespace descent {

/// Ends with the object that holds it. A copy or a move of that object is another object with a
/// lifetime of its own: references to the original keep watching the original.
class Lifetime {
  public:
    Lifetime() = default;
    Lifetime(const Lifetime&) {}
    Lifetime& operator=(const Lifetime&) noexcept { return *this; }
    ~Lifetime() = default;

    /// Expires when this lifetime ends.
    std::weak_ptr<const void> watch() const noexcept { return alive_; }

  private:
    std::shared_ptr<const char> alive_ = std::make_shared<const char>('\0');
};

/// Objects that say when they end: `object.lifetime()` is their Lifetime.
template <class T>
concept HasLifetime = requires(const T& object) {
    { object.lifetime() } -> std::same_as<const Lifetime&>;
};

/// A reference to `object` held by `holder`: get() gives the object while it lives and throws
/// E("<holder>: <what> has been destroyed") after (what: "the optimizer it wraps").
template <HasLifetime T, class E = Error>
class Watched {
  public:
    Watched(T& object, std::string holder, std::string what)
        : object_(&object),
          alive_(object.lifetime().watch()),
          holder_(std::move(holder)),
          what_(std::move(what)) {}

    T& get() const {
        if (alive_.expired()) throw E(holder_ + ": " + what_ + " has been destroyed");
        return *object_;
    }
    bool alive() const noexcept { return !alive_.expired(); }

  private:
    T* object_;
    std::weak_ptr<const void> alive_;
    std::string holder_;
    std::string what_;
};

}  // namespace descent
