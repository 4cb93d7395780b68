// The groups and per-parameter state of a GroupOptimizer (groups.hpp).

#include "groups.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <exception>
#include <unordered_map>
#include <unordered_set>

#include "descent/grad_mode.hpp"
#include "descent/threads.hpp"
#include "driver.hpp"

namespace descent::optim::detail {
namespace {
std::string group_key(std::size_t g, std::string_view what) {
    return fmt::format("param_groups.{}.{}", g, what);
}

std::string state_key(std::size_t g, std::size_t i, std::string_view what) {
    return fmt::format("state.{}.{}.{}", g, i, what);
}

constexpr std::string_view kScalar = "scalar.";

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

/// Parameters below kSplitUpdate elements are dealt out to the threads, whole parameters to
/// each, when they hold at least this many elements together: an Adam update of 2¹⁶ floats
/// takes about 30 µs, several fork/joins' worth.
constexpr std::int64_t kSpreadUpdates = std::int64_t{1} << 16;

/// True when no two parameters or gradients of the targets overlap in memory (two leaves may
/// share storage, a gradient may be another parameter): then they can be updated at once,
/// in any order.
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

void Groups::add(std::vector<Tensor> params, Hyperparameters options) {
    for (const auto& [key, value] : options) check_hyperparameter(key, value, name_);
    if (required_.empty()) {
        for (const auto& [key, value] : options) required_.push_back(key);
    }
    groups_.push_back({std::move(params), std::move(options)});
    try {
        sync();
    } catch (...) {
        groups_.pop_back();
        throw;
    }
}

void Groups::sync() const {
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
                                name_, i, g));
            }
            if (!ids.insert(p.impl().get()).second) {
                throw Error(
                    fmt::format("{}: parameter {} of group {} (shape {}) is already in a "
                                "group",
                                name_, i, g, shape_str(p.shape())));
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

std::vector<Target> Groups::prepare_step() {
    sync();
    if (checked_.size() != groups_.size()) checked_.assign(groups_.size(), std::nullopt);
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        if (checked_[g] && holds_exactly(groups_[g].options, *checked_[g])) continue;
        checked_[g].reset();
        for (const auto& key : required_) {
            if (!groups_[g].has(key)) {
                throw Error(fmt::format("{}: group {} has no hyperparameter '{}'", name_, g, key));
            }
        }
        for (const auto& [key, value] : groups_[g].options) {
            if (!valid_hyperparameter(key, value)) {
                check_hyperparameter(key, value, fmt::format("{}: group {}", name_, g));
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
                                name_, i, g, dtype_name(grad.dtype()), shape_str(grad.shape()),
                                dtype_name(p.dtype()), shape_str(p.shape())));
            }
            if (!groups_[g].unusable.empty()) throw Error(groups_[g].unusable);
            targets.push_back({g, &state_[g][i], &p});
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

void Groups::for_each(const std::vector<Target>& targets,
                      const std::function<void(const Target&)>& update) {
    // A large parameter is split over the threads by its own update (driver.hpp); the small
    // ones, when enough, are dealt out to the threads in shares of about equal size.
    std::size_t small_count = 0;
    std::int64_t small_elements = 0;
    for (const Target& t : targets) {
        if (t.param->numel() < kSplitUpdate) {
            ++small_count;
            small_elements += t.param->numel();
        }
    }
    const bool worth = small_count > 1 && small_elements >= kSpreadUpdates;
    const int threads =
        worth ? static_cast<int>(std::min<std::size_t>(get_num_threads(), small_count)) : 1;
    if (threads <= 1 || !disjoint(targets)) {
        for (const Target& t : targets) update(t);
        return;
    }
    // The small parameters in order; parameter i goes to the thread whose share of their
    // elements holds its first element.
    std::vector<const Target*> small;
    std::vector<std::int64_t> first{0};
    small.reserve(small_count);
    first.reserve(small_count + 1);
    for (const Target& t : targets) {
        if (t.param->numel() >= kSplitUpdate) {
            update(t);
        } else {
            small.push_back(&t);
            first.push_back(first.back() + t.param->numel());
        }
    }
    // share `me` of k: the parameters whose first element falls in it (parallel_for rethrows
    // an update's exception after the others ran)
    const std::int64_t k = threads;
    parallel_for(k, threads, [&](std::int64_t me, int) {
        const NoGradGuard no_grad;  // grad mode is per thread
        for (std::size_t i = 0; i < small.size(); ++i) {
            if (first[i] * k / small_elements == me) update(*small[i]);
        }
    });
}

void Groups::save(StateDict& out) const {
    sync();
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const ParamGroup& group = groups_[g];
        out.emplace_back(group_key(g, "size"),
                         int_tensor({static_cast<std::int64_t>(group.params.size())}, {}));
        for (const auto& [key, value] : group.options) {
            out.emplace_back(group_key(g, key), scalar_tensor(value, {.dtype = Dtype::float64}));
        }
        for (std::size_t i = 0; i < group.params.size(); ++i) {
            const ParamState& s = state_[g][i];
            out.emplace_back(state_key(g, i, "step"), int_tensor({s.step}, {}));
            for (const auto& [key, t] : s.buffers) {
                out.emplace_back(state_key(g, i, key), t.detach().clone());
            }
            for (const auto& [key, v] : s.scalars) {
                out.emplace_back(state_key(g, i, std::string(kScalar) + key),
                                 scalar_tensor(v, {.dtype = Dtype::float64}));
            }
        }
    }
}

const StateEntry& Groups::entry(const std::string& name, bool scalar, const std::string& key,
                                const std::string& op) const {
    for (const StateEntry& e : entries_) {
        if (e.name == name && e.scalar == scalar) return e;
    }
    throw Error(fmt::format("{}: unexpected entry '{}': {} keeps no {} '{}' for a parameter", op,
                            key, name_, scalar ? "scalar" : "buffer", name));
}

StagedLoad Groups::stage(StateReader& in) {
    sync();
    std::size_t groups_in = 0;
    while (in.has(group_key(groups_in, "size"))) ++groups_in;
    if (groups_in != groups_.size()) {
        throw Error(fmt::format("{}: the state has {} parameter groups, this optimizer {}", in.op(),
                                groups_in, groups_.size()));
    }
    std::vector<Hyperparameters> options(groups_.size());
    std::vector<std::vector<ParamState>> restored(groups_.size());
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const ParamGroup& group = groups_[g];
        const auto count = static_cast<std::size_t>(in.count(group_key(g, "size")));
        if (count != group.params.size()) {
            throw Error(fmt::format("{}: group {} has {} parameters in the state, {} here", in.op(),
                                    g, count, group.params.size()));
        }
        for (const auto& [key, value] : group.options) {
            const double v = in.real(group_key(g, key), closed(-inf, inf));
            check_hyperparameter(key, v, in.op());
            options[g][key] = v;
        }
        restored[g].resize(count);
        for (std::size_t i = 0; i < count; ++i) {
            ParamState& s = restored[g][i];
            s.step = in.count(state_key(g, i, "step"));
            const std::string prefix = state_key(g, i, "");
            for (const std::string& key : in.unread(prefix)) {
                const std::string name = key.substr(prefix.size());
                if (name.starts_with(kScalar)) {
                    const std::string scalar = name.substr(kScalar.size());
                    s.scalars[scalar] = in.real(key, entry(scalar, true, key, in.op()).range);
                } else {
                    const Tensor& p = group.params[i];
                    s.buffers[name] = in.floats(key, p.shape(), p.dtype(),
                                                entry(name, false, key, in.op()).range);
                }
            }
        }
    }
    return [this, options = std::move(options), restored = std::move(restored)]() mutable {
        state_ = std::move(restored);
        for (std::size_t g = 0; g < groups_.size(); ++g) groups_[g].options = std::move(options[g]);
    };
}

void for_ranges(std::int64_t n, std::size_t sums, RangeUpdate update, const void* context,
                double* total) {
    const int threads = n >= kSplitUpdate ? get_num_threads() : 1;
    if (sums == 0) {
        if (threads <= 1) {
            update(context, 0, n, total);
            return;
        }
        parallel_for(threads, threads, [&](std::int64_t t, int) {
            update(context, n * t / threads, n * (t + 1) / threads, nullptr);
        });
        return;
    }
    const std::int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
    std::vector<double> parts(static_cast<std::size_t>(chunks) * sums);
    parallel_for(chunks, threads, [&](std::int64_t c, int) {
        update(context, c * kSumChunk, std::min(n, (c + 1) * kSumChunk),
               parts.data() + static_cast<std::size_t>(c) * sums);
    });
    for (std::size_t part = 0; part < parts.size(); part += sums) {
        for (std::size_t s = 0; s < sums; ++s) total[s] += parts[part + s];
    }
}

}  // namespace descent::optim::detail
