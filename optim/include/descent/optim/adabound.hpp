#pragma once
// AdaBound / AMSBound (Luo, Xiong, Liu & Sun, ICLR 2019), following the authors' code
// (github.com/Luolc/AdaBound): Adam whose elementwise rate is clamped into bounds that close
// in on a final SGD rate, so training moves from Adam-like to SGD-like.
//   d = g + wd·θ;  m = β₁m + (1 − β₁)d;  v = β₂v + (1 − β₂)d²  (amsbound: v̂ = max(v̂, v))
//   α* = final_lr·lr/base_lr  (base_lr: the group's lr at construction; follows schedules)
//   η = clamp(lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) / (√v + ε),  α*(1 − 1/(γt + 1)),  α*(1 + 1/(γt)))
//   θ ← θ − η·m

#include <array>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct AdaBoundOptions {
    double lr = 1e-3;
    std::array<double, 2> betas{0.9, 0.999};
    double final_lr = 0.1;
    double gamma = 1e-3;
    double eps = 1e-8;
    double weight_decay = 0.0;
    bool amsbound = false;
};

/// The options under torch's names (checked).
Hyperparameters hyperparameters(const AdaBoundOptions& options);

class AdaBound : public TypedOptimizer<AdaBoundOptions> {
  public:
    explicit AdaBound(std::vector<Tensor> params, AdaBoundOptions options = {});
    Tensor step(const Closure& closure = {}) override;
};

}  // namespace descent::optim
