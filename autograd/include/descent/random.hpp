#pragma once
// One global random generator, seeded by manual_seed. The streams are defined by this library
// (xoshiro256** seeded through splitmix64; normals by the Marsaglia polar method), not by the
// standard library, so a seed gives the same numbers on every compiler and machine.

#include <cstdint>

#include "descent/tensor.hpp"

namespace descent {

void manual_seed(std::uint64_t seed);

/// The generator behind rand/randn/randint; nn and optim draw from it too.
class Generator {
  public:
    explicit Generator(std::uint64_t seed = 0) { seed_with(seed); }
    void seed_with(std::uint64_t seed);
    std::uint64_t next_u64();
    /// Uniform in [0, 1) with 53 random bits.
    double uniform();
    /// Standard normal.
    double normal();
    /// Uniform integer in [0, bound) without modulo bias; bound > 0.
    std::uint64_t below(std::uint64_t bound);

  private:
    std::uint64_t s_[4]{};
    double spare_normal_ = 0.0;
    bool has_spare_ = false;
};

Generator& global_generator();

/// Uniform in [0, 1).
Tensor rand(const Shape& shape, TensorOptions options = {});
/// Standard normal.
Tensor randn(const Shape& shape, TensorOptions options = {});
/// int64 uniform in [low, high).
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape);
/// A random permutation of 0..n-1 (int64).
Tensor randperm(std::int64_t n);

}  // namespace descent
