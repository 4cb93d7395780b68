#pragma once
// NAdam (Dozat 2016) as torch.optim.NAdam with foreach=True (torch 1.13's default single-tensor
// path multiplies one μ too many into the second product; this follows the documented formula):
//   d = g + wd·θ;  μ_t = β₁(1 − ½·0.96^(tψ));  P_t = Π_{i≤t} μ_i
//   m = β₁m + (1 − β₁)d;  v = β₂v + (1 − β₂)d²;  r = √v/√(1 − β₂ᵗ) + ε
//   θ ← θ − lr(1 − μ_t)/(1 − P_t) · d/r − lr·μ_{t+1}/(1 − P_t·μ_{t+1}) · m/r

#include <array>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct NAdamOptions {
    double lr = 2e-3;
    std::array<double, 2> betas{0.9, 0.999};
    double eps = 1e-8;
    double weight_decay = 0.0;
    double momentum_decay = 4e-3;  ///< ψ
};

/// The options under torch's names (checked).
Hyperparameters hyperparameters(const NAdamOptions& options);

class NAdam : public TypedOptimizer<NAdamOptions> {
  public:
    explicit NAdam(std::vector<Tensor> params, NAdamOptions options = {});
    Tensor step(const Closure& closure = {}) override;
};

}  // namespace descent::optim
