#include "descent/optim/optimizer.hpp"

#include <fmt/format.h>

#include <map>

#include "groups.hpp"

namespace descent::optim {
namespace {
/// The range a hyperparameter of this name must lie in, whichever algorithm has it; flags
/// must be exactly 0 or 1.
struct Rule {
    Interval range;
    bool flag = false;
};
const std::map<std::string_view, Rule, std::less<>>& rules() {
    static const std::map<std::string_view, Rule, std::less<>> table = {
        {"lr", {at_least(0)}},
        {"base_lr", {above(0)}},
        {"eps", {at_least(0)}},
        {"weight_decay", {at_least(0)}},
        {"momentum", {at_least(0)}},
        {"dampening", {closed(0, 1)}},
        {"beta1", {{0, 1, false, true}}},
        {"beta2", {{0, 1, false, true}}},
        {"alpha", {closed(0, 1)}},
        {"lr_decay", {at_least(0)}},
        {"momentum_decay", {at_least(0)}},
        {"initial_accumulator_value", {at_least(0)}},
        {"final_lr", {at_least(0)}},
        {"gamma", {{0, 1, false, true}}},
        {"eps_switch", {at_least(0)}},
        {"nesterov", {closed(0, 1), true}},
        {"amsgrad", {closed(0, 1), true}},
        {"amsbound", {closed(0, 1), true}},
        {"centered", {closed(0, 1), true}},
        {"max_iter", {at_least(1)}},
        {"max_eval", {at_least(1)}},
        {"history_size", {at_least(1)}},
        {"tolerance_grad", {at_least(0)}},
        {"tolerance_change", {at_least(0)}},
        {"strong_wolfe", {closed(0, 1), true}}};
    return table;
}

}  // namespace

bool detail::valid_hyperparameter(std::string_view name, double value) {
    const auto it = rules().find(name);
    if (it == rules().end()) return true;
    const Rule& rule = it->second;
    return rule.range.contains(value) && (!rule.flag || value == 0.0 || value == 1.0);
}

void check_hyperparameter(std::string_view name, double value, std::string_view op) {
    if (detail::valid_hyperparameter(name, value)) return;
    const Rule& rule = rules().find(name)->second;
    if (rule.flag) {
        throw Error(fmt::format("{}: {} is a flag and must be 0 or 1, got {}", op, name, value));
    }
    check_option(value, rule.range, op, name);
}

double ParamGroup::get(std::string_view key) const {
    // A group holds a handful of keys: a scan that compares lengths first does one string
    // comparison where the tree's search does three or four (called for every parameter).
    for (const auto& [name, value] : options) {
        if (name.size() == key.size() && name == key) return value;
    }
    throw Error(fmt::format("param group: no hyperparameter '{}'", key));
}

void ParamGroup::set(std::string_view key, double value) {
    const auto it = options.find(key);
    if (it == options.end()) {
        throw Error(fmt::format("param group: no hyperparameter '{}'", key));
    }
    check_hyperparameter(key, value, "param group");
    it->second = value;
}

void Optimizer::zero_grad() {
    for (auto& group : param_groups()) {
        for (auto& p : group.params) {
            if (p.defined()) p.set_grad({});
        }
    }
}

// --- GroupOptimizer ---------------------------------------------------------------------

GroupOptimizer::GroupOptimizer(std::string name, std::vector<StateEntry> state)
    : Optimizer(name), groups_(std::make_unique<detail::Groups>(name, std::move(state))) {}

GroupOptimizer::~GroupOptimizer() = default;

std::vector<ParamGroup>& GroupOptimizer::param_groups() {
    return groups_->list();
}

void GroupOptimizer::add_group(std::vector<Tensor> params, Hyperparameters options) {
    groups_->add(std::move(params), std::move(options));
}

StateDict GroupOptimizer::state_dict() const {
    StateDict out;
    out.texts["config"] = name();
    groups_->save(out);
    save_extra(out);
    return out;
}

StagedLoad GroupOptimizer::stage_load(const StateDict& state) {
    StateReader in(state, name() + ".load_state_dict");
    in.expect_config(name());
    StagedLoad groups = groups_->stage(in);
    StagedLoad extra = stage_extra(in);
    in.reject_unread();
    return [groups = std::move(groups), extra = std::move(extra)]() mutable {
        groups.apply();
        extra.apply();
    };
}

}  // namespace descent::optim
