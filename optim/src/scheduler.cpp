// The two drivers that write schedules into an optimizer's groups: LRScheduler (a function of
// the step count) and ReduceLROnPlateau (a function of a metric).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "descent/optim/schedule.hpp"

namespace descent::optim {
namespace {
/// The group key a momentum schedule writes: SGD's "momentum", else Adam-style "beta1".
std::string_view momentum_key(const ParamGroup& group) {
    if (group.has("momentum")) return "momentum";
    if (group.has("beta1")) return "beta1";
    throw Error("LRScheduler: a momentum schedule needs groups with 'momentum' or 'beta1'");
}

std::string indexed(std::string_view what, std::size_t g) {
    return fmt::format("scheduler.{}.{}", what, g);
}
}  // namespace

LRScheduler::LRScheduler(Optimizer& optimizer, Schedule lr, std::optional<Schedule> momentum)
    : LRScheduler(optimizer, std::vector<Schedule>{std::move(lr)},
                  momentum ? std::vector<Schedule>{std::move(*momentum)} : std::vector<Schedule>{},
                  true) {}

LRScheduler::LRScheduler(Optimizer& optimizer, std::vector<Schedule> lr,
                         std::vector<Schedule> momentum)
    : LRScheduler(optimizer, std::move(lr), std::move(momentum), false) {}

LRScheduler::LRScheduler(Optimizer& optimizer, std::vector<Schedule> lr,
                         std::vector<Schedule> momentum, bool shared)
    : optimizer_(optimizer, "LRScheduler", "the optimizer it schedules"),
      lr_(std::move(lr)),
      momentum_(std::move(momentum)),
      shared_(shared) {
    for (const auto& s : lr_) {
        if (!s) throw Error("LRScheduler: an lr schedule is empty");
    }
    for (const auto& s : momentum_) {
        if (!s) throw Error("LRScheduler: a momentum schedule is empty");
    }
    const std::size_t groups = shared_ ? 1 : optimizer.param_groups().size();
    if (lr_.size() != groups || (!momentum_.empty() && momentum_.size() != groups)) {
        throw Error(
            fmt::format("LRScheduler: {} lr schedules and {} momentum schedules for {} groups",
                        lr_.size(), momentum_.size(), optimizer.param_groups().size()));
    }
    apply(0);
}

void LRScheduler::step() {
    apply(t_ + 1);
}

LRScheduler::Values LRScheduler::values_at(std::int64_t t, const std::vector<double>& base_lr,
                                           const std::vector<double>& base_momentum) const {
    const auto& groups = optimizer_.get().param_groups();
    if (!shared_ && groups.size() != lr_.size()) {
        throw Error(
            fmt::format("LRScheduler: the optimizer has {} groups now but {} schedules "
                        "were given, one per group",
                        groups.size(), lr_.size()));
    }
    const std::size_t n = groups.size();
    Values v{std::vector<double>(n), std::vector<double>(n), std::vector<std::string>(n)};
    for (std::size_t g = 0; g < n; ++g) {
        const std::size_t s = shared_ ? 0 : g;
        const std::string op = fmt::format("LRScheduler: step {}, group {}: the schedule's", t, g);
        v.lr[g] = lr_[s](t, base_lr[g]);
        std::string_view momentum;
        if (!momentum_.empty()) {
            momentum = momentum_key(groups[g]);
            v.momentum[g] = momentum_[s](t, base_momentum[g]);
        }
        try {
            check_hyperparameter("lr", v.lr[g], op);
            if (!momentum.empty()) check_hyperparameter(momentum, v.momentum[g], op);
        } catch (const Error& e) {
            v.invalid[g] = fmt::format(
                "{} (the group keeps its values; a step that would use "
                "this one is refused)",
                e.what());
        }
    }
    return v;
}

void LRScheduler::write(const Values& v) {
    auto& groups = optimizer_.get().param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        groups[g].unusable = v.invalid[g];
        if (!v.invalid[g].empty()) continue;
        groups[g].set("lr", v.lr[g]);
        if (!momentum_.empty()) groups[g].set(momentum_key(groups[g]), v.momentum[g]);
    }
}

void LRScheduler::apply(std::int64_t t) {
    auto& groups = optimizer_.get().param_groups();
    for (std::size_t g = base_lr_.size(); g < groups.size(); ++g) {  // groups seen first now
        base_lr_.push_back(groups[g].lr());
        base_momentum_.push_back(momentum_.empty() ? 0.0 : groups[g].get(momentum_key(groups[g])));
    }
    write(values_at(t, base_lr_, base_momentum_));
    t_ = t;
}

std::vector<double> LRScheduler::last_lr() const {
    std::vector<double> lrs;
    for (const auto& group : optimizer_.get().param_groups()) lrs.push_back(group.lr());
    return lrs;
}

std::string LRScheduler::config() const {
    const auto list = [this](const std::vector<Schedule>& schedules) {
        std::vector<std::string> parts;
        for (const auto& s : schedules) parts.push_back(s.description());
        return shared_ ? parts.front() : fmt::format("[{}]", joined(parts, ", "));
    };
    if (momentum_.empty()) return describe("LRScheduler", {{"lr", list(lr_)}});
    return describe("LRScheduler", {{"lr", list(lr_)}, {"momentum", list(momentum_)}});
}

StateDict LRScheduler::state_dict() const {
    StateDict out{{"scheduler.t", int_tensor({t_}, {})}};
    out.texts["config"] = config();
    for (std::size_t g = 0; g < base_lr_.size(); ++g) {
        out.emplace_back(indexed("base_lr", g), scalar_tensor(base_lr_[g], {.dtype = float64}));
        out.emplace_back(indexed("base_momentum", g),
                         scalar_tensor(base_momentum_[g], {.dtype = float64}));
    }
    return out;
}

StagedLoad LRScheduler::stage_load(const StateDict& state) {
    StateReader in(state, "LRScheduler.load_state_dict");
    in.expect_config(config());
    const std::int64_t t = in.count("scheduler.t");
    const std::size_t groups = optimizer_.get().param_groups().size();
    std::vector<double> base_lr, base_momentum;
    for (std::size_t g = 0; in.has(indexed("base_lr", g)); ++g) {
        base_lr.push_back(in.real(indexed("base_lr", g), at_least(0)));
        base_momentum.push_back(in.real(indexed("base_momentum", g), at_least(0)));
    }
    in.reject_unread();
    if (base_lr.size() != groups) {
        throw Error(fmt::format("{}: the state has base values for {} groups, the optimizer {}",
                                in.op(), base_lr.size(), groups));
    }
    const Values values = values_at(t, base_lr, base_momentum);
    return
        [this, t, base_lr = std::move(base_lr), base_momentum = std::move(base_momentum), values] {
            base_lr_ = base_lr;
            base_momentum_ = base_momentum;
            write(values);
            t_ = t;
        };
}

// --- ReduceLROnPlateau ------------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options)
    : optimizer_(optimizer, "ReduceLROnPlateau", "the optimizer it schedules"),
      options_(std::move(options)),
      best_(options_.mode == PlateauMode::min ? INFINITY : -INFINITY) {
    constexpr std::string_view op = "ReduceLROnPlateau";
    check_option(options_.factor, {0, 1, false, true}, op, "factor");
    check_count(options_.patience, 0, op, "patience");
    check_option(options_.threshold, at_least(0), op, "threshold");
    check_count(options_.cooldown, 0, op, "cooldown");
    check_option(options_.min_lr, at_least(0), op, "min_lr");
    for (const double m : options_.min_lrs) check_option(m, at_least(0), op, "min_lrs");
    check_option(options_.eps, at_least(0), op, "eps");
    floor(0, optimizer.param_groups().size());
}

double ReduceLROnPlateau::floor(std::size_t group, std::size_t groups) const {
    if (options_.min_lrs.empty()) return options_.min_lr;
    if (options_.min_lrs.size() != groups) {
        throw Error(fmt::format("ReduceLROnPlateau: {} min_lrs for {} groups",
                                options_.min_lrs.size(), groups));
    }
    return options_.min_lrs[group];
}

bool ReduceLROnPlateau::better(double a) const {
    const double th = options_.threshold;
    const bool rel = options_.threshold_mode == ThresholdMode::rel;
    if (options_.mode == PlateauMode::min) return rel ? a < best_ * (1 - th) : a < best_ - th;
    return rel ? a > best_ * (1 + th) : a > best_ + th;
}

void ReduceLROnPlateau::step(double metric) {
    auto& groups = optimizer_.get().param_groups();
    floor(0, groups.size());  // min_lrs still one per group
    ++steps_;
    if (better(metric)) {
        best_ = metric;
        bad_steps_ = 0;
    } else {
        ++bad_steps_;
    }
    if (cooldown_left_ > 0) {
        --cooldown_left_;
        bad_steps_ = 0;
    }
    if (bad_steps_ > options_.patience) {
        for (std::size_t g = 0; g < groups.size(); ++g) {
            const double old_lr = groups[g].lr();
            const double new_lr = std::max(old_lr * options_.factor, floor(g, groups.size()));
            if (old_lr - new_lr > options_.eps) groups[g].set("lr", new_lr);
        }
        cooldown_left_ = options_.cooldown;
        bad_steps_ = 0;
    }
}

std::vector<double> ReduceLROnPlateau::last_lr() const {
    std::vector<double> lrs;
    for (const auto& group : optimizer_.get().param_groups()) lrs.push_back(group.lr());
    return lrs;
}

std::string ReduceLROnPlateau::config() const {
    const PlateauOptions& o = options_;
    return describe("ReduceLROnPlateau",
                    {{"mode", o.mode == PlateauMode::min ? "min" : "max"},
                     {"factor", o.factor},
                     {"patience", o.patience},
                     {"threshold", o.threshold},
                     {"threshold_mode", o.threshold_mode == ThresholdMode::rel ? "rel" : "abs"},
                     {"cooldown", o.cooldown},
                     {"min_lr", o.min_lr},
                     {"min_lrs", o.min_lrs},
                     {"eps", o.eps}});
}

StateDict ReduceLROnPlateau::state_dict() const {
    StateDict out{{"plateau.best", scalar_tensor(best_, {.dtype = float64})},
                  {"plateau.bad_steps", int_tensor({bad_steps_}, {})},
                  {"plateau.cooldown_left", int_tensor({cooldown_left_}, {})},
                  {"plateau.steps", int_tensor({steps_}, {})}};
    out.texts["config"] = config();
    return out;
}

StagedLoad ReduceLROnPlateau::stage_load(const StateDict& state) {
    StateReader in(state, "ReduceLROnPlateau.load_state_dict");
    in.expect_config(config());
    // the best metric so far: ±inf before the first, any metric but NaN after
    const double best = in.real("plateau.best", closed(-inf, inf));
    const std::int64_t bad = in.count("plateau.bad_steps", 0, options_.patience);
    const std::int64_t cooldown = in.count("plateau.cooldown_left", 0, options_.cooldown);
    const std::int64_t steps = in.count("plateau.steps");
    in.reject_unread();
    return [this, best, bad, cooldown, steps] {
        best_ = best;
        bad_steps_ = bad;
        cooldown_left_ = cooldown;
        steps_ = steps;
    };
}

}  // namespace descent::optim
