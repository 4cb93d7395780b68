#pragma once
// Everything a training run needs to resume exactly, in one safetensors file: the model, the
// optimizer (Lookahead with its inner optimizer), the schedulers, the random generator, the
// data loaders' epoch and position, a Standardizer, gradient noise, and the run's own counters.
// A run interrupted at any step — mid-epoch too — and resumed from the file continues
// bit-identically.
//
//   descent::data::TrainingState state;
//   state.add("model", model).add("optimizer", opt).add("scheduler", sched)
//        .add("loader", loader).add("scaler", scaler).add("epoch", epoch).add_generator();
//   state.save("run.safetensors");    // atomic (nn::save)
//   state.load("run.safetensors");    // all or nothing
//
// Key layout (readable from Python with safetensors.torch.load_file): "<component>.<key>",
// where <key> is the component's own state_dict key — "model.0.weight",
// "optimizer.param_groups.0.lr", "optimizer.state.0.1.exp_avg", "scheduler.scheduler.t",
// "loader.order", "generator.words", "epoch.value" — and the metadata entry "descent" lists the
// components in order. Loading a file of another model, optimizer, schedule or set of
// components is an Error naming the mismatched keys or components, and changes nothing.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "descent/data/loader.hpp"
#include "descent/data/standardizer.hpp"
#include "descent/nn/module.hpp"
#include "descent/optim/noise.hpp"
#include "descent/optim/optimizer.hpp"
#include "descent/optim/schedule.hpp"

namespace descent::data {

class TrainingState {
  public:
    /// Each component under a name of its own (no '.'; used once).
    TrainingState& add(std::string name, nn::Module& module);
    TrainingState& add(std::string name, optim::Optimizer& optimizer);
    TrainingState& add(std::string name, optim::LRScheduler& scheduler);
    TrainingState& add(std::string name, optim::ReduceLROnPlateau& scheduler);
    TrainingState& add(std::string name, optim::GradientNoise& noise);
    TrainingState& add(std::string name, DataLoader& loader);
    TrainingState& add(std::string name, Standardizer& standardizer);
    TrainingState& add(std::string name, std::int64_t& counter);
    TrainingState& add(std::string name, double& value);
    /// The generator of the thread that saves or loads (dropout masks, shuffles, init).
    TrainingState& add_generator(std::string name = "generator");

    /// Every component's state under its name.
    NamedTensors state_dict() const;
    /// All or nothing: every component is checked before any changes.
    void load_state_dict(const NamedTensors& state);

    void save(const std::filesystem::path& path) const;
    void load(const std::filesystem::path& path);

  private:
    using Staged = std::function<void()>;
    struct Component {
        std::string name;
        std::function<NamedTensors()> save;
        std::function<Staged(const NamedTensors&)> stage;
    };
    TrainingState& add_component(Component component);
    std::vector<Component> components_;
};

}  // namespace descent::data
