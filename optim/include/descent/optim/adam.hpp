#pragma once
// Adam (Kingma & Ba 2015) as torch.optim.Adam 1.13: momentum and RMSProp in one rule.
//   d = g + wd·θ                       (L2 weight decay, coupled)
//   m = β₁m + (1 − β₁)d                (momentum: first-moment average)
//   v = β₂v + (1 − β₂)d²               (RMSProp: second-moment average)
//   v̂ = max(v̂, v) with amsgrad         (AMSGrad keeps the largest uncorrected v, as torch does)
//   θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

#include <array>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct AdamOptions {
    double lr = 1e-3;
    std::array<double, 2> betas{0.9, 0.999};
    double eps = 1e-8;
    double weight_decay = 0.0;
    bool amsgrad = false;
};

/// The options under torch's names (checked).
Hyperparameters hyperparameters(const AdamOptions& options);

class Adam : public TypedOptimizer<AdamOptions> {
  public:
    explicit Adam(std::vector<Tensor> params, AdamOptions options = {});
    Tensor step(const Closure& closure = {}) override;

  protected:
    Adam(std::string name, std::vector<Tensor> params, AdamOptions options, bool decoupled);

  private:
    bool decoupled_;  // AdamW
};

}  // namespace descent::optim
