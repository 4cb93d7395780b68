// The training-state checkpoint: a run interrupted mid-epoch, saved, rebuilt from scratch and
// resumed ends bit-identical to the uninterrupted run — for every optimizer and every schedule
// (the full cross product), with dropout, shuffling from the global generator, a fitted
// Standardizer and a step counter in the state — and a state of another model, optimizer,
// schedule or set of components is refused whole.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>

#include "../nn/checkpoint_files.hpp"

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;
using Catch::Contains;
using namespace descent::test;

namespace {

struct Data {
    dc::Tensor x, y;
    Data() {
        dc::Generator g(5);
        std::vector<double> xs(24 * 4);
        for (auto& v : xs) v = g.normal() * 3.0 + 1.0;
        std::vector<std::int64_t> ys(24);
        for (auto& v : ys) v = static_cast<std::int64_t>(g.below(3));
        x = dc::tensor(xs, {24, 4});
        y = dc::int_tensor(ys, {24});
    }
};
const Data& data() {
    static const Data d;
    return d;
}

using OptimizerFactory = std::function<void(
    std::vector<dc::Tensor>, std::unique_ptr<opt::Optimizer>&, std::unique_ptr<opt::Optimizer>&)>;

template <class O, class Options>
OptimizerFactory plain(Options o) {
    return [o](std::vector<dc::Tensor> p, auto& inner, auto& outer) {
        inner.reset();
        outer = std::make_unique<O>(std::move(p), o);
    };
}
template <class O, class Options>
OptimizerFactory looking_ahead(Options o) {
    return [o](std::vector<dc::Tensor> p, auto& inner, auto& outer) {
        inner = std::make_unique<O>(std::move(p), o);
        outer =
            std::make_unique<opt::Lookahead>(*inner, opt::LookaheadOptions{.k = 3, .alpha = 0.5});
    };
}

std::vector<std::pair<std::string, OptimizerFactory>> optimizers() {
    return {
        {"SGD", plain<opt::SGD>(opt::SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true})},
        {"SGDW",
         plain<opt::SGDW>(opt::SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01})},
        {"Adagrad", plain<opt::Adagrad>(opt::AdagradOptions{.lr = 0.05})},
        {"RMSprop",
         plain<opt::RMSprop>(opt::RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true})},
        {"Adam", plain<opt::Adam>(opt::AdamOptions{.lr = 0.01, .amsgrad = true})},
        {"AdamW", plain<opt::AdamW>(opt::AdamWOptions{.lr = 0.01})},
        {"NAdam", plain<opt::NAdam>(opt::NAdamOptions{.lr = 0.01})},
        {"RAdam", plain<opt::RAdam>(opt::RAdamOptions{.lr = 0.01})},
        {"AdaBound", plain<opt::AdaBound>(opt::AdaBoundOptions{.lr = 0.01, .amsbound = true})},
        {"SWATS", plain<opt::SWATS>(opt::SWATSOptions{.lr = 0.01})},
        {"Lookahead(SGD)", looking_ahead<opt::SGD>(opt::SGDOptions{.lr = 0.05, .momentum = 0.9})},
        {"Lookahead(Adam)", looking_ahead<opt::Adam>(opt::AdamOptions{.lr = 0.01})},
    };
}

/// A schedule driver: an LRScheduler (maybe cycling momentum too) or ReduceLROnPlateau.
struct Schedules {
    std::unique_ptr<opt::LRScheduler> scheduler;
    std::unique_ptr<opt::ReduceLROnPlateau> plateau;
};
using ScheduleFactory = std::function<void(opt::Optimizer&, Schedules&)>;

ScheduleFactory lr_only(std::function<opt::Schedule()> make) {
    return [make](opt::Optimizer& o, Schedules& s) {
        s.scheduler = std::make_unique<opt::LRScheduler>(o, make());
    };
}

const opt::CyclicOptions kCyclic{.base_lr = 0.001, .max_lr = 0.02, .step_size_up = 2};
const opt::OneCycleOptions kOneCycle{.max_lr = 0.02, .total_steps = 20};

/// Every schedule of optim; `momentum`: whether it also drives momentum (or Adam's β₁).
std::vector<std::tuple<std::string, ScheduleFactory, bool>> schedules() {
    using namespace opt;
    return {
        {"none", [](Optimizer&, Schedules&) {}, false},
        {"constant", lr_only([] { return constant(); }), false},
        {"lambda", lr_only([] { return lambda([](std::int64_t t) { return 1.0 / (1.0 + t); }); }),
         false},
        {"step_decay", lr_only([] { return step_decay(3, 0.5); }), false},
        {"multistep", lr_only([] {
             return multistep({2, 5}, 0.3);
         }),
         false},
        {"exponential", lr_only([] { return exponential(0.9); }), false},
        {"inverse_sqrt", lr_only([] { return inverse_sqrt(); }), false},
        {"polynomial", lr_only([] { return polynomial(8, 2.0); }), false},
        {"cosine", lr_only([] { return cosine(9, 0.001); }), false},
        {"cosine_warm_restarts", lr_only([] { return cosine_warm_restarts(2, 2); }), false},
        {"linear", lr_only([] { return linear(0.2, 1.0, 6); }), false},
        {"constant_factor", lr_only([] { return constant_factor(0.5, 4); }), false},
        {"sequential", lr_only([] {
             return sequential({constant_factor(0.5, 3), exponential(0.8)}, {3});
         }),
         false},
        {"warmup", lr_only([] { return warmup(cosine(10), 3); }), false},
        {"constant_warmup", lr_only([] { return constant_warmup(exponential(0.9), 2); }), false},
        {"chain", lr_only([] { return chain(step_decay(2, 0.7), exponential(0.95)); }), false},
        {"cyclic", lr_only([] { return cyclic(kCyclic); }), false},
        {"one_cycle", lr_only([] { return one_cycle(kOneCycle); }), false},
        {"cyclic+momentum",
         [](Optimizer& o, Schedules& s) {
             s.scheduler =
                 std::make_unique<LRScheduler>(o, cyclic(kCyclic), cyclic_momentum(kCyclic));
         },
         true},
        {"one_cycle+momentum",
         [](Optimizer& o, Schedules& s) {
             s.scheduler = std::make_unique<LRScheduler>(o, one_cycle(kOneCycle),
                                                         one_cycle_momentum(kOneCycle));
         },
         true},
        {"plateau",
         [](Optimizer& o, Schedules& s) {
             s.plateau = std::make_unique<ReduceLROnPlateau>(
                 o, PlateauOptions{.patience = 1, .threshold = 0.05});
         },
         false},
    };
}

/// One training run and its checkpoint. Members are destroyed in reverse: the schedulers and
/// Lookahead before what they wrap.
struct Run {
    struct Seed {  // seeds the layers' initialisation: a member made before the model
        explicit Seed(std::uint64_t seed) { dc::manual_seed(seed); }
    } seed;
    data::Standardizer scaler;
    nn::Sequential model;
    data::DataLoader loader;
    std::unique_ptr<opt::Optimizer> inner, optimizer;
    Schedules schedules;
    std::int64_t step = 0;
    data::TrainingState state;

    Run(std::uint64_t seed_value, const OptimizerFactory& make_optimizer,
        const ScheduleFactory& make_schedule)
        : seed(seed_value),
          model(nn::Linear(4, 8), nn::ReLU(), nn::Dropout(0.3), nn::Linear(8, 3)),
          loader(scaler.fit_transform(data().x), data().y, {.batch_size = 8}) {
        make_optimizer(model.parameters(), inner, optimizer);
        make_schedule(*optimizer, schedules);
        state.add("model", model).add("optimizer", *optimizer).add("loader", loader);
        state.add("scaler", scaler).add("step", step).add_generator();
        if (schedules.scheduler) state.add("scheduler", *schedules.scheduler);
        if (schedules.plateau) state.add("plateau", *schedules.plateau);
    }

    /// Trains until `until` steps in all, leaving mid-epoch if that is where it ends.
    void train(std::int64_t until) {
        while (step < until) {
            for (auto& [x, y] : loader) {
                const dc::Tensor loss = nn::cross_entropy(model(x), y);
                optimizer->zero_grad();
                loss.backward();
                optimizer->step();
                if (schedules.scheduler) schedules.scheduler->step();
                if (schedules.plateau) schedules.plateau->step(loss.item());
                if (++step >= until) return;
            }
        }
    }
};

std::vector<double> values(const nn::Module& m) {
    std::vector<double> out;
    for (const auto& [name, t] : m.state_dict()) {
        for (const double v : t.to_vector()) out.push_back(v);
    }
    return out;
}

}  // namespace

TEST_CASE("an interrupted run resumes bit-identically: every optimizer × every schedule",
          "[training_state]") {
    TempDir dir;
    const std::filesystem::path file = dir.path / "run.safetensors";
    int combinations = 0;
    for (const auto& [opt_name, make_optimizer] : optimizers()) {
        for (const auto& [schedule_name, make_schedule, cycles_momentum] : schedules()) {
            INFO(opt_name << " with " << schedule_name);
            if (cycles_momentum && opt_name == "Adagrad") continue;  // no momentum to cycle
            Run straight(11, make_optimizer, make_schedule);
            straight.train(11);  // 3 batches an epoch: ends mid-epoch too

            Run first(11, make_optimizer, make_schedule);
            first.train(5);  // interrupted after batch 2 of epoch 2
            first.state.save(file);
            Run resumed(99, make_optimizer, make_schedule);  // other initial weights, same code
            resumed.state.load(file);
            CHECK(resumed.step == 5);
            resumed.train(11);

            CHECK(values(resumed.model) == values(straight.model));
            CHECK(resumed.optimizer->state_dict().size() ==
                  straight.optimizer->state_dict().size());
            for (const auto& [key, t] : straight.optimizer->state_dict()) {
                INFO(key);
                CHECK(resumed.optimizer->state_dict().at(key).to_vector() == t.to_vector());
            }
            CHECK(resumed.loader.epoch() == straight.loader.epoch());
            CHECK(resumed.state.state_dict().size() == straight.state.state_dict().size());
            ++combinations;
        }
    }
    CHECK(combinations == 12 * 21 - 2 * 1);  // Adagrad has no momentum to cycle
}

TEST_CASE("the training state's file: one safetensors file, keys by component",
          "[training_state]") {
    TempDir dir;
    Run run(3, optimizers()[4].second, std::get<1>(schedules()[13]));  // Adam, warm-up
    run.train(4);
    run.state.save(dir.path / "s.safetensors");
    const nn::Checkpoint saved = nn::load_checkpoint(dir.path / "s.safetensors");
    CHECK(saved.metadata.at("config") ==
          "TrainingState(model, optimizer, loader, scaler, step, generator, scheduler)");
    CHECK(saved.metadata.at("optimizer.config") == "Adam");
    CHECK(saved.metadata.at("scheduler.config")
              .starts_with("LRScheduler(lr=sequential(schedules=[linear("));
    CHECK(saved.metadata.at("loader.config").starts_with("DataLoader(rows="));
    std::set<std::string> keys;
    for (const auto& [key, t] : saved.tensors) keys.insert(key);
    for (const char* key :
         {"model.0.weight", "model.3.bias", "optimizer.param_groups.0.lr",
          "optimizer.state.0.0.exp_avg", "loader.order", "loader.next_batch", "scaler.mean",
          "step.value", "generator.words", "scheduler.scheduler.t"}) {
        INFO(key);
        CHECK(keys.contains(key));
    }
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"s.safetensors"});  // no temporary left
}

TEST_CASE("a state of another run is refused whole, naming what differs", "[training_state]") {
    TempDir dir;
    const auto file = dir.path / "s.safetensors";
    const OptimizerFactory adam = optimizers()[4].second;
    const ScheduleFactory none = std::get<1>(schedules()[0]);
    Run saved(3, adam, none);
    saved.train(4);
    saved.state.save(file);

    auto unchanged = [](Run& r, auto&& action) {
        const std::vector<double> before = values(r.model);
        const auto lr = r.optimizer->param_groups()[0].lr();
        const std::int64_t step = r.step;
        action();
        CHECK(values(r.model) == before);
        CHECK(r.optimizer->param_groups()[0].lr() == lr);
        CHECK(r.step == step);
    };

    SECTION("another model") {
        Run other(3, adam, none);
        nn::Sequential bigger{nn::Linear(4, 9), nn::ReLU(), nn::Dropout(0.3), nn::Linear(9, 3)};
        data::TrainingState state;
        std::int64_t step = 0;
        state.add("model", bigger).add("optimizer", *other.optimizer).add("loader", other.loader);
        state.add("scaler", other.scaler).add("step", step).add_generator();
        CHECK_THROWS_WITH(state.load(file), Contains("component 'model'") && Contains("0.weight"));
    }
    SECTION("another optimizer") {
        Run other(3, optimizers()[0].second, none);  // SGD
        unchanged(other, [&] {
            CHECK_THROWS_WITH(other.state.load(file), Contains("component 'optimizer'"));
        });
    }
    SECTION("another schedule") {
        Run other(3, adam, std::get<1>(schedules()[3]));  // with a scheduler the file lacks
        unchanged(other, [&] {
            CHECK_THROWS_WITH(other.state.load(file), Contains("missing components [scheduler]"));
        });
    }
    SECTION("a component the run does not have") {
        Run other(3, adam, none);
        std::int64_t epoch = 7;
        data::TrainingState fewer;
        fewer.add("model", other.model).add("epoch", epoch);
        CHECK_THROWS_WITH(fewer.load(file), Contains("unexpected components") &&
                                                Contains("optimizer") &&
                                                Contains("missing components [epoch]"));
        CHECK(epoch == 7);
    }
    SECTION("a corrupt entry late in the file changes nothing earlier") {
        dc::NamedTensors state = saved.state.state_dict();
        for (auto& [key, t] : state) {
            if (key == "generator.has_spare") t = dc::int_tensor({5}, {});
        }
        Run other(4, adam, none);
        unchanged(other, [&] {
            CHECK_THROWS_WITH(other.state.load_state_dict(state),
                              Contains("component 'generator'"));
        });
    }
    SECTION("names") {
        data::TrainingState state;
        std::int64_t a = 0;
        CHECK_THROWS_AS(state.add("a.b", a), dc::Error);
        CHECK_THROWS_AS(state.add("", a), dc::Error);
        state.add("a", a);
        CHECK_THROWS_AS(state.add("a", a), dc::Error);
    }
}

TEST_CASE("a data loader resumes mid-epoch with its own generator", "[training_state][data]") {
    const dc::Tensor x = dc::arange(0, 10).reshape({10, 1}), y = dc::arange(0, 10);
    data::DataLoader a(x, y, {.batch_size = 3, .seed = 4});
    std::vector<double> straight;
    for (int epoch = 0; epoch < 3; ++epoch) {
        for (auto& [bx, by] : a) {
            for (const double v : by.to_vector()) straight.push_back(v);
        }
    }
    data::DataLoader b(x, y, {.batch_size = 3, .seed = 4});
    std::vector<double> resumed;
    dc::NamedTensors saved;
    int batches = 0;
    for (auto& [bx, by] : b) {
        for (const double v : by.to_vector()) resumed.push_back(v);
        if (++batches == 2) {
            saved = b.state_dict();
            break;
        }
    }
    data::DataLoader c(x, y, {.batch_size = 3, .seed = 1234});
    c.load_state_dict(saved);
    for (int epoch = 0; epoch < 3; ++epoch) {  // the rest of epoch 1, then epochs 2 and 3
        for (auto& [bx, by] : c) {
            for (const double v : by.to_vector()) resumed.push_back(v);
        }
    }
    CHECK(resumed == straight);
    data::DataLoader unseeded(x, y, {.batch_size = 3});
    CHECK_THROWS_AS(unseeded.load_state_dict(saved), dc::Error);  // its own generator vs none
    dc::NamedTensors bad = saved;
    for (auto& [key, t] : bad) {
        if (key == "order") t = dc::int_tensor({0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, {10});
    }
    CHECK_THROWS_WITH(c.load_state_dict(bad), Contains("permutation"));
}
