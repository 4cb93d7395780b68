#pragma once
// RAdam (Liu et al. 2020) as torch.optim.RAdam 1.13: Adam whose adaptive rate is switched on
// only once the variance of its estimate is tractable (ρ_t > 5), and rectified by r_t then.
//   d = g + wd·θ;  m = β₁m + (1 − β₁)d;  v = β₂v + (1 − β₂)d²;  m̂ = m/(1 − β₁ᵗ)
//   ρ_∞ = 2/(1 − β₂) − 1;  ρ_t = ρ_∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)
//   ρ_t > 5: r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t)),
//            θ ← θ − lr·m̂·r_t·√(1 − β₂ᵗ)/(√v + ε);   otherwise θ ← θ − lr·m̂

#include <array>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct RAdamOptions {
    double lr = 1e-3;
    std::array<double, 2> betas{0.9, 0.999};
    double eps = 1e-8;
    double weight_decay = 0.0;
};

/// The options under torch's names (checked).
Hyperparameters hyperparameters(const RAdamOptions& options);

class RAdam : public TypedOptimizer<RAdamOptions> {
  public:
    explicit RAdam(std::vector<Tensor> params, RAdamOptions options = {});
    Tensor step(const Closure& closure = {}) override;
};

}  // namespace descent::optim
