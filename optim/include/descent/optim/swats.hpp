#pragma once
// SWATS (Keskar & Socher 2017, "Improving Generalization Performance by Switching from Adam to
// SGD", Algorithm 1): Adam until the SGD rate its steps imply has settled, then SGD with
// momentum at that rate. One phase for the whole model (public ports switch per tensor).
//   Adam phase, step k:  d = g + wd·θ;  m = β₁m + (1 − β₁)d;  v = β₂v + (1 − β₂)d²
//     p_k = −lr·√(1 − β₂ᵏ)/(1 − β₁ᵏ) · m/(√v + ε);  θ ← θ + p_k
//     γ_k = pᵀp / (−pᵀd) over all parameters as one vector (skipped when pᵀd = 0)
//     λ = β₂λ + (1 − β₂)γ_k;  switch when k > 1 and |λ/(1 − β₂ᵏ) − γ_k| < eps_switch,
//     with Λ = λ/(1 − β₂ᵏ)
//   SGD phase:  b = β₁b + d;  θ ← θ − (1 − β₁)·Λ·b
// The betas of the first group drive λ; every group's own betas drive its moments.

#include <array>
#include <cstdint>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct SWATSOptions {
    double lr = 1e-3;
    std::array<double, 2> betas{0.9, 0.999};
    double eps = 1e-9;
    double weight_decay = 0.0;
    double eps_switch = 1e-9;
};

/// The options under torch's names (checked).
Hyperparameters hyperparameters(const SWATSOptions& options);

class SWATS : public TypedOptimizer<SWATSOptions> {
  public:
    explicit SWATS(std::vector<Tensor> params, SWATSOptions options = {});
    Tensor step(const Closure& closure = {}) override;

    bool switched() const { return switch_step_ > 0; }
    /// The step (1-based) after which SGD took over; 0 while still in the Adam phase.
    std::int64_t switch_step() const { return switch_step_; }
    /// Λ, the SGD learning rate estimated at the switch (0 before it).
    double sgd_lr() const { return sgd_lr_; }

  protected:
    void save_extra(StateDict& out) const override;
    StagedLoad stage_extra(StateReader& in) override;

  private:
    void adam_step();

    std::int64_t steps_ = 0;
    double lambda_ = 0.0;
    std::int64_t switch_step_ = 0;
    double sgd_lr_ = 0.0;
};

}  // namespace descent::optim
