#pragma once
// The groups of a GroupOptimizer and each parameter's state: the checks every step runs before
// anything changes, the dealing of parameters to threads, and the state's saving and checked
// loading. The driver (driver.hpp) steps the algorithms' rules through it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "descent/optim/optimizer.hpp"

namespace descent::optim::detail {

/// Whether `value` lies in the range a hyperparameter of this name requires (optimizer.cpp).
bool valid_hyperparameter(std::string_view name, double value);

/// What an algorithm keeps for one parameter: a step count, buffers shaped like it, scalars.
struct ParamState {
    std::int64_t step = 0;
    std::map<std::string, Tensor, std::less<>> buffers;
    std::map<std::string, double, std::less<>> scalars;
};

/// One parameter to update this step.
struct Target {
    std::size_t group;  ///< its group's index
    ParamState* state;
    Tensor* param;
};

class Groups {
  public:
    /// `name` names the optimizer in messages; `entries` are what its rule keeps per parameter.
    Groups(std::string name, std::vector<StateEntry> entries)
        : name_(std::move(name)), entries_(std::move(entries)) {}

    std::vector<ParamGroup>& list() { return groups_; }
    const std::string& name() const { return name_; }

    /// Appends a group (checked: floating leaves, each parameter in one group only, and every
    /// hyperparameter in the range its name requires); on an Error nothing is added.
    void add(std::vector<Tensor> params, Hyperparameters options);

    /// Checks every group's hyperparameters and every gradient's shape and dtype against its
    /// parameter, then returns the parameters that have a gradient, their buffers converted
    /// to the parameter's dtype (after Module::to).
    std::vector<Target> prepare_step();

    /// Calls update(target) for every target: whole parameters dealt out to the threads when
    /// they are many and small enough together, else one after another. Each update may touch
    /// only its own parameter, gradient and state.
    static void for_each(const std::vector<Target>& targets,
                         const std::function<void(const Target&)>& update);

    /// "param_groups.<g>.size", "param_groups.<g>.<hyperparameter>", "state.<g>.<i>.step",
    /// "state.<g>.<i>.<buffer>" and "state.<g>.<i>.scalar.<name>".
    void save(StateDict& out) const;
    /// Reads and checks those entries; the StagedLoad restores them.
    StagedLoad stage(StateReader& in);

  private:
    /// Brings state_ in line with groups_ when they changed, checking new parameters.
    void sync() const;
    /// The entry `name` the algorithm keeps; an Error naming the state's `key` if none.
    const StateEntry& entry(const std::string& name, bool scalar, const std::string& key,
                            const std::string& op) const;

    std::string name_;
    std::vector<StateEntry> entries_;
    std::vector<ParamGroup> groups_;
    std::vector<std::string> required_;  // the algorithm's hyperparameters: every group has them
    // Each group's hyperparameters as last checked (none: not checked yet); a step whose group
    // still holds exactly these keys and values skips their checks.
    std::vector<std::optional<std::vector<std::pair<std::string, double>>>> checked_;
    // Parallel to groups_ as last seen: the parameters (held, so that identity is never reused)
    // and each one's state.
    mutable std::vector<std::vector<Tensor>> seen_;
    mutable std::vector<std::vector<ParamState>> state_;
};

}  // namespace descent::optim::detail
