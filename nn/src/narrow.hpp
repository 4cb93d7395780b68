#pragma once
// A double sum or statistic brought back to the tensor's dtype: beyond float's range it becomes
// ±inf (as float arithmetic would have made it), where a plain cast is undefined behaviour.

#include <limits>
#include <type_traits>

namespace descent::nn::detail {

template <class T>
T narrow(double v) {
    if constexpr (std::is_same_v<T, double>) {
        return v;
    } else {
        constexpr double largest = std::numeric_limits<T>::max();
        constexpr T inf = std::numeric_limits<T>::infinity();
        return v > largest ? inf : v < -largest ? -inf : static_cast<T>(v);
    }
}

}  // namespace descent::nn::detail
