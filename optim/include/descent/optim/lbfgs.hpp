#pragma once
// L-BFGS (Liu & Nocedal 1989, "On the limited memory BFGS method for large scale
// optimization"), as torch.optim.LBFGS 1.13: a quasi-Newton method that builds the inverse
// Hessian's action from the last `history_size` steps s and gradient changes y,
//   d = −H·g by the two-loop recursion, H₀ = (sᵀy / yᵀy)·I,
// then moves θ ← θ + t·d, with t = lr (t = min(1, 1/‖g‖₁)·lr at the first iteration) or from a
// line search satisfying the strong Wolfe conditions. One step() runs up to max_iter such
// iterations and max_eval evaluations of the closure, which recomputes the loss and the
// gradients (zero_grad, forward, backward) and returns the loss.
//
//   descent::optim::LBFGS lbfgs(params, {.line_search = descent::optim::LineSearch::strong_wolfe});
//   lbfgs.step([&] { lbfgs.zero_grad(); auto loss = f(); loss.backward(); return loss; });
//
// As in torch: one parameter group (all parameters act as one vector); the stopping rules are
// max|g| ≤ tolerance_grad, max|t·d| ≤ tolerance_change, |Δloss| < tolerance_change. The
// vectors are kept in double whatever the parameters' dtype.
//
// Unlike torch: the parameters are one fixed set — a parameter added or removed between steps
// or inside the closure, or parameters of no elements, is an Error (make a new LBFGS); a loss or
// gradient that is NaN or infinite is an Error naming L-BFGS; and a closure that throws during
// the line search leaves the parameters at the last accepted point (torch leaves them at the
// trial point). Without a line search each step is taken before the closure is called again,
// so there the parameters stay where the step put them, as in torch.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

enum class LineSearch { none, strong_wolfe };

struct LBFGSOptions {
    double lr = 1.0;
    std::int64_t max_iter = 20;
    std::optional<std::int64_t> max_eval{};  ///< defaults to max_iter · 5 / 4
    double tolerance_grad = 1e-7;
    double tolerance_change = 1e-9;
    std::int64_t history_size = 100;
    LineSearch line_search = LineSearch::none;
};

/// The options under torch's names (checked); line search is the flag "strong_wolfe".
Hyperparameters hyperparameters(const LBFGSOptions& options);

class LBFGS : public TypedOptimizer<LBFGSOptions> {
  public:
    explicit LBFGS(std::vector<Tensor> params, LBFGSOptions options = {});
    /// One step of up to max_iter iterations; returns the loss of the first evaluation. The
    /// closure is required: L-BFGS evaluates the loss several times per step.
    Tensor step(const Closure& closure = {}) override;
    /// An Error: L-BFGS has one parameter group (as torch).
    void add_param_group(std::vector<Tensor> params, LBFGSOptions options);

    /// Closure evaluations and iterations so far (torch's state func_evals and n_iter).
    std::int64_t function_evaluations() const { return func_evals_; }
    std::int64_t iterations() const { return n_iter_; }

  protected:
    void save_extra(StateDict& out) const override;
    StagedLoad stage_extra(StateReader& in) override;

  private:
    struct Memory;  // d, t, the (s, y) history and the previous gradient and loss
    std::int64_t func_evals_ = 0;
    std::int64_t n_iter_ = 0;
    std::shared_ptr<Memory> memory_;
};

}  // namespace descent::optim
