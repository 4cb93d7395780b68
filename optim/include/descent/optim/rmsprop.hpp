#pragma once
// RMSprop (Hinton's lecture 6e) as torch.optim.RMSprop 1.13: divide by a running RMS of g.
//   d = g + wd·θ;  a = αa + (1 − α)d²;  centered: c = αc + (1 − α)d, r = √(a − c²), else r = √a
//   momentum μ > 0: b = μb + d/(r + ε), θ ← θ − lr·b;  otherwise θ ← θ − lr·d/(r + ε)

#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct RMSpropOptions {
    double lr = 1e-2;
    double alpha = 0.99;
    double eps = 1e-8;
    double weight_decay = 0.0;
    double momentum = 0.0;
    bool centered = false;
};

/// The options under torch's names (checked).
Hyperparameters hyperparameters(const RMSpropOptions& options);

class RMSprop : public TypedOptimizer<RMSpropOptions> {
  public:
    explicit RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});
    Tensor step(const Closure& closure = {}) override;
};

}  // namespace descent::optim
