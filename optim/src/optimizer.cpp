#include "descent/optim/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <exception>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "descent/ops.hpp"
#include "state_io.hpp"
#include "update.hpp"

namespace descent::optim {
namespace {
std::string group_key(std::size_t g, std::string_view what) {
    return fmt::format("param_groups.{}.{}", g, what);
}

std::string state_key(std::size_t g, std::size_t i, std::string_view what) {
    return fmt::format("state.{}.{}.{}", g, i, what);
}

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

bool valid_hyperparameter(std::string_view name, double value) {
    const auto it = rules().find(name);
    if (it == rules().end()) return true;
    const Rule& rule = it->second;
    return rule.range.contains(value) && (!rule.flag || value == 0.0 || value == 1.0);
}
}  // namespace

void check_hyperparameter(std::string_view name, double value, std::string_view op) {
    if (valid_hyperparameter(name, value)) return;
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

Optimizer& OptimizerRef::get() const {
    if (alive_.expired()) {
        throw Error(fmt::format("{}: the optimizer it was given has been destroyed", holder_));
    }
    return *optimizer_;
}

// --- GroupOptimizer: groups, state and the checks of the update driver -------------------

void GroupOptimizer::add_group(std::vector<Tensor> params, Hyperparameters options) {
    for (const auto& [key, value] : options) check_hyperparameter(key, value, name());
    if (required_.empty()) {
        for (const auto& [key, value] : options) required_.push_back(key);
    }
    groups_.push_back({std::move(params), std::move(options)});
    try {
        sync_state();
    } catch (...) {
        groups_.pop_back();
        throw;
    }
}

void GroupOptimizer::sync_state() const {
    bool same = seen_.size() == groups_.size();
    for (std::size_t g = 0; same && g < groups_.size(); ++g) {
        const auto& params = groups_[g].params;
        same = seen_[g].size() == params.size();
        for (std::size_t i = 0; same && i < params.size(); ++i)
            same = seen_[g][i].is_same(params[i]);
    }
    if (same) return;

    std::unordered_set<const TensorImpl*> ids;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        for (std::size_t i = 0; i < groups_[g].params.size(); ++i) {
            const Tensor& p = groups_[g].params[i];
            if (!p.defined() || !is_floating(p.dtype()) || !p.is_leaf()) {
                throw Error(
                    fmt::format("{}: parameter {} of group {} must be a float32/float64 "
                                "leaf tensor",
                                name(), i, g));
            }
            if (!ids.insert(p.impl().get()).second) {
                throw Error(
                    fmt::format("{}: parameter {} of group {} (shape {}) is already in a "
                                "group",
                                name(), i, g, shape_str(p.shape())));
            }
        }
    }
    // Every parameter keeps its state wherever it moved; new ones start empty.
    std::unordered_map<const TensorImpl*, ParamState> previous;
    for (std::size_t g = 0; g < seen_.size(); ++g) {
        for (std::size_t i = 0; i < seen_[g].size(); ++i) {
            previous.emplace(seen_[g][i].impl().get(), std::move(state_[g][i]));
        }
    }
    std::vector<std::vector<ParamState>> state(groups_.size());
    std::vector<std::vector<Tensor>> seen(groups_.size());
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        for (const Tensor& p : groups_[g].params) {
            const auto it = previous.find(p.impl().get());
            state[g].push_back(it != previous.end() ? std::move(it->second) : ParamState{});
            seen[g].push_back(p);
        }
    }
    state_ = std::move(state);
    seen_ = std::move(seen);
}

void GroupOptimizer::check_step() {
    prepare_step();
}

namespace {
/// True when `options` holds exactly the keys and values (bit for bit) of `checked`.
bool holds_exactly(const Hyperparameters& options,
                   const std::vector<std::pair<std::string, double>>& checked) {
    if (options.size() != checked.size()) return false;
    auto it = checked.begin();
    for (const auto& [key, value] : options) {
        if (key != it->first ||
            std::bit_cast<std::uint64_t>(value) != std::bit_cast<std::uint64_t>(it->second)) {
            return false;
        }
        ++it;
    }
    return true;
}
}  // namespace

std::vector<GroupOptimizer::Target> GroupOptimizer::prepare_step() {
    sync_state();
    if (checked_.size() != groups_.size()) checked_.assign(groups_.size(), std::nullopt);
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        if (checked_[g] && holds_exactly(groups_[g].options, *checked_[g])) continue;
        checked_[g].reset();
        for (const auto& key : required_) {
            if (!groups_[g].has(key)) {
                throw Error(fmt::format("{}: group {} has no hyperparameter '{}'", name(), g, key));
            }
        }
        for (const auto& [key, value] : groups_[g].options) {
            if (!valid_hyperparameter(key, value)) {
                check_hyperparameter(key, value, fmt::format("{}: group {}", name(), g));
            }
        }
        checked_[g].emplace(groups_[g].options.begin(), groups_[g].options.end());
    }
    std::vector<Target> targets;
    std::size_t params = 0;
    for (const ParamGroup& group : groups_) params += group.params.size();
    targets.reserve(params);
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        for (std::size_t i = 0; i < groups_[g].params.size(); ++i) {
            Tensor& p = groups_[g].params[i];
            const Tensor grad = p.grad();
            if (!grad.defined()) continue;
            if (grad.shape() != p.shape() || grad.dtype() != p.dtype()) {
                throw Error(
                    fmt::format("{}: the gradient of parameter {} of group {} is {} {} "
                                "but the parameter is {} {}",
                                name(), i, g, dtype_name(grad.dtype()), shape_str(grad.shape()),
                                dtype_name(p.dtype()), shape_str(p.shape())));
            }
            targets.push_back({&groups_[g], &state_[g][i], &p});
        }
    }
    // A parameter converted in place (Module::to) takes its buffers along.
    const NoGradGuard no_grad;
    for (const Target& t : targets) {
        for (auto& [key, buffer] : t.state->buffers) {
            if (buffer.dtype() != t.param->dtype()) buffer = buffer.to(t.param->dtype());
        }
    }
    return targets;
}

StateDict GroupOptimizer::state_dict() const {
    sync_state();
    StateDict out;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const ParamGroup& group = groups_[g];
        out[group_key(g, "size")] =
            detail::count_tensor(static_cast<std::int64_t>(group.params.size()));
        for (const auto& [key, value] : group.options) {
            out[group_key(g, key)] = detail::real_tensor(value);
        }
        for (std::size_t i = 0; i < group.params.size(); ++i) {
            const ParamState& s = state_[g][i];
            out[state_key(g, i, "step")] = detail::count_tensor(s.step);
            for (const auto& [key, t] : s.buffers) out[state_key(g, i, key)] = t.detach().clone();
            for (const auto& [key, v] : s.scalars) {
                out[state_key(g, i, "scalar." + key)] = detail::real_tensor(v);
            }
        }
    }
    save_extra(out);
    return out;
}

Optimizer::StagedLoad GroupOptimizer::stage_load(const StateDict& in) {
    sync_state();
    detail::StateReader reader(in, name() + ".load_state_dict");
    std::size_t groups_in = 0;
    while (reader.has(group_key(groups_in, "size"))) ++groups_in;
    if (groups_in != groups_.size()) {
        throw Error(fmt::format("{}: the state has {} parameter groups, this optimizer {}",
                                reader.op(), groups_in, groups_.size()));
    }
    std::vector<Hyperparameters> options(groups_.size());
    std::vector<std::vector<ParamState>> restored(groups_.size());
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const ParamGroup& group = groups_[g];
        const auto count = static_cast<std::size_t>(reader.count(group_key(g, "size")));
        if (count != group.params.size()) {
            throw Error(fmt::format("{}: group {} has {} parameters in the state, {} here",
                                    reader.op(), g, count, group.params.size()));
        }
        for (const auto& [key, value] : group.options) {
            options[g][key] = reader.hyperparameter(group_key(g, key), key);
        }
        restored[g].resize(count);
        for (std::size_t i = 0; i < count; ++i) {
            ParamState& s = restored[g][i];
            s.step = reader.count(state_key(g, i, "step"));
            const std::string prefix = state_key(g, i, "");
            for (const std::string& key : reader.unread(prefix)) {
                const std::string name = key.substr(prefix.size());
                if (name.starts_with("scalar.")) {
                    s.scalars[name.substr(7)] = reader.real(key);
                } else {
                    s.buffers[name] = reader.tensor_like(key, group.params[i]);
                }
            }
        }
    }
    reader.reject_unread({"param_groups.", "state."});
    StagedLoad extra = stage_extra(in);
    return [this, options = std::move(options), restored = std::move(restored),
            extra = std::move(extra)]() mutable {
        state_ = std::move(restored);
        for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g].options = std::move(options[g]);
        extra();
    };
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

namespace {
/// Parameters below kParallelUpdate elements are dealt out to the threads, whole parameters to
/// each, when they hold at least this many elements together: an Adam update of 2¹⁶ floats
/// takes about 30 µs, several fork/joins' worth.
constexpr std::int64_t kSpreadUpdates = std::int64_t{1} << 16;

/// True when no two parameters or gradients of the targets overlap in memory (two leaves may
/// share storage, a gradient may be another parameter): then they can be updated at once,
/// in any order.
template <class Target>
bool disjoint(const std::vector<Target>& targets) {
    std::vector<std::pair<std::uintptr_t, std::uintptr_t>> ranges;
    ranges.reserve(2 * targets.size());
    for (const Target& t : targets) {
        for (const Tensor& x : {*t.param, t.param->grad()}) {
            const auto begin = reinterpret_cast<std::uintptr_t>(x.raw_data());
            ranges.emplace_back(begin, begin + x.numel() * dtype_size(x.dtype()));
        }
    }
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        if (ranges[i].first < ranges[i - 1].second) return false;
    }
    return true;
}
}  // namespace

void GroupOptimizer::update_targets(const std::vector<Target>& targets, Spread spread,
                                    const std::function<void(const Target&)>& update_one) {
    // A large parameter is split over the threads by its own update (for_ranges); the small
    // ones, when enough, are dealt out to the threads in shares of about equal size.
    std::size_t small_count = 0;
    std::int64_t small_elements = 0;
    for (const Target& t : targets) {
        if (t.param->numel() < detail::kParallelUpdate) {
            ++small_count;
            small_elements += t.param->numel();
        }
    }
    const bool worth = small_count > 1 && small_elements >= kSpreadUpdates;
    const int threads =
        spread == Spread::threads && worth
            ? static_cast<int>(std::min<std::size_t>(get_num_threads(), small_count))
            : 1;
    if (threads <= 1 || !disjoint(targets)) {
        for (const Target& t : targets) update_one(t);
        return;
    }
    // The small parameters in order; parameter i goes to the thread whose share of their
    // elements holds its first element.
    std::vector<const Target*> small;
    std::vector<std::int64_t> first{0};
    small.reserve(small_count);
    first.reserve(small_count + 1);
    for (const Target& t : targets) {
        if (t.param->numel() >= detail::kParallelUpdate) {
            update_one(t);
        } else {
            small.push_back(&t);
            first.push_back(first.back() + t.param->numel());
        }
    }
    std::exception_ptr failure;
#pragma omp parallel num_threads(threads)
    {
        const NoGradGuard no_grad;  // grad mode is per thread
        const std::int64_t k = omp_get_num_threads(), me = omp_get_thread_num();
        try {
            for (std::size_t i = 0; i < small.size(); ++i) {
                if (first[i] * k / small_elements == me) update_one(*small[i]);
            }
        } catch (...) {
#pragma omp critical(descent_update_failure)
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
}

}  // namespace descent::optim
