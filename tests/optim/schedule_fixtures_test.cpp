// Every schedule against torch.optim.lr_scheduler (tools/make_optim_fixtures.py): the lr of
// each of two groups (and the cycled momentum or β₁) after construction and after each of 300
// scheduler steps. Tolerance: 1e-12 relative to the group's initial lr — torch computes most
// schedules recursively, which differs from the closed forms here by rounding only (the fixture
// script measured at most 9.5e-15 between the two).

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

namespace dc = descent;
namespace opt = descent::optim;
using json = nlohmann::json;

namespace {

/// One value per group: the JSON's list, or its scalar repeated.
std::vector<double> per_group(const json& j, std::size_t groups) {
    if (j.is_array()) return j.get<std::vector<double>>();
    return std::vector<double>(groups, j.get<double>());
}

opt::Schedule simple_schedule(const std::string& kind, const json& a) {
    if (kind == "StepLR") return opt::step_decay(a.at("step_size"), a.at("gamma"));
    if (kind == "MultiStepLR") return opt::multistep(a.at("milestones"), a.at("gamma"));
    if (kind == "ExponentialLR") return opt::exponential(a.at("gamma"));
    if (kind == "CosineAnnealingLR") return opt::cosine(a.at("T_max"), a.at("eta_min"));
    if (kind == "CosineAnnealingWarmRestarts") {
        return opt::cosine_warm_restarts(a.at("T_0"), a.at("T_mult"), a.at("eta_min"));
    }
    if (kind == "LinearLR")
        return opt::linear(a.at("start_factor"), a.at("end_factor"), a.at("total_iters"));
    if (kind == "ConstantLR") return opt::constant_factor(a.at("factor"), a.at("total_iters"));
    if (kind == "PolynomialLR") return opt::polynomial(a.at("total_iters"), a.at("power"));
    if (kind == "LambdaLR") return opt::inverse_sqrt();  // the fixture's lambda is 1/√(t + 1)
    if (kind == "SequentialLR") {
        std::vector<opt::Schedule> parts;
        for (const auto& s : a.at("schedulers"))
            parts.push_back(simple_schedule(s.at("scheduler"), s.at("args")));
        return opt::sequential(parts, a.at("milestones"));
    }
    if (kind == "ChainedScheduler") {
        opt::Schedule chained = opt::constant();
        for (const auto& s : a.at("schedulers"))
            chained = opt::chain(chained, simple_schedule(s.at("scheduler"), s.at("args")));
        return chained;
    }
    FAIL("no descent schedule for " << kind);
    return {};
}

opt::CyclicMode cyclic_mode(const std::string& m) {
    if (m == "triangular") return opt::CyclicMode::triangular;
    if (m == "triangular2") return opt::CyclicMode::triangular2;
    return opt::CyclicMode::exp_range;
}

struct Schedules {
    std::vector<opt::Schedule> lr, momentum;
};

Schedules schedules_for(const std::string& kind, const json& a, std::size_t groups) {
    Schedules s;
    for (std::size_t g = 0; g < groups; ++g) {
        if (kind == "CyclicLR") {
            const opt::CyclicOptions o{
                .base_lr = per_group(a.at("base_lr"), groups)[g],
                .max_lr = per_group(a.at("max_lr"), groups)[g],
                .step_size_up = a.at("step_size_up"),
                .step_size_down = a.at("step_size_down").is_null()
                                      ? std::nullopt
                                      : std::optional<std::int64_t>(a.at("step_size_down")),
                .mode = cyclic_mode(a.at("mode")),
                .gamma = a.at("gamma"),
                .base_momentum = a.at("base_momentum"),
                .max_momentum = a.at("max_momentum")};
            s.lr.push_back(opt::cyclic(o));
            s.momentum.push_back(opt::cyclic_momentum(o));
        } else if (kind == "OneCycleLR") {
            const opt::OneCycleOptions o{
                .max_lr = per_group(a.at("max_lr"), groups)[g],
                .total_steps = a.at("total_steps"),
                .pct_start = a.at("pct_start"),
                .anneal = a.at("anneal_strategy") == "cos" ? opt::Anneal::cos : opt::Anneal::linear,
                .div_factor = a.at("div_factor"),
                .final_div_factor = a.at("final_div_factor"),
                .three_phase = a.at("three_phase"),
                .base_momentum = a.at("base_momentum"),
                .max_momentum = a.at("max_momentum")};
            s.lr.push_back(opt::one_cycle(o));
            s.momentum.push_back(opt::one_cycle_momentum(o));
        } else {
            s.lr.push_back(simple_schedule(kind, a));
        }
    }
    return s;
}

std::unique_ptr<opt::Optimizer> make_optimizer(const json& spec, std::vector<dc::Tensor>& params) {
    const json& groups = spec.at("groups");
    for (std::size_t g = 0; g < groups.size(); ++g)
        params.push_back(dc::zeros({1}, {.requires_grad = true}));
    if (spec.at("algorithm") == "SGD") {
        auto o = std::make_unique<opt::SGD>(
            std::vector<dc::Tensor>{params[0]},
            opt::SGDOptions{.lr = groups[0].at("lr"), .momentum = groups[0].at("momentum")});
        for (std::size_t g = 1; g < groups.size(); ++g) {
            o->add_param_group({params[g]},
                               {.lr = groups[g].at("lr"), .momentum = groups[g].at("momentum")});
        }
        return o;
    }
    auto o = std::make_unique<opt::Adam>(std::vector<dc::Tensor>{params[0]},
                                         opt::AdamOptions{.lr = groups[0].at("lr")});
    for (std::size_t g = 1; g < groups.size(); ++g)
        o->add_param_group({params[g]}, {.lr = groups[g].at("lr")});
    return o;
}

void check_close(double got, double want, double scale, const char* what, std::size_t g,
                 std::size_t i) {
    INFO(what << " of group " << g << " at t = " << i);
    CHECK(std::abs(got - want) <= 1e-12 * scale);
}

}  // namespace

TEST_CASE("schedules match torch.optim.lr_scheduler step for step", "[optim][schedule][fixtures]") {
    std::ifstream in(std::string(DESCENT_FIXTURE_DIR) + "/optim_schedules.json");
    REQUIRE(in.good());
    const json fixture = json::parse(in);
    for (const auto& c : fixture.at("cases")) {
        const std::string kind = c.at("scheduler");
        INFO("case " << c.at("name").get<std::string>());
        std::vector<dc::Tensor> params;
        auto optimizer = make_optimizer(c.at("optimizer"), params);
        const std::size_t groups = optimizer->param_groups().size();
        const auto& lr = c.at("lr");
        const json& cycled = c.contains("momentum") ? c.at("momentum")
                             : c.contains("beta1")  ? c.at("beta1")
                                                    : json();
        const auto record = [&](std::size_t i) {
            for (std::size_t g = 0; g < groups; ++g) {
                const auto& group = optimizer->param_groups()[g];
                const double base = lr[g][0];
                check_close(group.lr(), lr[g][i], base, "lr", g, i);
                if (!cycled.is_null()) {
                    const double m = group.get(group.has("momentum") ? "momentum" : "beta1");
                    check_close(m, cycled[g][i], 1.0, "momentum", g, i);
                }
            }
        };
        const std::size_t steps = lr[0].size() - 1;
        if (kind == "ReduceLROnPlateau") {
            const json& a = c.at("args");
            opt::PlateauOptions o{
                .mode = a.at("mode") == "min" ? opt::PlateauMode::min : opt::PlateauMode::max,
                .factor = a.at("factor"),
                .patience = a.at("patience"),
                .threshold = a.at("threshold"),
                .threshold_mode = a.at("threshold_mode") == "rel" ? opt::ThresholdMode::rel
                                                                  : opt::ThresholdMode::abs,
                .cooldown = a.at("cooldown"),
                .eps = a.at("eps")};
            o.min_lrs = per_group(a.at("min_lr"), groups);
            opt::ReduceLROnPlateau plateau(*optimizer, o);
            const auto metrics = c.at("metrics").get<std::vector<double>>();
            record(0);
            for (std::size_t i = 1; i <= steps; ++i) {
                plateau.step(metrics[i - 1]);
                record(i);
            }
            continue;
        }
        const Schedules s = schedules_for(kind, c.at("args"), groups);
        opt::LRScheduler scheduler(*optimizer, s.lr, s.momentum);
        record(0);
        for (std::size_t i = 1; i <= steps; ++i) {
            scheduler.step();
            CHECK(scheduler.last_step() == static_cast<std::int64_t>(i));
            record(i);
        }
    }
}
