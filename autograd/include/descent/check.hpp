#pragma once
// The checks every public function uses on what a user hands it: option values against an
// interval (NaN is never inside one), and conversions to integers that refuse NaN, ±inf and
// values out of range instead of invoking undefined behaviour. Each throws a descent::Error
// whose message names the op and the value.

#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "descent/error.hpp"

namespace descent {

/// An interval of allowed option values: [low, high], with either end open.
struct Interval {
    double low;
    double high;
    bool low_open = false;
    bool high_open = false;

    /// low ≤ v ≤ high (strict where open); false for NaN.
    bool contains(double v) const {
        return (low_open ? v > low : v >= low) && (high_open ? v < high : v <= high);
    }
    /// "[0, 1)", "(0, inf)".
    std::string str() const;
};

inline constexpr double inf = std::numeric_limits<double>::infinity();

/// [low, high]
constexpr Interval closed(double low, double high) {
    return {low, high};
}
/// [low, inf): finite and at least low
constexpr Interval at_least(double low) {
    return {low, inf, false, true};
}
/// (low, inf): finite and above low
constexpr Interval above(double low) {
    return {low, inf, true, true};
}
/// (-inf, inf): any finite value
constexpr Interval finite() {
    return {-inf, inf, true, true};
}

/// value, or an Error "op: name must be in I, got value".
double check_option(double value, Interval allowed, std::string_view op, std::string_view name);
/// An integer option: value, or an Error "op: name must be ≥ low, got value".
std::int64_t check_count(std::int64_t value, std::int64_t low, std::string_view op,
                         std::string_view name);

/// v truncated toward zero as int64, or an Error naming op and what if v is NaN, ±inf or
/// outside [−2⁶³, 2⁶³).
std::int64_t checked_int64(double v, std::string_view op, std::string_view what);

/// v as the integer type I, or an Error if it does not fit.
template <class I>
requires(std::integral<I> && !std::same_as<I, bool>) I
    checked_integer(std::int64_t v, std::string_view op, std::string_view what);

namespace detail {
[[noreturn]] void throw_does_not_fit(std::int64_t v, std::string_view op, std::string_view what);
}

template <class I>
requires(std::integral<I> && !std::same_as<I, bool>) I
    checked_integer(std::int64_t v, std::string_view op, std::string_view what) {
    if (!std::in_range<I>(v)) detail::throw_does_not_fit(v, op, what);
    return static_cast<I>(v);
}

}  // namespace descent
