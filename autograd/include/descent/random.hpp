#pragma once
// The random generator behind rand/randn/randint/randperm, initialisers and dropout. Every
// thread has its own, starting from seed 0 and seeded by manual_seed in that thread, so models
// trained in separate threads never race and each thread's stream depends only on its own
// seed. Unlike torch's one generator per process, a thread does not inherit the seed of the
// thread that started it: call manual_seed in each thread that draws numbers. The streams are
// defined by this library (xoshiro256** seeded through splitmix64; normals by the Marsaglia polar
// method), not by the standard library, so a seed gives the same numbers on every compiler and
// machine.

#include <cstdint>

#include "descent/lifetime.hpp"
#include "descent/state.hpp"
#include "descent/tensor.hpp"

namespace descent {

/// Seeds the calling thread's generator.
void manual_seed(std::uint64_t seed);

/// A generator; global_generator() is the calling thread's, the one rand/randn/randint use
/// and nn and optim draw from.
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

    /// The whole state, for checkpoints: {"words": int64 [4] (the bits of xoshiro's four
    /// words), "spare_normal": float64 [], "has_spare": int64 []} and the text "config"
    /// ("Generator(xoshiro256**)").
    StateDict state_dict() const;
    /// Checks a state_dict(): a missing or malformed entry, or the all-zero state xoshiro never
    /// leaves, is an Error.
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  private:
    std::uint64_t s_[4]{};
    double spare_normal_ = 0.0;
    bool has_spare_ = false;
    Lifetime lifetime_;
};

/// The calling thread's generator (one per thread, seed 0 until manual_seed).
Generator& global_generator();

/// Uniform in [0, 1).
Tensor rand(const Shape& shape, TensorOptions options = {});
/// Standard normal.
Tensor randn(const Shape& shape, TensorOptions options = {});
/// int64 uniform in [low, high).
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape);
/// A random permutation of 0..n-1 (int64).
Tensor randperm(std::int64_t n);
/// int64 indices of categories drawn with probability proportional to their weights
/// (torch.multinomial): probs [K] gives [num_samples], probs [R, K] one row of draws per row.
/// Weights are finite and non-negative with a positive sum per row; zero-weight categories are
/// never drawn. Without replacement a row's draws are distinct, in the order successive draws
/// would give them, and num_samples may not exceed the row's positive-weight categories.
Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement = false);

}  // namespace descent
