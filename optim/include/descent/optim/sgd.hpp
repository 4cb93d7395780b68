#pragma once
// SGD with optional momentum, dampening, Nesterov momentum and L2 weight decay, as torch.optim.SGD:
//   d = g + wd·θ;  b = μ·b + (1 − τ)·d  (b = d on the first step);  d = d + μ·b if Nesterov else b;
//   θ ← θ − lr·d.
// Plain SGD (μ = 0), SGD with momentum and Nesterov's accelerated gradient are this one class.
// The lecture writes momentum as v ← λv − ηg, θ ← θ + v: the same iterates while lr is
// constant; with a changing lr, torch's form (kept here) scales the whole buffer by the new lr.

#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct SGDOptions {
    double lr = 1e-3;
    double momentum = 0.0;
    double dampening = 0.0;
    double weight_decay = 0.0;
    bool nesterov = false;
};

/// The options under torch's names (checked: Nesterov needs momentum and no dampening).
Hyperparameters hyperparameters(const SGDOptions& options);

class SGD : public TypedOptimizer<SGDOptions> {
  public:
    explicit SGD(std::vector<Tensor> params, SGDOptions options = {});
    Tensor step(const Closure& closure = {}) override;

  protected:
    SGD(std::string name, std::vector<Tensor> params, SGDOptions options, bool decoupled);

  private:
    bool decoupled_;  // SGDW: weight decay applied to θ directly instead of added to g
};

}  // namespace descent::optim
