#pragma once
// Lookahead (Zhang, Lucas, Hinton & Ba 2019, "Lookahead Optimizer: k steps forward, 1 step
// back"; authors' code github.com/michaelrzhang/lookahead): wraps any optimizer and is one.
// Slow weights φ are taken at construction; the inner optimizer moves the fast weights θ, and
// after every k of its steps:  φ ← φ + α(θ − φ),  θ ← φ.
// Its parameter groups are the inner optimizer's, so schedules and zero_grad reach through,
// and parameters or groups added to the inner optimizer later get slow weights when step()
// first sees them (before their first update).

#include <cstdint>
#include <utility>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

struct LookaheadOptions {
    std::int64_t k = 5;
    double alpha = 0.5;
};

/// Its state: the inner optimizer's under "inner.", "lookahead.steps", the slow weights
/// "lookahead.slow.<g>.<i>", and the text "config" ("Lookahead(k=5, alpha=0.5)"), which a load
/// checks against this Lookahead's options.
class Lookahead : public Optimizer {
  public:
    /// Wraps `inner`, which should outlive the Lookahead: using a Lookahead whose inner
    /// optimizer was destroyed is an Error.
    Lookahead(Optimizer& inner, LookaheadOptions options = {});
    /// k steps of the inner optimizer (each given the closure), then the slow weights' step.
    Tensor step(const Closure& closure = {}) override;

    std::vector<ParamGroup>& param_groups() override { return inner_.get().param_groups(); }
    StateDict state_dict() const override;
    StagedLoad stage_load(const StateDict& state) override;

  private:
    /// One slow copy per parameter of the inner optimizer's groups, in their order.
    void sync_slow() const;
    std::string config() const;

    Watched<Optimizer> inner_;
    LookaheadOptions options_;
    std::int64_t steps_ = 0;
    mutable std::vector<std::pair<Tensor, Tensor>> slow_;  // (θ, φ) per parameter
};

}  // namespace descent::optim
