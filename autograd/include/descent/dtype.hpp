#pragma once
// Runtime element types. float32 is the default, float64 is what gradcheck uses; int64 holds
// class labels and indices, bool holds masks. Neither int64 nor bool is differentiable.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace descent {

enum class Dtype : std::uint8_t { float32, float64, int64, boolean };

inline constexpr Dtype float32 = Dtype::float32;
inline constexpr Dtype float64 = Dtype::float64;
inline constexpr Dtype int64 = Dtype::int64;
inline constexpr Dtype boolean = Dtype::boolean;

constexpr std::string_view dtype_name(Dtype d) {
    switch (d) {
        case Dtype::float32:
            return "float32";
        case Dtype::float64:
            return "float64";
        case Dtype::int64:
            return "int64";
        case Dtype::boolean:
            return "bool";
    }
    return "?";
}

constexpr std::size_t dtype_size(Dtype d) {
    switch (d) {
        case Dtype::float32:
            return 4;
        case Dtype::float64:
            return 8;
        case Dtype::int64:
            return 8;
        case Dtype::boolean:
            return 1;
    }
    return 0;
}

constexpr bool is_floating(Dtype d) {
    return d == Dtype::float32 || d == Dtype::float64;
}

/// The C++ element type behind a dtype, and back.
template <class T>
constexpr Dtype dtype_of();
template <>
constexpr Dtype dtype_of<float>() {
    return Dtype::float32;
}
template <>
constexpr Dtype dtype_of<double>() {
    return Dtype::float64;
}
template <>
constexpr Dtype dtype_of<std::int64_t>() {
    return Dtype::int64;
}
template <>
constexpr Dtype dtype_of<bool>() {
    return Dtype::boolean;
}

}  // namespace descent
