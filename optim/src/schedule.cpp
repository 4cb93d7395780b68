#include "descent/optim/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "descent/ops.hpp"

namespace descent::optim {
namespace {
void require(bool ok, std::string_view what) {
    if (!ok) throw Error(fmt::format("schedule: {}", what));
}

double cos_anneal(double start, double end, double pct) {
    return end + (start - end) / 2 * (std::cos(std::numbers::pi * pct) + 1);
}

/// Where in a cycle of CyclicLR step t falls: (cycle number, scale in [0, 1]).
std::pair<double, double> cycle_position(const CyclicOptions& o, std::int64_t t) {
    const double up = static_cast<double>(o.step_size_up);
    const double down = static_cast<double>(o.step_size_down.value_or(o.step_size_up));
    const double total = up + down, ratio = up / total;
    const double cycle = std::floor(1 + static_cast<double>(t) / total);
    const double x = 1 + static_cast<double>(t) / total - cycle;
    return {cycle, x <= ratio ? x / ratio : (x - 1) / (ratio - 1)};
}

double cycle_amplitude(const CyclicOptions& o, std::int64_t t, double cycle) {
    switch (o.mode) {
        case CyclicMode::triangular:
            return 1.0;
        case CyclicMode::triangular2:
            return 1 / std::pow(2.0, cycle - 1);
        case CyclicMode::exp_range:
            return std::pow(o.gamma, static_cast<double>(t));
    }
    return 1.0;
}

struct Phase {
    double end_step, start_lr, end_lr, start_momentum, end_momentum;
};

std::vector<Phase> one_cycle_phases(const OneCycleOptions& o) {
    const double initial = o.max_lr / o.div_factor, min_lr = initial / o.final_div_factor;
    const double total = static_cast<double>(o.total_steps), up = o.pct_start * total;
    if (o.three_phase) {
        return {{up - 1, initial, o.max_lr, o.max_momentum, o.base_momentum},
                {2 * up - 2, o.max_lr, initial, o.base_momentum, o.max_momentum},
                {total - 1, initial, min_lr, o.max_momentum, o.max_momentum}};
    }
    return {{up - 1, initial, o.max_lr, o.max_momentum, o.base_momentum},
            {total - 1, o.max_lr, min_lr, o.base_momentum, o.max_momentum}};
}

/// OneCycleLR at step t: `pick` chooses the lr or the momentum ends of a phase.
double one_cycle_at(const OneCycleOptions& o, std::int64_t t, bool momentum) {
    if (t > o.total_steps) {
        throw Error(fmt::format("one_cycle: step {} is past total_steps {}", t, o.total_steps));
    }
    const auto phases = one_cycle_phases(o);
    double start = 0;
    for (std::size_t i = 0; i < phases.size(); ++i) {
        const Phase& ph = phases[i];
        if (static_cast<double>(t) <= ph.end_step || i + 1 == phases.size()) {
            const double pct = (static_cast<double>(t) - start) / (ph.end_step - start);
            const double a = momentum ? ph.start_momentum : ph.start_lr;
            const double b = momentum ? ph.end_momentum : ph.end_lr;
            return o.anneal == Anneal::cos ? cos_anneal(a, b, pct) : (b - a) * pct + a;
        }
        start = ph.end_step;
    }
    return 0.0;  // unreachable: the last phase always answers
}
}  // namespace

Schedule constant() {
    return [](std::int64_t, double base) { return base; };
}

Schedule lambda(std::function<double(std::int64_t)> factor) {
    return [factor = std::move(factor)](std::int64_t t, double base) { return base * factor(t); };
}

Schedule step_decay(std::int64_t step_size, double gamma) {
    require(step_size > 0, "step_decay needs step_size > 0");
    return [=](std::int64_t t, double base) {
        return base * std::pow(gamma, static_cast<double>(t / step_size));
    };
}

Schedule multistep(std::vector<std::int64_t> milestones, double gamma) {
    std::sort(milestones.begin(), milestones.end());
    return [milestones = std::move(milestones), gamma](std::int64_t t, double base) {
        const auto passed =
            std::upper_bound(milestones.begin(), milestones.end(), t) - milestones.begin();
        return base * std::pow(gamma, static_cast<double>(passed));
    };
}

Schedule exponential(double gamma) {
    return
        [=](std::int64_t t, double base) { return base * std::pow(gamma, static_cast<double>(t)); };
}

Schedule inverse_sqrt() {
    return [](std::int64_t t, double base) { return base / std::sqrt(static_cast<double>(t) + 1); };
}

Schedule polynomial(std::int64_t total_iters, double power) {
    require(total_iters > 0, "polynomial needs total_iters > 0");
    return [=](std::int64_t t, double base) {
        const double done =
            static_cast<double>(std::min(t, total_iters)) / static_cast<double>(total_iters);
        return base * std::pow(1.0 - done, power);
    };
}

Schedule cosine(std::int64_t t_max, double eta_min) {
    require(t_max > 0, "cosine needs T_max > 0");
    return [=](std::int64_t t, double base) {
        return eta_min + (base - eta_min) *
                             (1 + std::cos(std::numbers::pi * static_cast<double>(t) /
                                           static_cast<double>(t_max))) /
                             2;
    };
}

Schedule cosine_warm_restarts(std::int64_t t_0, std::int64_t t_mult, double eta_min) {
    require(t_0 > 0 && t_mult >= 1, "cosine_warm_restarts needs T_0 > 0 and T_mult ≥ 1");
    return [=](std::int64_t t, double base) {
        std::int64_t period = t_0, into = t;  // T_i and T_cur
        while (into >= period) {
            into -= period;
            period *= t_mult;
        }
        return eta_min + (base - eta_min) *
                             (1 + std::cos(std::numbers::pi * static_cast<double>(into) /
                                           static_cast<double>(period))) /
                             2;
    };
}

Schedule linear(double start_factor, double end_factor, std::int64_t total_iters) {
    require(total_iters > 0, "linear needs total_iters > 0");
    return [=](std::int64_t t, double base) {
        const double done =
            static_cast<double>(std::min(t, total_iters)) / static_cast<double>(total_iters);
        return base * (start_factor + (end_factor - start_factor) * done);
    };
}

Schedule constant_factor(double factor, std::int64_t total_iters) {
    return [=](std::int64_t t, double base) { return t < total_iters ? base * factor : base; };
}

Schedule sequential(std::vector<Schedule> schedules, std::vector<std::int64_t> milestones) {
    require(!schedules.empty() && milestones.size() + 1 == schedules.size() &&
                std::is_sorted(milestones.begin(), milestones.end()),
            "sequential needs one more schedule than milestones, milestones ascending");
    return [schedules = std::move(schedules), milestones = std::move(milestones)](std::int64_t t,
                                                                                  double base) {
        const auto i = static_cast<std::size_t>(
            std::upper_bound(milestones.begin(), milestones.end(), t) - milestones.begin());
        return schedules[i](i == 0 ? t : t - milestones[i - 1], base);
    };
}

Schedule warmup(Schedule after, std::int64_t steps, double start_factor) {
    return sequential({linear(start_factor, 1.0, steps), std::move(after)}, {steps});
}

Schedule constant_warmup(Schedule after, std::int64_t steps, double factor) {
    return sequential({constant_factor(factor, steps), std::move(after)}, {steps});
}

Schedule chain(Schedule inner, Schedule outer) {
    return [inner = std::move(inner), outer = std::move(outer)](std::int64_t t, double base) {
        return outer(t, inner(t, base));
    };
}

Schedule cyclic(CyclicOptions o) {
    require(o.step_size_up > 0 && o.step_size_down.value_or(1) > 0,
            "cyclic needs positive step sizes");
    return [o](std::int64_t t, double) {
        const auto [cycle, scale] = cycle_position(o, t);
        return o.base_lr + (o.max_lr - o.base_lr) * scale * cycle_amplitude(o, t, cycle);
    };
}

Schedule cyclic_momentum(CyclicOptions o) {
    return [o](std::int64_t t, double) {
        const auto [cycle, scale] = cycle_position(o, t);
        return o.max_momentum -
               (o.max_momentum - o.base_momentum) * scale * cycle_amplitude(o, t, cycle);
    };
}

Schedule one_cycle(OneCycleOptions o) {
    require(o.total_steps > 0 && o.pct_start > 0 && o.pct_start < 1,
            "one_cycle needs total_steps > 0 and pct_start in (0, 1)");
    return [o](std::int64_t t, double) { return one_cycle_at(o, t, false); };
}

Schedule one_cycle_momentum(OneCycleOptions o) {
    return [o](std::int64_t t, double) { return one_cycle_at(o, t, true); };
}

// --- the driver -------------------------------------------------------------------------

namespace {
/// The group key a momentum schedule writes: SGD's "momentum", else Adam-style "beta1".
std::string_view momentum_key(const ParamGroup& group) {
    if (group.has("momentum")) return "momentum";
    if (group.has("beta1")) return "beta1";
    throw Error("LRScheduler: a momentum schedule needs groups with 'momentum' or 'beta1'");
}
}  // namespace

LRScheduler::LRScheduler(Optimizer& optimizer, Schedule lr, std::optional<Schedule> momentum)
    : LRScheduler(optimizer, std::vector<Schedule>(optimizer.param_groups().size(), lr),
                  momentum ? std::vector<Schedule>(optimizer.param_groups().size(), *momentum)
                           : std::vector<Schedule>{}) {}

LRScheduler::LRScheduler(Optimizer& optimizer, std::vector<Schedule> lr,
                         std::vector<Schedule> momentum)
    : optimizer_(optimizer), lr_(std::move(lr)), momentum_(std::move(momentum)) {
    const auto& groups = optimizer_.param_groups();
    if (lr_.size() != groups.size() || (!momentum_.empty() && momentum_.size() != groups.size())) {
        throw Error(
            fmt::format("LRScheduler: {} lr schedules and {} momentum schedules for {} groups",
                        lr_.size(), momentum_.size(), groups.size()));
    }
    for (const auto& group : groups) {
        base_lr_.push_back(group.lr());
        base_momentum_.push_back(momentum_.empty() ? 0.0 : group.get(momentum_key(group)));
    }
    apply();
}

void LRScheduler::step() {
    ++t_;
    apply();
}

void LRScheduler::apply() {
    auto& groups = optimizer_.param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        groups[g].set("lr", lr_[g](t_, base_lr_[g]));
        if (!momentum_.empty()) {
            groups[g].set(momentum_key(groups[g]), momentum_[g](t_, base_momentum_[g]));
        }
    }
}

std::vector<double> LRScheduler::last_lr() const {
    std::vector<double> lrs;
    for (const auto& group : optimizer_.param_groups()) lrs.push_back(group.lr());
    return lrs;
}

StateDict LRScheduler::state_dict() const {
    return {{"scheduler.t", scalar_tensor(static_cast<double>(t_), {.dtype = Dtype::int64})}};
}

void LRScheduler::load_state_dict(const StateDict& state) {
    const auto it = state.find("scheduler.t");
    if (it == state.end()) throw Error("LRScheduler.load_state_dict: no entry scheduler.t");
    t_ = it->second.item<std::int64_t>();
    apply();
}

// --- ReduceLROnPlateau ------------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options)
    : optimizer_(optimizer),
      options_(options),
      best_(options.mode == PlateauMode::min ? INFINITY : -INFINITY) {
    if (options.factor >= 1.0 || options.factor < 0) {
        throw Error(
            fmt::format("ReduceLROnPlateau: factor must be in [0, 1), got {}", options.factor));
    }
}

bool ReduceLROnPlateau::better(double a) const {
    const double th = options_.threshold;
    const bool rel = options_.threshold_mode == ThresholdMode::rel;
    if (options_.mode == PlateauMode::min) return rel ? a < best_ * (1 - th) : a < best_ - th;
    return rel ? a > best_ * (1 + th) : a > best_ + th;
}

void ReduceLROnPlateau::step(double metric) {
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
        auto& groups = optimizer_.param_groups();
        for (std::size_t g = 0; g < groups.size(); ++g) {
            const double floor =
                options_.min_lrs.empty() ? options_.min_lr : options_.min_lrs.at(g);
            const double old_lr = groups[g].lr();
            const double new_lr = std::max(old_lr * options_.factor, floor);
            if (old_lr - new_lr > options_.eps) groups[g].set("lr", new_lr);
        }
        cooldown_left_ = options_.cooldown;
        bad_steps_ = 0;
    }
}

std::vector<double> ReduceLROnPlateau::last_lr() const {
    std::vector<double> lrs;
    for (const auto& group : optimizer_.param_groups()) lrs.push_back(group.lr());
    return lrs;
}

StateDict ReduceLROnPlateau::state_dict() const {
    auto i64 = [](std::int64_t v) {
        return scalar_tensor(static_cast<double>(v), {.dtype = Dtype::int64});
    };
    return {{"plateau.best", scalar_tensor(best_, {.dtype = Dtype::float64})},
            {"plateau.bad_steps", i64(bad_steps_)},
            {"plateau.cooldown_left", i64(cooldown_left_)},
            {"plateau.steps", i64(steps_)}};
}

void ReduceLROnPlateau::load_state_dict(const StateDict& state) {
    auto get = [&](const char* key) {
        const auto it = state.find(key);
        if (it == state.end())
            throw Error(std::string("ReduceLROnPlateau.load_state_dict: no entry ") + key);
        return it->second.item();
    };
    const double best = get("plateau.best");
    const auto bad = static_cast<std::int64_t>(get("plateau.bad_steps"));
    const auto cooldown = static_cast<std::int64_t>(get("plateau.cooldown_left"));
    steps_ = static_cast<std::int64_t>(get("plateau.steps"));
    best_ = best;
    bad_steps_ = bad;
    cooldown_left_ = cooldown;
}

}  // namespace descent::optim
