#pragma once
// Learning-rate schedules as pure functions of the step count t, composable, and LRScheduler,
// the one driver that writes them into an optimizer's groups.
//
// A Schedule maps (t, base) to the lr, where base is the group's lr when the driver was made.
// t counts LRScheduler::step() calls: t = 0 at construction (the lr applied then), t = 1 after
// the first step(), and so on — the same count as torch's last_epoch. Call opt.step() then
// sched.step() each iteration. Formulas are torch.optim.lr_scheduler's closed forms.

#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim {

/// A schedule: the lr at step t from the base lr, and a description of it
/// ("cosine(t_max=1000, eta_min=0)") that a saved LRScheduler state records, so that the state
/// is never loaded under another schedule. Any callable (t, base) → lr converts to a Schedule
/// described as "custom"; give yours a description that names what its values depend on.
class Schedule {
  public:
    using Function = std::function<double(std::int64_t t, double base)>;

    Schedule() = default;
    Schedule(Function function, std::string description)
        : function_(std::move(function)), description_(std::move(description)) {}
    template <class F>
    requires(std::is_invocable_r_v<double, F&, std::int64_t, double> &&
             !std::same_as<std::decay_t<F>, Schedule>)
        Schedule(F function)  // NOLINT: implicit, as the std::function it replaces
        : Schedule(Function(std::move(function)), "custom") {}

    double operator()(std::int64_t t, double base) const { return function_(t, base); }
    explicit operator bool() const { return static_cast<bool>(function_); }
    const std::string& description() const { return description_; }

  private:
    Function function_;
    std::string description_;
};

/// base.
Schedule constant();
/// base·f(t) (torch LambdaLR).
Schedule lambda(std::function<double(std::int64_t)> factor);
/// base·γ^⌊t/step_size⌋ (StepLR).
Schedule step_decay(std::int64_t step_size, double gamma = 0.1);
/// base·γ^(number of milestones ≤ t) (MultiStepLR).
Schedule multistep(std::vector<std::int64_t> milestones, double gamma = 0.1);
/// base·γᵗ (ExponentialLR).
Schedule exponential(double gamma);
/// base/√(t + 1): the 1/√(t+1) decay of the lecture (as Adagrad's analysis uses).
Schedule inverse_sqrt();
/// base·(1 − min(t, T)/T)^power (PolynomialLR).
Schedule polynomial(std::int64_t total_iters = 5, double power = 1.0);
/// η_min + (base − η_min)(1 + cos(πt/T_max))/2 (CosineAnnealingLR).
Schedule cosine(std::int64_t t_max, double eta_min = 0.0);
/// SGDR: cosine annealing restarted after T₀, T₀·T_mult, ... steps (CosineAnnealingWarmRestarts).
Schedule cosine_warm_restarts(std::int64_t t_0, std::int64_t t_mult = 1, double eta_min = 0.0);
/// base·(start + (end − start)·min(t, T)/T) (LinearLR; a linear warm-up from start < 1).
Schedule linear(double start_factor = 1.0 / 3, double end_factor = 1.0,
                std::int64_t total_iters = 5);
/// base·factor for t < total_iters, then base (ConstantLR; a constant warm-up).
Schedule constant_factor(double factor = 1.0 / 3, std::int64_t total_iters = 5);

/// Runs schedules one after another: schedules[i] from milestones[i−1] on, counting its own
/// steps from 0 there (SequentialLR).
Schedule sequential(std::vector<Schedule> schedules, std::vector<std::int64_t> milestones);
/// A linear warm-up from start_factor·lr over `steps`, then `after` counted from 0.
Schedule warmup(Schedule after, std::int64_t steps, double start_factor = 0.1);
/// A constant warm-up at factor·lr for `steps`, then `after` counted from 0.
Schedule constant_warmup(Schedule after, std::int64_t steps, double factor = 0.1);
/// outer applied to what inner gives (ChainedScheduler for multiplicative schedules).
Schedule chain(Schedule inner, Schedule outer);

enum class CyclicMode { triangular, triangular2, exp_range };
struct CyclicOptions {
    double base_lr = 1e-3;
    double max_lr = 1e-2;
    std::int64_t step_size_up = 2000;
    std::optional<std::int64_t> step_size_down{};  ///< defaults to step_size_up
    CyclicMode mode = CyclicMode::triangular;
    double gamma = 1.0;  ///< exp_range's decay per step
    double base_momentum = 0.8;
    double max_momentum = 0.9;
};
/// Cyclical learning rate (Smith 2017; CyclicLR): between base_lr and max_lr, ignoring the
/// group's own lr. cyclic_momentum is its inverse cycle for momentum (or Adam's β₁).
Schedule cyclic(CyclicOptions options);
Schedule cyclic_momentum(CyclicOptions options);

enum class Anneal { cos, linear };
struct OneCycleOptions {
    double max_lr = 0.1;
    std::int64_t total_steps = 1000;
    double pct_start = 0.3;
    Anneal anneal = Anneal::cos;
    double div_factor = 25.0;
    double final_div_factor = 1e4;
    bool three_phase = false;
    double base_momentum = 0.85;
    double max_momentum = 0.95;
};
/// One-cycle policy (Smith & Topin 2018; OneCycleLR): up from max_lr/div_factor to max_lr, then
/// down to max_lr/(div_factor·final_div_factor); one_cycle_momentum moves the other way.
Schedule one_cycle(OneCycleOptions options);
Schedule one_cycle_momentum(OneCycleOptions options);

/// Applies schedules to an optimizer's groups: at construction (t = 0) and at every step().
/// With one schedule for all groups, a group added to the optimizer later follows it too (its
/// base lr taken when first seen); with one schedule per group, a group added later is an
/// Error. A schedule value that is no valid lr (NaN, negative, ∞) or momentum is not written:
/// the group keeps its values and is marked unusable (ParamGroup::unusable), so that a step
/// that would use it is an Error naming the scheduler, the step and the value, while a value
/// no step uses — a one-cycle lr after its last update, in the usual loop of step() then
/// sched.step() — is no error, as in torch. The optimizer should outlive the scheduler: using
/// it after is an Error.
///
/// Its state: "scheduler.t", the base values "scheduler.base_lr.<g>" and
/// "scheduler.base_momentum.<g>", and the text "config" describing the schedules
/// ("LRScheduler(lr=cosine(t_max=1000, eta_min=0))"): a state saved under other schedules is
/// refused.
class LRScheduler {
  public:
    LRScheduler(Optimizer& optimizer, Schedule lr, std::optional<Schedule> momentum = {});
    /// One schedule per group.
    LRScheduler(Optimizer& optimizer, std::vector<Schedule> lr,
                std::vector<Schedule> momentum = {});

    void step();
    std::int64_t last_step() const { return t_; }
    std::vector<double> last_lr() const;

    StateDict state_dict() const;
    /// Checks the state (its schedules, t, one base value per group) and returns what applies
    /// it: the base values, t, and the schedules' values at t written into the groups.
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  private:
    std::string config() const;
    struct Values {
        std::vector<double> lr, momentum;
        std::vector<std::string> invalid;  // per group: why its values are no valid ones, or ""
    };
    /// The schedules' values at step t from these base values, each group's checked.
    Values values_at(std::int64_t t, const std::vector<double>& base_lr,
                     const std::vector<double>& base_momentum) const;
    void write(const Values& values);
    LRScheduler(Optimizer& optimizer, std::vector<Schedule> lr, std::vector<Schedule> momentum,
                bool shared);
    /// Writes the schedules' values at step t into the groups (valid ones; the others mark
    /// their group unusable).
    void apply(std::int64_t t);

    Watched<Optimizer> optimizer_;
    std::vector<Schedule> lr_;
    std::vector<Schedule> momentum_;
    bool shared_;  // one lr (and momentum) schedule for every group
    std::vector<double> base_lr_;
    std::vector<double> base_momentum_;
    std::int64_t t_ = 0;
    Lifetime lifetime_;
};

enum class PlateauMode { min, max };
enum class ThresholdMode { rel, abs };
struct PlateauOptions {
    PlateauMode mode = PlateauMode::min;
    double factor = 0.1;
    std::int64_t patience = 10;
    double threshold = 1e-4;
    ThresholdMode threshold_mode = ThresholdMode::rel;
    std::int64_t cooldown = 0;
    double min_lr = 0.0;
    std::vector<double> min_lrs{};  ///< one per group; replaces min_lr when given
    double eps = 1e-8;              ///< changes smaller than this are not made
};

/// Multiplies every group's lr by `factor` once the metric has not improved for `patience`
/// steps (ReduceLROnPlateau), then waits `cooldown` steps before counting again. A NaN metric
/// counts as no improvement.
///
/// Its state: "plateau.best", "plateau.bad_steps", "plateau.cooldown_left", "plateau.steps", and
/// the text "config" with every option, which a load checks against this scheduler's.
class ReduceLROnPlateau {
  public:
    ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options = {});
    void step(double metric);
    std::vector<double> last_lr() const;

    StateDict state_dict() const;
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  private:
    bool better(double metric) const;
    double floor(std::size_t group, std::size_t groups) const;
    std::string config() const;

    Watched<Optimizer> optimizer_;
    PlateauOptions options_;
    double best_;
    std::int64_t bad_steps_ = 0;
    std::int64_t cooldown_left_ = 0;
    std::int64_t steps_ = 0;
    Lifetime lifetime_;
};

}  // namespace descent::optim
