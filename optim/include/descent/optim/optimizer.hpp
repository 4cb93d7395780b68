#pragma once
// Optimizer: the interface every optimizer offers — step, zero_grad, parameter groups with
// their own hyperparameters, and the state contract (state.hpp) that resumes a run bit for bit.
// GroupOptimizer holds the groups and each parameter's state for the algorithms, whose update
// rules run through one driver (optim/src/driver.hpp); Lookahead wraps another optimizer
// through the interface alone. optim knows nothing of nn: it works on any list of tensors.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "descent/check.hpp"
#include "descent/lifetime.hpp"
#include "descent/state.hpp"
#include "descent/state_reader.hpp"
#include "descent/tensor.hpp"

namespace descent::optim {

using descent::StateDict;

/// Hyperparameters by torch.optim's names ("lr", "momentum", "weight_decay", ...); Adam's
/// betas are "beta1" and "beta2", flags are 0 or 1. Schedules write "lr" (and "momentum" or
/// "beta1") between steps.
using Hyperparameters = std::map<std::string, double, std::less<>>;

/// Throws an Error naming op unless `value` lies in the range its name requires, whichever
/// algorithm has it (lr ≥ 0 and finite, beta1 in [0, 1), flags 0 or 1, ...). Names no
/// algorithm uses are not checked.
void check_hyperparameter(std::string_view name, double value, std::string_view op);

struct ParamGroup {
    std::vector<Tensor> params;
    Hyperparameters options;
    /// Why the options cannot serve a step now, or empty. A scheduler whose schedule gives this
    /// group no valid value (a one-cycle lr after its last step, which the usual loop never
    /// uses) leaves the options as they were and says so here; a step that would update the
    /// group's parameters is then an Error with this message, and a valid value clears it.
    std::string unusable = {};

    /// The value of a hyperparameter; an Error naming it if the group has none.
    double get(std::string_view name) const;
    /// Sets an existing hyperparameter, checked like the optimizer's options.
    void set(std::string_view name, double value);
    bool has(std::string_view name) const { return options.contains(name); }
    double lr() const { return get("lr"); }
};

class Optimizer {
  public:
    /// Recomputes the loss and the gradients (zero_grad, forward, backward); returns the loss.
    using Closure = std::function<Tensor()>;

    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    /// One update of every parameter that has a gradient (others are skipped, as in torch).
    /// With a closure, it is called first, with grad mode on, and its loss is returned (as
    /// torch.optim's step(closure)); L-BFGS, which evaluates the loss several times, needs one.
    /// Nothing is changed if any group's hyperparameters or any gradient is invalid.
    virtual Tensor step(const Closure& closure = {}) = 0;
    /// Drops every parameter's gradient (torch's set_to_none).
    void zero_grad();

    virtual std::vector<ParamGroup>& param_groups() = 0;
    const std::vector<ParamGroup>& param_groups() const {
        return const_cast<Optimizer*>(this)->param_groups();
    }

    /// Everything a resumed run needs: group hyperparameters, step counts, buffers, and the
    /// text "config" naming the algorithm.
    virtual StateDict state_dict() const = 0;
    /// Checks `state` completely against this optimizer — its kind, the groups and their
    /// sizes, every hyperparameter, each buffer's shape and values — and returns what applies
    /// it. Keys of no part of this optimizer are an Error.
    virtual StagedLoad stage_load(const StateDict& state) = 0;
    /// stage_load, then apply: all or nothing.
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }

    const std::string& name() const { return name_; }
    const Lifetime& lifetime() const { return lifetime_; }

  protected:
    explicit Optimizer(std::string name) : name_(std::move(name)) {}

  private:
    std::string name_;
    Lifetime lifetime_;
};

/// What an algorithm keeps for each parameter: buffers shaped like it ("exp_avg") and scalars
/// ("mu_product"), each with the range its values must lie in when a state is loaded.
struct StateEntry {
    std::string_view name;
    Interval range;
    bool scalar = false;
};

namespace detail {
class Groups;
}

/// Parameter groups and per-parameter state for the algorithms. The groups may change between
/// steps (a parameter pushed into a group, a group added): the next step notices, checks the
/// new parameters and keeps each parameter's state.
class GroupOptimizer : public Optimizer {
  public:
    ~GroupOptimizer() override;
    std::vector<ParamGroup>& param_groups() override;
    StateDict state_dict() const override;
    StagedLoad stage_load(const StateDict& state) override;

    /// The groups, their state and the driver's checks (optim/src/groups.hpp).
    detail::Groups& groups() const { return *groups_; }

  protected:
    /// `state`: every buffer and scalar the algorithm may keep per parameter.
    GroupOptimizer(std::string name, std::vector<StateEntry> state);

    /// Appends a group (checked: floating leaves, each parameter in one group only, and every
    /// hyperparameter in the range its name requires).
    void add_group(std::vector<Tensor> params, Hyperparameters options);

    /// Optimizer-wide state beyond the groups (SWATS's phase, L-BFGS's history): written into
    /// and staged from the same dict.
    virtual void save_extra(StateDict& /*out*/) const {}
    virtual StagedLoad stage_extra(StateReader& /*in*/) { return {}; }

  private:
    std::unique_ptr<detail::Groups> groups_;
};

/// An optimizer whose groups are described by the options struct O of its algorithm. Each
/// algorithm defines `Hyperparameters hyperparameters(const O&)`: the struct under torch's names.
template <class O>
class TypedOptimizer : public GroupOptimizer {
  public:
    using Options = O;
    /// A new group with its own options (fields left out take their defaults, as in O).
    void add_param_group(std::vector<Tensor> params, O options) {
        add_group(std::move(params), hyperparameters(options));
    }

  protected:
    /// An empty parameter list is an Error (as torch: usually the wrong module's parameters).
    TypedOptimizer(std::string name, std::vector<Tensor> params, O options,
                   std::vector<StateEntry> state)
        : GroupOptimizer(std::move(name), std::move(state)) {
        if (params.empty()) throw Error(this->name() + ": got an empty parameter list");
        add_param_group(std::move(params), options);
    }
};

}  // namespace descent::optim
