#pragma once
// Adam's two moving averages of the gradient d — momentum's first moment and RMSProp's second:
// m = β₁m + (1 − β₁)d,  v = β₂v + (1 − β₂)d², kept in the parameter's "exp_avg" and
// "exp_avg_sq" buffers. Adam, NAdam, RAdam, AdaBound and SWATS's first phase start from them.

#include <array>
#include <cstdint>

#include "descent/check.hpp"
#include "descent/optim/optimizer.hpp"
#include "driver.hpp"

namespace descent::optim::detail {

template <class T>
struct Moments {
    Moments(const Param<T>& p, const std::array<double, 2>& betas)
        : m(p.buffer("exp_avg")),
          v(p.buffer("exp_avg_sq")),
          b1(T(betas[0])),
          c1(T(1 - betas[0])),
          b2(T(betas[1])),
          c2(T(1 - betas[1])) {}
    void update(std::int64_t i, T d) const {
        m[i] = b1 * m[i] + c1 * d;
        v[i] = b2 * v[i] + c2 * d * d;
    }
    T* m;
    T* v;
    T b1, c1, b2, c2;
};

/// The state entries of the moments: m any finite value, v ≥ 0.
inline constexpr StateEntry kExpAvg{"exp_avg", finite()};
inline constexpr StateEntry kExpAvgSq{"exp_avg_sq", at_least(0)};

}  // namespace descent::optim::detail
