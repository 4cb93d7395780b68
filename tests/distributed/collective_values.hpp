#pragma once
// Buffers for the collective tests: rank r's values span eight orders of magnitude, so that the
// order in which a sum is formed shows in its bits.

#include <descent/random.hpp>

#include <cmath>
#include <cstring>
#include <vector>

namespace dist_test {

template <class T>
std::vector<T> values_of(int rank, std::size_t n) {
    descent::Generator gen(1000 + static_cast<std::uint64_t>(rank));
    std::vector<T> v(n);
    for (T& x : v) x = static_cast<T>((gen.uniform() - 0.5) * std::pow(10.0, 8.0 * gen.uniform()));
    return v;
}

/// The sum in rank order, one rank after another: ((x_0 + x_1) + x_2) + ...
template <class T>
std::vector<T> sequential_sum(int ranks, std::size_t n) {
    std::vector<T> total = values_of<T>(0, n);
    for (int r = 1; r < ranks; ++r) {
        const std::vector<T> v = values_of<T>(r, n);
        for (std::size_t i = 0; i < n; ++i) total[i] += v[i];
    }
    return total;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

}  // namespace dist_test
