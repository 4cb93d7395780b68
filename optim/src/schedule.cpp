#include "descent/optim/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "descent/check.hpp"
#include "descent/ops.hpp"

namespace descent::optim {
namespace {
void require_schedule(const Schedule& s, std::string_view op) {
    if (!s) throw Error(fmt::format("{}: a schedule is empty", op));
}

void check_cyclic(const CyclicOptions& o, std::string_view op) {
    check_option(o.base_lr, at_least(0), op, "base_lr");
    check_option(o.max_lr, at_least(0), op, "max_lr");
    check_count(o.step_size_up, 1, op, "step_size_up");
    if (o.step_size_down) check_count(*o.step_size_down, 1, op, "step_size_down");
    check_option(o.gamma, above(0), op, "gamma");
    check_option(o.base_momentum, at_least(0), op, "base_momentum");
    check_option(o.max_momentum, at_least(0), op, "max_momentum");
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

/// Every option in range, and every phase at least one step long (else its interpolation
/// divides by zero, as torch's does).
void check_one_cycle(const OneCycleOptions& o, std::string_view op) {
    check_option(o.max_lr, above(0), op, "max_lr");
    check_count(o.total_steps, 1, op, "total_steps");
    check_option(o.pct_start, {0, 1, true, true}, op, "pct_start");
    check_option(o.div_factor, above(0), op, "div_factor");
    check_option(o.final_div_factor, above(0), op, "final_div_factor");
    check_option(o.base_momentum, at_least(0), op, "base_momentum");
    check_option(o.max_momentum, at_least(0), op, "max_momentum");
    double start = 0;
    for (const Phase& phase : one_cycle_phases(o)) {
        if (!(phase.end_step > start)) {
            throw Error(fmt::format(
                "{}: a phase ends at step {}, not after it starts at {}: pct_start {} of {} "
                "total steps leaves it no steps",
                op, ConfigValue(phase.end_step).text(), ConfigValue(start).text(),
                ConfigValue(o.pct_start).text(), o.total_steps));
        }
        start = phase.end_step;
    }
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

std::string_view mode_name(CyclicMode mode) {
    switch (mode) {
        case CyclicMode::triangular:
            return "triangular";
        case CyclicMode::triangular2:
            return "triangular2";
        case CyclicMode::exp_range:
            return "exp_range";
    }
    return "?";
}

}  // namespace

Schedule constant() {
    return {[](std::int64_t, double base) { return base; }, "constant()"};
}

Schedule lambda(std::function<double(std::int64_t)> factor) {
    if (!factor) throw Error("lambda: the factor function is empty");
    return {[factor = std::move(factor)](std::int64_t t, double base) { return base * factor(t); },
            "lambda(custom)"};
}

Schedule step_decay(std::int64_t step_size, double gamma) {  // base·γ^⌊t/step_size⌋
    check_count(step_size, 1, "step_decay", "step_size");
    check_option(gamma, at_least(0), "step_decay", "gamma");
    return {[=](std::int64_t t, double base) {
                return base * std::pow(gamma, static_cast<double>(t / step_size));
            },
            describe("step_decay", {{"step_size", step_size}, {"gamma", gamma}})};
}

Schedule multistep(std::vector<std::int64_t> milestones, double gamma) {
    check_option(gamma, at_least(0), "multistep", "gamma");
    std::sort(milestones.begin(), milestones.end());
    std::string description = describe("multistep", {{"milestones", milestones}, {"gamma", gamma}});
    return {[milestones = std::move(milestones), gamma](std::int64_t t, double base) {
                const auto passed =
                    std::upper_bound(milestones.begin(), milestones.end(), t) - milestones.begin();
                return base * std::pow(gamma, static_cast<double>(passed));
            },
            std::move(description)};
}

Schedule exponential(double gamma) {  // base·γᵗ
    check_option(gamma, at_least(0), "exponential", "gamma");
    return {
        [=](std::int64_t t, double base) { return base * std::pow(gamma, static_cast<double>(t)); },
        describe("exponential", {{"gamma", gamma}})};
}

Schedule inverse_sqrt() {  // base/√(t + 1)
    return {
        [](std::int64_t t, double base) { return base / std::sqrt(static_cast<double>(t) + 1); },
        "inverse_sqrt()"};
}

Schedule polynomial(std::int64_t total_iters, double power) {  // base·(1 − min(t, T)/T)^power
    check_count(total_iters, 1, "polynomial", "total_iters");
    check_option(power, at_least(0), "polynomial", "power");
    return {[=](std::int64_t t, double base) {
                const double done = static_cast<double>(std::min(t, total_iters)) /
                                    static_cast<double>(total_iters);
                return base * std::pow(1.0 - done, power);
            },
            describe("polynomial", {{"total_iters", total_iters}, {"power", power}})};
}

Schedule cosine(std::int64_t t_max, double eta_min) {  // η_min + (base − η_min)(1 + cos(πt/T))/2
    check_count(t_max, 1, "cosine", "T_max");
    check_option(eta_min, at_least(0), "cosine", "eta_min");
    return {[=](std::int64_t t, double base) {
                return eta_min + (base - eta_min) *
                                     (1 + std::cos(std::numbers::pi * static_cast<double>(t) /
                                                   static_cast<double>(t_max))) /
                                     2;
            },
            describe("cosine", {{"t_max", t_max}, {"eta_min", eta_min}})};
}

Schedule cosine_warm_restarts(std::int64_t t_0, std::int64_t t_mult, double eta_min) {
    check_count(t_0, 1, "cosine_warm_restarts", "T_0");
    check_count(t_mult, 1, "cosine_warm_restarts", "T_mult");
    check_option(eta_min, at_least(0), "cosine_warm_restarts", "eta_min");
    return {
        [=](std::int64_t t, double base) {
            std::int64_t period = t_0, into = t;  // T_i and T_cur
            if (t_mult == 1) {
                into = t % t_0;  // equal periods: no walk through the cycles
            } else {
                while (into >= period) {  // at most 63 periods before one exceeds int64
                    into -= period;
                    if (__builtin_mul_overflow(period, t_mult, &period)) period = INT64_MAX;
                }
            }
            return eta_min + (base - eta_min) *
                                 (1 + std::cos(std::numbers::pi * static_cast<double>(into) /
                                               static_cast<double>(period))) /
                                 2;
        },
        describe("cosine_warm_restarts", {{"t_0", t_0}, {"t_mult", t_mult}, {"eta_min", eta_min}})};
}

namespace {
Schedule linear_from(double start_factor, double end_factor, std::int64_t total_iters,
                     std::string_view op) {
    check_option(start_factor, at_least(0), op, "start_factor");
    check_option(end_factor, at_least(0), op, "end_factor");
    check_count(total_iters, 1, op, "total_iters");
    return {[=](std::int64_t t, double base) {
                const double done = static_cast<double>(std::min(t, total_iters)) /
                                    static_cast<double>(total_iters);
                return base * (start_factor + (end_factor - start_factor) * done);
            },
            describe("linear", {{"start_factor", start_factor},
                                {"end_factor", end_factor},
                                {"total_iters", total_iters}})};
}

Schedule constant_factor_for(double factor, std::int64_t total_iters, std::string_view op) {
    check_option(factor, at_least(0), op, "factor");
    check_count(total_iters, 0, op, "total_iters");
    return {[=](std::int64_t t, double base) { return t < total_iters ? base * factor : base; },
            describe("constant_factor", {{"factor", factor}, {"total_iters", total_iters}})};
}

Schedule sequential_of(std::vector<Schedule> schedules, std::vector<std::int64_t> milestones,
                       std::string_view op) {
    for (const auto& s : schedules) require_schedule(s, op);
    if (schedules.empty() || milestones.size() + 1 != schedules.size() ||
        !std::is_sorted(milestones.begin(), milestones.end())) {
        throw Error(
            fmt::format("{}: needs one more schedule than milestones, milestones "
                        "ascending; got {} schedules and milestones [{}]",
                        op, schedules.size(), joined(milestones, ",")));
    }
    std::vector<std::string> parts;
    for (const auto& s : schedules) parts.push_back(s.description());
    std::string description = describe(
        "sequential",
        {{"schedules", fmt::format("[{}]", joined(parts, ", "))}, {"milestones", milestones}});
    return {[schedules = std::move(schedules), milestones = std::move(milestones)](std::int64_t t,
                                                                                   double base) {
                const auto i = static_cast<std::size_t>(
                    std::upper_bound(milestones.begin(), milestones.end(), t) - milestones.begin());
                return schedules[i](i == 0 ? t : t - milestones[i - 1], base);
            },
            std::move(description)};
}
}  // namespace

Schedule linear(double start_factor, double end_factor, std::int64_t total_iters) {
    return linear_from(start_factor, end_factor, total_iters, "linear");
}

Schedule constant_factor(double factor, std::int64_t total_iters) {
    return constant_factor_for(factor, total_iters, "constant_factor");
}

Schedule sequential(std::vector<Schedule> schedules, std::vector<std::int64_t> milestones) {
    return sequential_of(std::move(schedules), std::move(milestones), "sequential");
}

Schedule warmup(Schedule after, std::int64_t steps, double start_factor) {
    check_count(steps, 1, "warmup", "steps");
    return sequential_of({linear_from(start_factor, 1.0, steps, "warmup"), std::move(after)},
                         {steps}, "warmup");
}

Schedule constant_warmup(Schedule after, std::int64_t steps, double factor) {
    check_count(steps, 1, "constant_warmup", "steps");
    return sequential_of({constant_factor_for(factor, steps, "constant_warmup"), std::move(after)},
                         {steps}, "constant_warmup");
}

Schedule chain(Schedule inner, Schedule outer) {
    require_schedule(inner, "chain");
    require_schedule(outer, "chain");
    std::string description =
        describe("chain", {{"inner", inner.description()}, {"outer", outer.description()}});
    return {[inner = std::move(inner), outer = std::move(outer)](std::int64_t t, double base) {
                return outer(t, inner(t, base));
            },
            std::move(description)};
}

Schedule cyclic(CyclicOptions o) {
    check_cyclic(o, "cyclic");
    return {[o](std::int64_t t, double) {
                const auto [cycle, scale] = cycle_position(o, t);
                return o.base_lr + (o.max_lr - o.base_lr) * scale * cycle_amplitude(o, t, cycle);
            },
            describe("cyclic", {{"base_lr", o.base_lr},
                                {"max_lr", o.max_lr},
                                {"step_size_up", o.step_size_up},
                                {"step_size_down", o.step_size_down.value_or(o.step_size_up)},
                                {"mode", mode_name(o.mode)},
                                {"gamma", o.gamma}})};
}

Schedule cyclic_momentum(CyclicOptions o) {
    check_cyclic(o, "cyclic_momentum");
    return {
        [o](std::int64_t t, double) {
            const auto [cycle, scale] = cycle_position(o, t);
            return o.max_momentum -
                   (o.max_momentum - o.base_momentum) * scale * cycle_amplitude(o, t, cycle);
        },
        describe("cyclic_momentum", {{"base_momentum", o.base_momentum},
                                     {"max_momentum", o.max_momentum},
                                     {"step_size_up", o.step_size_up},
                                     {"step_size_down", o.step_size_down.value_or(o.step_size_up)},
                                     {"mode", mode_name(o.mode)},
                                     {"gamma", o.gamma}})};
}

Schedule one_cycle(OneCycleOptions o) {
    check_one_cycle(o, "one_cycle");
    return {[o](std::int64_t t, double) { return one_cycle_at(o, t, false); },
            describe("one_cycle", {{"max_lr", o.max_lr},
                                   {"div_factor", o.div_factor},
                                   {"final_div_factor", o.final_div_factor},
                                   {"total_steps", o.total_steps},
                                   {"pct_start", o.pct_start},
                                   {"anneal", o.anneal == Anneal::cos ? "cos" : "linear"},
                                   {"three_phase", o.three_phase}})};
}

Schedule one_cycle_momentum(OneCycleOptions o) {
    check_one_cycle(o, "one_cycle_momentum");
    return {[o](std::int64_t t, double) { return one_cycle_at(o, t, true); },
            describe("one_cycle_momentum", {{"base_momentum", o.base_momentum},
                                            {"max_momentum", o.max_momentum},
                                            {"total_steps", o.total_steps},
                                            {"pct_start", o.pct_start},
                                            {"anneal", o.anneal == Anneal::cos ? "cos" : "linear"},
                                            {"three_phase", o.three_phase}})};
}

}  // namespace descent::optim
