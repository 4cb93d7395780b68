#pragma once
// Lookahead (Zhang, Lucas, Hinton & Ba 2019, "Lookahead Optimizer: k steps forward, 1 step
// back"; authors' code github.com/michaelrzhang/lookahead): wraps any optimizer and is one.
// Slow weights φ are taken at construction; the inner optimizer moves the fast weights θ, and
// after every k of its steps:  φ ← φ + α(θ − φ),  θ ← φ.
// Its parameter groups are the inner optimizer's, so schedules and zero_grad reach through.

#include <cstdint>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct LookaheadOptions {
    std::int64_t k = 5;
    double alpha = 0.5;
};

class Lookahead : public Optimizer {
  public:
    /// `inner` must outlive the Lookahead.
    Lookahead(Optimizer& inner, LookaheadOptions options = {});
    void step() override;

    std::vector<ParamGroup>& param_groups() override { return inner_.param_groups(); }
    StateDict state_dict() const override;
    void load_state_dict(const StateDict& state) override;

  private:
    Optimizer& inner_;
    LookaheadOptions options_;
    std::int64_t steps_ = 0;
    std::vector<std::vector<Tensor>> slow_;  // φ, per group and parameter
};

}  // namespace descent::optim
