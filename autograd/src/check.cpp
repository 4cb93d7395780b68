#include "descent/check.hpp"

#include <fmt/format.h>

namespace descent {

std::string Interval::str() const {
    return fmt::format("{}{}, {}{}", low_open ? '(' : '[', low, high, high_open ? ')' : ']');
}

double check_option(double value, Interval allowed, std::string_view op, std::string_view name) {
    if (!allowed.contains(value)) {
        throw Error(fmt::format("{}: {} must be in {}, got {}", op, name, allowed.str(), value));
    }
    return value;
}

std::int64_t check_count(std::int64_t value, std::int64_t low, std::string_view op,
                         std::string_view name) {
    if (value < low) throw Error(fmt::format("{}: {} must be ≥ {}, got {}", op, name, low, value));
    return value;
}

std::int64_t checked_int64(double v, std::string_view op, std::string_view what) {
    // every double in [−2⁶³, 2⁶³) truncates to an int64; NaN fails both comparisons
    if (!(v >= -0x1p63 && v < 0x1p63)) {
        throw Error(fmt::format("{}: {} {} is not representable as int64", op, what, v));
    }
    return static_cast<std::int64_t>(v);
}

namespace detail {
void throw_does_not_fit(std::int64_t v, std::string_view op, std::string_view what) {
    throw Error(fmt::format("{}: {} {} does not fit the requested integer type", op, what, v));
}
}  // namespace detail

}  // namespace descent
