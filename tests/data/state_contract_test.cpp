// TrainingState holds anything of the state contract — descent's own objects and types of
// one's own — plus the run's own values (counts, numbers, texts, lists, tensors), in one file.
// A file saved under one schedule, loader or optimizer configuration is refused under another,
// values outside their range are refused (a NaN in a Standardizer's mean), and an object
// destroyed before a save or a load is named, never read.

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <limits>
#include <memory>
#include <optional>

#include "../nn/checkpoint_files.hpp"

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;
using Catch::Matchers::Contains;
using descent::test::TempDir;

static_assert(dc::Stateful<nn::Sequential>);
static_assert(dc::Stateful<data::DataLoader>);
static_assert(dc::Stateful<data::Standardizer>);
static_assert(dc::Stateful<data::TrainingState>);

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A type of one's own: a running mean of the losses seen.
struct RunningMean {
    double sum = 0.0;
    std::int64_t count = 0;
    dc::StateDict state_dict() const {
        return {{"sum", dc::scalar_tensor(sum, {.dtype = dc::float64})},
                {"count", dc::int_tensor({count}, {})}};
    }
    dc::StagedLoad stage_load(const dc::StateDict& state) {
        dc::StateReader in(state, "RunningMean.load_state_dict");
        const double s = in.real("sum");
        const std::int64_t c = in.count("count");
        in.reject_unread();
        return [this, s, c] {
            sum = s;
            count = c;
        };
    }
};

/// A small run: model, AdamW in Lookahead, a scheduler, a loader, a scaler, the run's values.
struct Run {
    dc::Tensor x = dc::randn({20, 3}), y = dc::randint(0, 2, {20});
    nn::Sequential model{nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2)};
    opt::AdamW adamw{model.parameters(), {.lr = 0.01}};
    opt::Lookahead optimizer{adamw, {.k = 2}};
    opt::LRScheduler scheduler;
    data::Standardizer scaler;
    data::DataLoader loader;
    RunningMean mean;
    std::int64_t step = 0;
    double best = dc::inf;
    std::string note = "first";
    std::vector<double> losses;
    dc::Tensor extra = dc::tensor({1, 2, 3, 4}, {2, 2});
    data::TrainingState state;

    explicit Run(opt::Schedule schedule, std::int64_t batch_size = 5)
        : scheduler(optimizer, std::move(schedule)),
          loader(scaler.fit_transform(x), y, {.batch_size = batch_size, .seed = 1}) {
        state.add("model", model).add("optimizer", optimizer).add("scheduler", scheduler);
        state.add("scaler", scaler).add("loader", loader).add("mean", mean).add_generator();
        state.add("step", step).add("best", best).add("note", note).add("losses", losses);
        state.add("extra", extra);
    }
    void train(int steps) {
        for (auto& [xb, yb] : loader) {
            const dc::Tensor loss = nn::cross_entropy(model(xb), yb);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            scheduler.step();
            losses.push_back(loss.item());
            mean.sum += loss.item();
            ++mean.count;
            best = std::min(best, loss.item());
            if (++step == steps) return;
        }
    }
};
}  // namespace

TEST_CASE("TrainingState: descent's objects, one's own type and the run's values in one file",
          "[data][state]") {
    TempDir dir;
    const auto file = dir.path / "run.safetensors";
    dc::manual_seed(0);
    Run first(opt::cosine(40));
    first.train(3);
    first.note = "after three";
    first.extra = dc::int_tensor({7, 8, 9}, {3});
    first.state.save(file);

    const nn::Checkpoint saved = nn::load_checkpoint(file);
    CHECK(saved.metadata.at("note.value") == "after three");
    CHECK(saved.metadata.at("optimizer.config") == "Lookahead(k=2, alpha=0.5)");
    CHECK(saved.metadata.at("optimizer.inner.config") == "AdamW");
    CHECK(saved.metadata.at("scaler.config") == "Standardizer");

    dc::manual_seed(0);
    Run second(opt::cosine(40));
    second.extra = dc::Tensor{};  // of any dtype until it has one
    second.state.load(file);
    CHECK(second.step == 3);
    CHECK(second.best == first.best);
    CHECK(second.note == "after three");
    CHECK(second.losses == first.losses);
    CHECK(second.mean.count == 3);
    CHECK(second.mean.sum == first.mean.sum);
    CHECK(second.extra.to_int_vector() == std::vector<std::int64_t>{7, 8, 9});
    dc::manual_seed(0);
    Run straight(opt::cosine(40));
    straight.train(6);
    second.train(6);  // the rest of the first epoch, then the second
    CHECK(second.model.state_dict().at("2.weight").to_vector() ==
          straight.model.state_dict().at("2.weight").to_vector());
    CHECK(second.losses == straight.losses);
}

TEST_CASE("TrainingState: a file of another configuration is refused, and nothing changes",
          "[data][state]") {
    TempDir dir;
    const auto file = dir.path / "run.safetensors";
    dc::manual_seed(0);
    Run saved(opt::cosine(40));
    saved.train(2);
    saved.state.save(file);

    const auto refused = [&](Run& other, const std::string& says) {
        const auto weights = other.model.state_dict().at("0.weight").to_vector();
        CHECK_THROWS_WITH(other.state.load(file), Contains(says));
        CHECK(other.step == 0);
        CHECK(other.scheduler.last_step() == 0);
        CHECK(other.model.state_dict().at("0.weight").to_vector() == weights);
    };
    Run step_schedule(opt::step_decay(10));  // train_digits --resume ... --schedule step
    refused(step_schedule, "component 'scheduler'");
    Run other_batches(opt::cosine(40), 4);
    refused(other_batches,
            "batch_size=5, shuffle=true, drop_last=false, generator=own), but this "
            "is DataLoader(rows=20, batch_size=4");
    Run other_k(opt::cosine(40));
    other_k.state = data::TrainingState{};
    opt::Lookahead look3(other_k.adamw, {.k = 3});
    other_k.state.add("model", other_k.model).add("optimizer", look3);
    CHECK_THROWS_WITH(other_k.state.load(file), Contains("missing components []") &&
                                                    Contains("unexpected components [best,"));
}

TEST_CASE("TrainingState: a plain model file is refused naming the file", "[data][state]") {
    TempDir dir;
    const auto file = dir.path / "model.safetensors";
    dc::manual_seed(0);
    Run run(opt::cosine(40));
    nn::save(run.model.state_dict(), file);  // train_digits --resume on a checkpoint
    const auto weights = run.model.state_dict().at("0.weight").to_vector();
    CHECK_THROWS_WITH(run.state.load(file),
                      Contains("TrainingState.load('" + file.string() + "')") &&
                          Contains("unexpected components [0, 2]"));
    CHECK(run.model.state_dict().at("0.weight").to_vector() == weights);
}

TEST_CASE("TrainingState: values outside their range are refused", "[data][state]") {
    TempDir dir;
    const auto file = dir.path / "run.safetensors";
    dc::manual_seed(0);
    Run run(opt::cosine(40));
    run.train(2);
    const dc::StateDict good = run.state.state_dict();
    const auto refused = [&](const std::string& key, const dc::Tensor& value,
                             const std::string& says) {
        dc::StateDict bad = good;
        bad[key] = value;
        INFO(key);
        CHECK_THROWS_WITH(run.state.load_state_dict(bad), Contains(says));
        CHECK(run.step == 2);
    };
    refused("scaler.mean", dc::tensor({0, kNaN, 0}), "element 1 of 'mean' is nan");
    refused("scaler.std", dc::tensor({1, 0, 1}), "element 1 of 'std' is 0");
    refused("model.0.weight", dc::full({4, 3}, kNaN), "0.weight: element 0 is nan");
    refused("loader.next_batch", dc::int_tensor({5}, {}), "'next_batch' must be in [0, 4]");
    refused("loader.order", dc::int_tensor(std::vector<std::int64_t>(20, 3), {20}),
            "holds row 3 twice");
    refused("optimizer.inner.state.0.0.exp_avg_sq", dc::full({4, 3}, -1.0),
            "'state.0.0.exp_avg_sq'");
    refused("generator.words", dc::int_tensor({0, 0, 0, 0}, {4}), "all-zero");
    refused("step.value", dc::scalar_tensor(1.5), "'value' must be one int64 value");
    refused("best.value", dc::scalar_tensor(kNaN, {.dtype = dc::float64}), "'value'");
    refused("losses.value", dc::zeros({2, 2}, {.dtype = dc::float64}), "must be 1-D");
    refused("mean.count", dc::int_tensor({-1}, {}), "RunningMean.load_state_dict");
    refused("extra.value", dc::zeros({2}, {.dtype = dc::int64}), "'value' must be float32");
    CHECK_NOTHROW(run.state.load_state_dict(good));
}

TEST_CASE("TrainingState: an object destroyed before a save or a load is named", "[data][state]") {
    TempDir dir;
    data::TrainingState state;
    std::optional<nn::Linear> layer(std::in_place, 2, 3);
    auto loader = std::make_unique<data::DataLoader>(dc::zeros({4, 2}), dc::zeros({4}));
    state.add("layer", *layer).add("loader", *loader);
    state.save(dir.path / "s.safetensors");
    layer.reset();
    CHECK_THROWS_WITH(state.save(dir.path / "t.safetensors"),
                      "TrainingState: the object of component 'layer' has been destroyed");
    CHECK_THROWS_WITH(state.load(dir.path / "s.safetensors"),
                      Contains("component 'layer'") && Contains("destroyed"));
    CHECK_FALSE(std::filesystem::exists(dir.path / "t.safetensors"));
}

TEST_CASE("a module refuses non-finite values, a negative running variance, keys given twice",
          "[nn][state]") {
    nn::Sequential model{nn::Linear(2, 2), nn::BatchNorm1d(2)};
    const dc::StateDict good = model.state_dict();
    const auto before = model.state_dict().at("0.weight").to_vector();
    const auto refused = [&](const dc::StateDict& bad, const std::string& says) {
        CHECK_THROWS_WITH(model.load_state_dict(bad), Contains(says));
        CHECK(model.state_dict().at("0.weight").to_vector() == before);
    };
    dc::StateDict bad = good;
    bad["0.bias"] = dc::tensor({0, dc::inf});
    bad["1.running_var"] = dc::tensor({1, -0.5});
    bad["1.num_batches_tracked"] = dc::int_tensor({-2}, {});
    refused(bad, "0.bias: element 1 is inf");
    refused(bad, "1.running_var: element 1 is -0.5, outside [0, inf)");
    refused(bad, "1.num_batches_tracked: element 0 is -2");
    bad = good;
    bad.emplace_back("0.weight", dc::zeros({2, 2}));
    refused(bad, "keys given twice [0.weight]");
    dc::StateDict copy;
    for (const auto& [name, t] : good) copy.emplace_back(name, t.clone());
    CHECK_NOTHROW(model.load_state_dict(copy));
}
