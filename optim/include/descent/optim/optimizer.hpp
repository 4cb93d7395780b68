#pragma once
// Optimizer: the interface every optimizer offers — step, zero_grad, parameter groups with
// their own hyperparameters, and a state_dict that resumes a run bit for bit. GroupOptimizer
// is the storage and update driver the algorithms share (groups, per-parameter state, every
// check); Lookahead wraps another optimizer through the interface alone. optim knows nothing
// of nn: it works on any list of tensors.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "descent/check.hpp"
#include "descent/tensor.hpp"

namespace descent::optim {

/// Hyperparameters by torch.optim's names ("lr", "momentum", "weight_decay", ...); Adam's
/// betas are "beta1" and "beta2", flags are 0 or 1. Schedules write "lr" (and "momentum" or
/// "beta1") between steps.
using Hyperparameters = std::map<std::string, double, std::less<>>;

/// name → tensor; what state_dict() returns and load_state_dict() takes.
using StateDict = std::map<std::string, Tensor, std::less<>>;

/// Throws an Error naming op unless `value` lies in the range its name requires, whichever
/// algorithm has it (lr ≥ 0 and finite, beta1 in [0, 1), flags 0 or 1, ...). Names no
/// algorithm uses are not checked.
void check_hyperparameter(std::string_view name, double value, std::string_view op);

struct ParamGroup {
    std::vector<Tensor> params;
    Hyperparameters options;

    /// The value of a hyperparameter; an Error naming it if the group has none.
    double get(std::string_view name) const;
    /// Sets an existing hyperparameter, checked like the optimizer's options.
    void set(std::string_view name, double value);
    bool has(std::string_view name) const { return options.contains(name); }
    double lr() const { return get("lr"); }
};

/// What an algorithm keeps for one parameter: named buffers shaped like it, scalars, a count.
struct ParamState {
    std::int64_t step = 0;
    std::map<std::string, Tensor, std::less<>> buffers;
    std::map<std::string, double, std::less<>> scalars;
};

class Optimizer {
  public:
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    /// One update of every parameter that has a gradient (others are skipped, as in torch).
    /// Nothing is changed if any group's hyperparameters or any gradient is invalid.
    virtual void step() = 0;
    /// Drops every parameter's gradient (torch's set_to_none).
    void zero_grad();

    virtual std::vector<ParamGroup>& param_groups() = 0;
    const std::vector<ParamGroup>& param_groups() const {
        return const_cast<Optimizer*>(this)->param_groups();
    }

    /// Everything a resumed run needs: group hyperparameters, step counts, buffers.
    virtual StateDict state_dict() const = 0;
    /// Restores state_dict() output into an optimizer over the same parameter shapes. All or
    /// nothing: every value is checked first, and a mismatched group, count, key, shape or
    /// hyperparameter is an Error naming it that leaves the optimizer as it was. Keys outside
    /// this optimizer's own (those of a scheduler saved into the same dict) are ignored.
    void load_state_dict(const StateDict& state) { stage_load(state)(); }

    const std::string& name() const { return name_; }
    /// Expires when this optimizer is destroyed (what OptimizerRef watches).
    std::weak_ptr<const void> lifetime() const { return lifetime_; }

    /// A checked load that has not happened yet: calling it applies the state and cannot fail.
    using StagedLoad = std::function<void()>;
    /// Checks `state` completely and returns what applies it (Lookahead stages its inner
    /// optimizer's load with its own, so that both happen or neither).
    virtual StagedLoad stage_load(const StateDict& state) = 0;

  protected:
    explicit Optimizer(std::string name) : name_(std::move(name)) {}

  private:
    std::string name_;
    std::shared_ptr<const int> lifetime_ = std::make_shared<const int>(0);
};

/// A reference to an optimizer that notices when the optimizer is gone: using it afterwards
/// is an Error naming the holder (Lookahead, LRScheduler, ReduceLROnPlateau) instead of a
/// use-after-free.
class OptimizerRef {
  public:
    OptimizerRef(Optimizer& optimizer, std::string holder)
        : optimizer_(&optimizer), alive_(optimizer.lifetime()), holder_(std::move(holder)) {}
    Optimizer& get() const;

  private:
    Optimizer* optimizer_;
    std::weak_ptr<const void> alive_;
    std::string holder_;
};

/// Parameter groups and per-parameter state, and the update driver every algorithm steps
/// through. The groups may change between steps (a parameter pushed into a group, a group
/// added): the driver notices, checks the new parameters and keeps each parameter's state.
class GroupOptimizer : public Optimizer {
  public:
    std::vector<ParamGroup>& param_groups() override { return groups_; }
    StateDict state_dict() const override;
    StagedLoad stage_load(const StateDict& state) override;

  protected:
    explicit GroupOptimizer(std::string name) : Optimizer(std::move(name)) {}

    /// Appends a group (checked: floating leaves, each parameter in one group only, and every
    /// hyperparameter in the range its name requires).
    void add_group(std::vector<Tensor> params, Hyperparameters options);

    /// How the driver may go through the parameters: several at once on the threads (each
    /// update touches only its own parameter, gradient and state), or one by one in order
    /// (an update that sums over all parameters, as SWATS's).
    enum class Spread { threads, in_order };

    /// The driver: checks every group's hyperparameters and every gradient's shape and dtype
    /// against its parameter before anything changes, then, grad mode off, calls
    /// update(group, detail::ParamUpdate<T>) with T = float or double for every parameter that
    /// has a gradient. Defined in optim/src/update.hpp.
    template <class F>
    void update_each(F&& update, Spread spread = Spread::threads);

    /// The driver's checks alone (for an algorithm that updates all parameters as one vector,
    /// as L-BFGS): the groups and their hyperparameters, and every gradient's shape and dtype.
    void check_step();

    /// Optimizer-wide state beyond the groups (SWATS's phase): written into and staged from
    /// the same dict.
    virtual void save_extra(StateDict& /*out*/) const {}
    virtual StagedLoad stage_extra(const StateDict& /*in*/) {
        return [] {};
    }

  private:
    struct Target {
        const ParamGroup* group;
        ParamState* state;
        Tensor* param;
    };
    /// The parameters to update this step, after every check.
    std::vector<Target> prepare_step();
    /// Calls update_one for every target, on the threads when `spread` allows and it pays
    /// (update.hpp's update_each; not a template, so the scheduling is compiled once).
    static void update_targets(const std::vector<Target>& targets, Spread spread,
                               const std::function<void(const Target&)>& update_one);
    /// Brings state_ in line with groups_ when they changed, checking new parameters.
    void sync_state() const;

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
    TypedOptimizer(std::string name, std::vector<Tensor> params, O options)
        : GroupOptimizer(std::move(name)) {
        if (params.empty()) throw Error(this->name() + ": got an empty parameter list");
        add_param_group(std::move(params), options);
    }
};

}  // namespace descent::optim
