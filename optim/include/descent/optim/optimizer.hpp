#pragma once
// Optimizer: parameter groups with their own hyperparameters, per-parameter state, zero_grad,
// step, and a state_dict that resumes a run bit for bit. Algorithms derive from it; it knows
// nothing of nn (it works on any list of tensors).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "descent/grad_mode.hpp"
#include "descent/tensor.hpp"

namespace descent::optim {

/// Hyperparameters by torch.optim's names ("lr", "momentum", "weight_decay", ...); Adam's
/// betas are "beta1" and "beta2", flags are 0 or 1. Schedules write "lr" (and "momentum" or
/// "beta1") between steps.
using Hyperparameters = std::map<std::string, double, std::less<>>;

/// name → tensor; what state_dict() returns and load_state_dict() takes.
using StateDict = std::map<std::string, Tensor, std::less<>>;

struct ParamGroup {
    std::vector<Tensor> params;
    Hyperparameters options;

    /// The value of a hyperparameter; an Error naming it if the group has none.
    double get(std::string_view name) const;
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
    virtual void step() = 0;
    /// Drops every parameter's gradient (torch's set_to_none).
    void zero_grad();

    virtual std::vector<ParamGroup>& param_groups() { return groups_; }
    const std::vector<ParamGroup>& param_groups() const {
        return const_cast<Optimizer*>(this)->param_groups();
    }

    /// Everything a resumed run needs: group hyperparameters, step counts, buffers.
    virtual StateDict state_dict() const;
    /// Restores state_dict() output into an optimizer built over the same parameter shapes;
    /// mismatched groups, counts, names or shapes are an Error naming them.
    virtual void load_state_dict(const StateDict& state);

  protected:
    explicit Optimizer(std::string name) : name_(std::move(name)) {}

    /// Appends a group (checked: floating leaves, each parameter in one group only, and every
    /// hyperparameter in the range its name requires, e.g. lr ≥ 0, beta1 in [0, 1)).
    void add_group(std::vector<Tensor> params, Hyperparameters options);

    /// Calls f(group, state, param) for every parameter that has a gradient, grad mode off.
    template <class F>
    void for_each_param(F&& f) {
        const NoGradGuard no_grad;
        for (std::size_t g = 0; g < groups_.size(); ++g) {
            for (std::size_t i = 0; i < groups_[g].params.size(); ++i) {
                Tensor& p = groups_[g].params[i];
                if (p.grad().defined()) f(groups_[g], state_[g][i], p);
            }
        }
    }

    const std::string& name() const { return name_; }

    /// Optimizer-wide state beyond the groups (SWATS's phase and its SGD learning rate).
    virtual void save_extra(StateDict& /*out*/) const {}
    virtual void load_extra(const StateDict& /*in*/) {}

  private:
    std::string name_;
    std::vector<ParamGroup> groups_;
    std::vector<std::vector<ParamState>> state_;  // parallel to groups_
};

/// An optimizer whose groups are described by the options struct O of its algorithm. Each
/// algorithm defines `Hyperparameters hyperparameters(const O&)`: the struct under torch's names.
template <class O>
class TypedOptimizer : public Optimizer {
  public:
    using Options = O;
    /// A new group with its own options (fields left out take their defaults, as in O).
    void add_param_group(std::vector<Tensor> params, O options) {
        add_group(std::move(params), hyperparameters(options));
    }

  protected:
    TypedOptimizer(std::string name, std::vector<Tensor> params, O options)
        : Optimizer(std::move(name)) {
        add_param_group(std::move(params), options);
    }
};

}  // namespace descent::optim
