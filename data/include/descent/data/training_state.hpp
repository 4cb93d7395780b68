#pragma once
// Everything a training run needs to resume exactly, in one safetensors file: any object of the
// state contract (state.hpp) — the model, the optimizer (a Lookahead with its inner
// optimizer), the schedulers, the loaders, a Standardizer, gradient noise, a generator, types
// of your own — and values of the run's own: counters, numbers, texts, tensors (a loss
// history, the run's settings). A run interrupted at any step — mid-epoch too — and resumed
// from the file continues bit-identically.
//
//   descent::data::TrainingState state;
//   state.add("model", model).add("optimizer", opt).add("scheduler", sched)
//        .add("loader", loader).add("scaler", scaler).add("epoch", epoch).add_generator();
//   state.save("run.safetensors");    // atomic (nn::save)
//   state.load("run.safetensors");    // all or nothing
//
// Key layout (readable from Python with safetensors.torch.load_file): "<component>.<key>",
// where <key> is the component's own state_dict key — "model.0.weight",
// "optimizer.param_groups.0.lr", "optimizer.inner.state.0.1.exp_avg", "scheduler.scheduler.t",
// "loader.order", "generator.words", "epoch.value". Texts go to the file's metadata: "config"
// ("TrainingState(model, optimizer, ...)") and each component's ("optimizer.config":
// "Lookahead(k=5, alpha=0.5)", "scheduler.config": "LRScheduler(lr=cosine(...))"). Loading a
// file of another model, optimizer, schedule, loader or set of components is an Error naming
// what differs, and changes nothing. An object added here and destroyed before a save or a
// load is an Error naming its component, never a read of freed memory.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "descent/lifetime.hpp"
#include "descent/state.hpp"
#include "descent/tensor.hpp"

namespace descent::data {

class TrainingState {
  public:
    /// An object of the state contract under a name of its own (no '.'; used once).
    template <Stateful T>
    TrainingState& add(std::string name, T& object);
    /// Values of the run's own, saved under "<name>.value": an int64 count, a float64 number
    /// (not NaN), a text (in the metadata), a float64 list (a loss history: any length and
    /// values), a tensor (any shape and values; of its dtype once it has one). They are
    /// references: the variables must outlive the TrainingState.
    TrainingState& add(std::string name, std::int64_t& value);
    TrainingState& add(std::string name, double& value);
    TrainingState& add(std::string name, std::string& value);
    TrainingState& add(std::string name, std::vector<double>& values);
    TrainingState& add(std::string name, Tensor& value);
    /// The generator of the thread that saves or loads (dropout masks, shuffles, init).
    TrainingState& add_generator(std::string name = "generator");

    /// Every component's state under its name, and the text "config" naming them.
    StateDict state_dict() const;
    /// Stages every component (an Error names the first that refuses its part), then returns
    /// what applies them all.
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

    void save(const std::filesystem::path& path) const;
    void load(const std::filesystem::path& path);

  private:
    struct Component {
        std::string name;
        std::function<StateDict()> save;
        std::function<StagedLoad(const StateDict&)> stage;
    };
    TrainingState& add_component(Component component);
    std::string config() const;

    std::vector<Component> components_;
    Lifetime lifetime_;
};

template <Stateful T>
TrainingState& TrainingState::add(std::string name, T& object) {
    if constexpr (HasLifetime<T>) {
        auto ref = std::make_shared<const Watched<T>>(object, "TrainingState",
                                                      "the object of component '" + name + "'");
        return add_component({std::move(name), [ref] { return StateDict(ref->get().state_dict()); },
                              [ref](const StateDict& s) { return ref->get().stage_load(s); }});
    } else {
        T* ref = &object;
        return add_component({std::move(name), [ref] { return StateDict(ref->state_dict()); },
                              [ref](const StateDict& s) { return ref->stage_load(s); }});
    }
}

}  // namespace descent::data
