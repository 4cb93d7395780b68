#include "descent/optim/optimizer.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <set>

#include "descent/ops.hpp"
#include "update.hpp"

namespace descent::optim {
namespace {
Tensor scalar64(double v) {
    return scalar_tensor(v, {.dtype = Dtype::float64});
}

const Tensor& find(const StateDict& state, const std::string& key, std::string_view op) {
    const auto it = state.find(key);
    if (it == state.end()) throw Error(fmt::format("{}: the state has no entry '{}'", op, key));
    return it->second;
}

std::string group_key(std::size_t g, std::string_view what) {
    return fmt::format("param_groups.{}.{}", g, what);
}

std::string state_key(std::size_t g, std::size_t i, std::string_view what) {
    return fmt::format("state.{}.{}.{}", g, i, what);
}

/// The range a hyperparameter of this name must lie in, whichever algorithm has it.
struct Range {
    double low, high;  // low ≤ value < high
};
const std::map<std::string_view, Range>& ranges() {
    static const std::map<std::string_view, Range> table = {
        {"lr", {0, INFINITY}},
        {"eps", {0, INFINITY}},
        {"weight_decay", {0, INFINITY}},
        {"momentum", {0, INFINITY}},
        {"beta1", {0, 1}},
        {"beta2", {0, 1}},
        {"alpha", {0, INFINITY}},
        {"lr_decay", {0, INFINITY}},
        {"momentum_decay", {0, INFINITY}},
        {"initial_accumulator_value", {0, INFINITY}},
        {"final_lr", {0, INFINITY}},
        {"gamma", {0, 1}},
        {"eps_switch", {0, INFINITY}}};
    return table;
}
}  // namespace

double ParamGroup::get(std::string_view key) const {
    const auto it = options.find(key);
    if (it == options.end()) {
        throw Error(fmt::format("param group: no hyperparameter '{}'", key));
    }
    return it->second;
}

void ParamGroup::set(std::string_view key, double value) {
    const auto it = options.find(key);
    if (it == options.end()) {
        throw Error(fmt::format("param group: no hyperparameter '{}'", key));
    }
    it->second = value;
}

void Optimizer::zero_grad() {
    for (auto& group : param_groups()) {
        for (auto& p : group.params) p.set_grad({});
    }
}

void Optimizer::add_group(std::vector<Tensor> params, Hyperparameters options) {
    std::set<const TensorImpl*> seen;
    for (const auto& group : groups_) {
        for (const auto& p : group.params) seen.insert(p.impl().get());
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor& p = params[i];
        if (!p.defined() || !is_floating(p.dtype()) || !p.is_leaf()) {
            throw Error(
                fmt::format("{}: parameter {} of the new group must be a float32/float64 "
                            "leaf tensor",
                            name_, i));
        }
        if (!seen.insert(p.impl().get()).second) {
            throw Error(fmt::format("{}: parameter {} (shape {}) is already in a group", name_, i,
                                    shape_str(p.shape())));
        }
    }
    for (const auto& [key, value] : options) {
        const auto range = ranges().find(key);
        if (range != ranges().end() &&
            !(value >= range->second.low && value < range->second.high)) {
            throw Error(fmt::format("{}: {} must be in [{}, {}), got {}", name_, key,
                                    range->second.low, range->second.high, value));
        }
    }
    state_.emplace_back(params.size());
    groups_.push_back({std::move(params), std::move(options)});
}

StateDict Optimizer::state_dict() const {
    StateDict out;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const ParamGroup& group = groups_[g];
        out[group_key(g, "size")] =
            scalar_tensor(static_cast<double>(group.params.size()), {.dtype = Dtype::int64});
        for (const auto& [key, value] : group.options) out[group_key(g, key)] = scalar64(value);
        for (std::size_t i = 0; i < group.params.size(); ++i) {
            const ParamState& s = state_[g][i];
            out[state_key(g, i, "step")] =
                scalar_tensor(static_cast<double>(s.step), {.dtype = Dtype::int64});
            for (const auto& [key, t] : s.buffers) out[state_key(g, i, key)] = t.detach().clone();
            for (const auto& [key, v] : s.scalars) {
                out[state_key(g, i, "scalar." + key)] = scalar64(v);
            }
        }
    }
    save_extra(out);
    return out;
}

void Optimizer::load_state_dict(const StateDict& in) {
    const std::string op = name_ + ".load_state_dict";
    std::size_t groups_in = 0;
    while (in.contains(group_key(groups_in, "size"))) ++groups_in;
    if (groups_in != groups_.size()) {
        throw Error(fmt::format("{}: the state has {} parameter groups, this optimizer {}", op,
                                groups_in, groups_.size()));
    }
    std::vector<std::vector<ParamState>> restored(groups_.size());
    std::vector<Hyperparameters> options(groups_.size());
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const ParamGroup& group = groups_[g];
        const auto count = find(in, group_key(g, "size"), op).item<std::size_t>();
        if (count != group.params.size()) {
            throw Error(fmt::format("{}: group {} has {} parameters in the state, {} here", op, g,
                                    count, group.params.size()));
        }
        for (const auto& [key, value] : group.options) {
            options[g][key] = find(in, group_key(g, key), op).item();
        }
        restored[g].resize(count);
        for (std::size_t i = 0; i < count; ++i) {
            ParamState& s = restored[g][i];
            s.step = find(in, state_key(g, i, "step"), op).item<std::int64_t>();
            const std::string prefix = state_key(g, i, "");
            for (auto it = in.lower_bound(prefix); it != in.end() && it->first.starts_with(prefix);
                 ++it) {
                const std::string key = it->first.substr(prefix.size());
                if (key == "step") continue;
                const Tensor& t = it->second;
                const Tensor& p = group.params[i];
                if (key.starts_with("scalar.")) {
                    s.scalars[key.substr(7)] = t.item();
                } else if (t.shape() != p.shape() || t.dtype() != p.dtype()) {
                    throw Error(fmt::format("{}: {} is {} {} but parameter {} of group {} is {} {}",
                                            op, it->first, dtype_name(t.dtype()),
                                            shape_str(t.shape()), i, g, dtype_name(p.dtype()),
                                            shape_str(p.shape())));
                } else {
                    s.buffers[key] = t.detach().clone();
                }
            }
        }
    }
    load_extra(in);
    state_ = std::move(restored);
    for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g].options = std::move(options[g]);
}

namespace detail {
Tensor& buffer(ParamState& state, std::string_view name, const Tensor& like, double fill) {
    auto it = state.buffers.find(name);
    if (it == state.buffers.end()) {
        it = state.buffers.emplace(std::string(name), full_like(like, fill)).first;
    }
    return it->second;
}
}  // namespace detail

}  // namespace descent::optim
