// One checkpoint of a whole training run (training_state.hpp): each component saves its own
// state dict under its name, and loading stages every component before applying any.

#include "descent/data/training_state.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "descent/grad_mode.hpp"
#include "descent/nn/checkpoint.hpp"
#include "descent/random.hpp"

namespace descent::data {
namespace {

constexpr std::string_view kMetadataKey = "descent";

NamedTensors from_map(const optim::StateDict& state) {
    return NamedTensors(state.begin(), state.end());
}

optim::StateDict to_map(const NamedTensors& state) {
    return optim::StateDict(state.begin(), state.end());
}

/// A one-element tensor's value, checked to be of `dtype`.
const Tensor& single(const NamedTensors& state, Dtype dtype, std::string_view name) {
    if (state.size() != 1 || state.front().first != "value" || !state.front().second.defined() ||
        state.front().second.dtype() != dtype || state.front().second.numel() != 1) {
        throw Error(
            fmt::format("component '{}' holds one {} entry 'value'", name, dtype_name(dtype)));
    }
    return state.front().second;
}

}  // namespace

TrainingState& TrainingState::add_component(Component component) {
    if (component.name.empty() || component.name.find('.') != std::string::npos) {
        throw Error(fmt::format("TrainingState.add: the name '{}' is empty or holds a '.'",
                                component.name));
    }
    for (const auto& c : components_) {
        if (c.name == component.name) {
            throw Error(fmt::format("TrainingState.add: '{}' is already a component", c.name));
        }
    }
    components_.push_back(std::move(component));
    return *this;
}

TrainingState& TrainingState::add(std::string name, nn::Module& module) {
    return add_component({std::move(name), [&module] { return module.state_dict(); },
                          [&module](const NamedTensors& s) -> Staged {
                              module.check_state_dict(s);
                              return [&module, s] { module.load_state_dict(s); };
                          }});
}

TrainingState& TrainingState::add(std::string name, optim::Optimizer& optimizer) {
    return add_component({std::move(name),
                          [&optimizer] { return from_map(optimizer.state_dict()); },
                          [&optimizer](const NamedTensors& s) -> Staged {
                              return optimizer.stage_load(to_map(s));
                          }});
}

TrainingState& TrainingState::add(std::string name, optim::LRScheduler& scheduler) {
    return add_component({std::move(name),
                          [&scheduler] { return from_map(scheduler.state_dict()); },
                          [&scheduler](const NamedTensors& s) -> Staged {
                              return scheduler.stage_load(to_map(s));
                          }});
}

TrainingState& TrainingState::add(std::string name, optim::ReduceLROnPlateau& scheduler) {
    return add_component({std::move(name),
                          [&scheduler] { return from_map(scheduler.state_dict()); },
                          [&scheduler](const NamedTensors& s) -> Staged {
                              return scheduler.stage_load(to_map(s));
                          }});
}

TrainingState& TrainingState::add(std::string name, optim::GradientNoise& noise) {
    return add_component({std::move(name), [&noise] { return noise.state_dict(); },
                          [&noise](const NamedTensors& s) -> Staged {
                              optim::GradientNoise copy = noise;  // checks on a copy first
                              copy.load_state_dict(s);
                              return [&noise, copy] { noise = copy; };
                          }});
}

TrainingState& TrainingState::add(std::string name, DataLoader& loader) {
    return add_component({std::move(name), [&loader] { return loader.state_dict(); },
                          [&loader](const NamedTensors& s) -> Staged {
                              DataLoader copy = loader;
                              copy.load_state_dict(s);
                              return [&loader, s] { loader.load_state_dict(s); };
                          }});
}

TrainingState& TrainingState::add(std::string name, Standardizer& standardizer) {
    return add_component({std::move(name), [&standardizer] { return standardizer.state_dict(); },
                          [&standardizer](const NamedTensors& s) -> Staged {
                              Standardizer copy;
                              copy.load_state_dict(s);
                              return [&standardizer, copy] { standardizer = copy; };
                          }});
}

TrainingState& TrainingState::add(std::string name, std::int64_t& counter) {
    const std::string label = name;
    return add_component({std::move(name),
                          [&counter] {
                              return NamedTensors{{"value", int_tensor({counter}, {})}};
                          },
                          [&counter, label](const NamedTensors& s) -> Staged {
                              const std::int64_t v =
                                  single(s, Dtype::int64, label).item<std::int64_t>();
                              return [&counter, v] { counter = v; };
                          }});
}

TrainingState& TrainingState::add(std::string name, double& value) {
    const std::string label = name;
    return add_component(
        {std::move(name),
         [&value] {
             return NamedTensors{{"value", scalar_tensor(value, {.dtype = Dtype::float64})}};
         },
         [&value, label](const NamedTensors& s) -> Staged {
             const double v = single(s, Dtype::float64, label).item();
             return [&value, v] { value = v; };
         }});
}

TrainingState& TrainingState::add_generator(std::string name) {
    return add_component({std::move(name), [] { return global_generator().state_dict(); },
                          [](const NamedTensors& s) -> Staged {
                              Generator copy = global_generator();
                              copy.load_state_dict(s);
                              return [copy] { global_generator() = copy; };
                          }});
}

NamedTensors TrainingState::state_dict() const {
    NamedTensors out;
    for (const auto& c : components_) {
        for (auto& [key, t] : c.save()) out.emplace_back(c.name + "." + key, t);
    }
    return out;
}

void TrainingState::load_state_dict(const NamedTensors& state) {
    std::map<std::string, NamedTensors> by_component;
    for (const auto& [key, t] : state) {
        const std::size_t dot = key.find('.');
        by_component[key.substr(0, dot)].emplace_back(
            dot == std::string::npos ? std::string() : key.substr(dot + 1), t);
    }
    std::vector<std::string> missing, unexpected;
    std::set<std::string> mine;
    for (const auto& c : components_) {
        mine.insert(c.name);
        // a component may save nothing (an unfitted Standardizer): absent is its empty state
        if (!by_component.contains(c.name) && !c.save().empty()) missing.push_back(c.name);
    }
    for (const auto& [name, entries] : by_component) {
        if (!mine.contains(name)) unexpected.push_back(name);
    }
    if (!missing.empty() || !unexpected.empty()) {
        throw Error(
            fmt::format("TrainingState.load: missing components [{}], unexpected "
                        "components [{}]",
                        fmt::join(missing, ", "), fmt::join(unexpected, ", ")));
    }
    std::vector<Staged> staged;
    for (const auto& c : components_) {
        try {
            staged.push_back(c.stage(by_component[c.name]));
        } catch (const Error& e) {
            throw Error(fmt::format("TrainingState.load: component '{}': {}", c.name, e.what()));
        }
    }
    for (const auto& apply : staged) apply();
}

void TrainingState::save(const std::filesystem::path& path) const {
    std::vector<std::string> names;
    for (const auto& c : components_) names.push_back(c.name);
    nn::save(state_dict(), path,
             {{std::string(kMetadataKey), fmt::format("{}", fmt::join(names, ","))}});
}

void TrainingState::load(const std::filesystem::path& path) {
    load_state_dict(nn::load_checkpoint(path).tensors);
}

}  // namespace descent::data
