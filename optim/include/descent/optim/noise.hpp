#pragma once
// Annealed gradient noise (Neelakantan et al. 2015, "Adding Gradient Noise Improves Learning
// for Very Deep Networks"): before each update, g ← g + N(0, σ_t²) with σ_t² = η/(1 + t)^γ.
// Works with any optimizer: call add_to(params) after backward and before step().

#include <cstdint>
#include <string>
#include <vector>

#include "descent/random.hpp"
#include "descent/tensor.hpp"

namespace descent::optim {

struct GradientNoiseOptions {
    double eta = 0.3;  ///< the paper tries 0.01, 0.3 and 1.0
    double gamma = 0.55;
    std::uint64_t seed = 0;
};

class GradientNoise {
  public:
    explicit GradientNoise(GradientNoiseOptions options = {});
    /// σ_t for step t (t = 0 for the first update).
    double sigma(std::int64_t t) const;
    /// Adds N(0, σ_t²) to every defined gradient, then advances t.
    void add_to(const std::vector<Tensor>& params);
    std::int64_t steps() const { return t_; }

    /// {"t", "generator.*"} and the text "config" ("GradientNoise(eta=0.3, gamma=0.55)"),
    /// which a load checks against this one's options.
    StateDict state_dict() const;
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  private:
    std::string config() const;

    GradientNoiseOptions options_;
    Generator generator_;
    std::int64_t t_ = 0;
    Lifetime lifetime_;
};

}  // namespace descent::optim
