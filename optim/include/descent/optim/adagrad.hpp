#pragma once
// Adagrad (Duchi, Hazan & Singer 2011) as torch.optim.Adagrad 1.13: each coordinate's rate
// shrinks with the square root of its accumulated squared gradients.
//   d = g + wd·θ;  s = s + d²;  θ ← θ − lr/(1 + (t − 1)·lr_decay) · d / (√s + ε)

#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct AdagradOptions {
    double lr = 1e-2;
    double lr_decay = 0.0;
    double weight_decay = 0.0;
    double initial_accumulator_value = 0.0;
    double eps = 1e-10;
};

/// The options under torch's names (checked).
Hyperparameters hyperparameters(const AdagradOptions& options);

class Adagrad : public TypedOptimizer<AdagradOptions> {
  public:
    explicit Adagrad(std::vector<Tensor> params, AdagradOptions options = {});
    Tensor step(const Closure& closure = {}) override;
};

}  // namespace descent::optim
