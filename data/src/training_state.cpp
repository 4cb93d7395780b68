// One checkpoint of a whole training run (training_state.hpp): each component saves its own
// state under its name, and loading stages every component before applying any.

#include "descent/data/training_state.hpp"

#include <fmt/format.h>

#include <limits>
#include <optional>
#include <set>

#include "descent/nn/checkpoint.hpp"
#include "descent/random.hpp"
#include "descent/state_reader.hpp"

namespace descent::data {
namespace {
/// The staged load of a value of the run's own: read checks and returns its entry "value".
template <class V, class Read>
std::function<StagedLoad(const StateDict&)> stage_value(const std::string& name, V& value,
                                                        Read read) {
    const std::string op = fmt::format("TrainingState '{}'", name);
    return [&value, read, op](const StateDict& state) -> StagedLoad {
        StateReader in(state, op);
        V loaded = read(in);
        in.reject_unread();
        return [&value, loaded = std::move(loaded)] { value = loaded; };
    };
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

TrainingState& TrainingState::add(std::string name, std::int64_t& value) {
    auto stage = stage_value(name, value, [](StateReader& in) {
        return in.count("value", std::numeric_limits<std::int64_t>::min());
    });
    return add_component({std::move(name),
                          [&value] {
                              return StateDict{{"value", int_tensor({value}, {})}};
                          },
                          std::move(stage)});
}

TrainingState& TrainingState::add(std::string name, double& value) {
    auto stage = stage_value(name, value,
                             [](StateReader& in) { return in.real("value", closed(-inf, inf)); });
    return add_component({std::move(name),
                          [&value] {
                              return StateDict{{"value", scalar_tensor(value, {.dtype = float64})}};
                          },
                          std::move(stage)});
}

TrainingState& TrainingState::add(std::string name, std::string& value) {
    auto stage = stage_value(name, value, [](StateReader& in) { return in.text("value"); });
    return add_component({std::move(name),
                          [&value] {
                              StateDict out;
                              out.texts["value"] = value;
                              return out;
                          },
                          std::move(stage)});
}

TrainingState& TrainingState::add(std::string name, std::vector<double>& values) {
    const std::string op = fmt::format("TrainingState '{}'", name);
    auto stage = stage_value(name, values, [op](StateReader& in) {
        const Tensor t = in.any("value", float64);
        if (t.dim() != 1) {
            throw Error(fmt::format("{}: 'value' must be 1-D, got {}", op, shape_str(t.shape())));
        }
        return t.to_vector();
    });
    return add_component({std::move(name),
                          [&values] {
                              const auto n = static_cast<std::int64_t>(values.size());
                              return StateDict{{"value", tensor(values, {n}, {.dtype = float64})}};
                          },
                          std::move(stage)});
}

TrainingState& TrainingState::add(std::string name, Tensor& value) {
    auto stage = stage_value(name, value, [&value](StateReader& in) {
        return in.any("value", value.defined() ? std::optional(value.dtype()) : std::nullopt);
    });
    return add_component({std::move(name),
                          [&value] {
                              StateDict out;
                              if (value.defined())
                                  out.emplace_back("value", value.detach().clone());
                              return out;
                          },
                          std::move(stage)});
}

TrainingState& TrainingState::add_generator(std::string name) {
    return add_component({std::move(name), [] { return global_generator().state_dict(); },
                          [](const StateDict& s) { return global_generator().stage_load(s); }});
}

std::string TrainingState::config() const {
    std::vector<std::string> names;
    for (const auto& c : components_) names.push_back(c.name);
    return fmt::format("TrainingState({})", joined(names, ", "));
}

StateDict TrainingState::state_dict() const {
    StateDict out;
    out.texts["config"] = config();
    for (const auto& c : components_) out.add_part(c.name, c.save());
    return out;
}

StagedLoad TrainingState::stage_load(const StateDict& state) {
    StateReader in(state, "TrainingState.load");
    // The components of the state: the names its tensors and texts start with.
    std::set<std::string, std::less<>> written;
    const auto component_of = [](const std::string& key) { return key.substr(0, key.find('.')); };
    for (const auto& [key, t] : state) written.insert(component_of(key));
    for (const auto& [key, text] : state.texts) {
        if (key.find('.') != std::string::npos) written.insert(component_of(key));
    }
    std::vector<std::string> missing, unexpected;
    std::set<std::string, std::less<>> mine;
    for (const auto& c : components_) {
        mine.insert(c.name);
        // a component may save nothing: absent is its empty state
        if (written.contains(c.name)) continue;
        const StateDict now = c.save();
        if (!now.empty() || !now.texts.empty()) missing.push_back(c.name);
    }
    for (const auto& name : written) {
        if (!mine.contains(name)) unexpected.push_back(name);
    }
    if (!missing.empty() || !unexpected.empty()) {
        throw Error(fmt::format("{}: missing components [{}], unexpected components [{}]", in.op(),
                                joined(missing, ", "), joined(unexpected, ", ")));
    }
    std::vector<StagedLoad> staged;
    for (const auto& c : components_) {
        try {
            staged.push_back(c.stage(in.part(c.name)));
        } catch (const Error& e) {
            throw Error(fmt::format("TrainingState.load: component '{}': {}", c.name, e.what()));
        }
    }
    in.reject_unread();
    return [staged = std::move(staged)]() mutable {
        for (auto& apply : staged) apply.apply();
    };
}

void TrainingState::save(const std::filesystem::path& path) const {
    nn::save(state_dict(), path);
}

void TrainingState::load(const std::filesystem::path& path) {
    const StateDict state = nn::load(path);  // its errors name the file
    StagedLoad staged;
    try {
        staged = stage_load(state);
    } catch (const Error& e) {
        throw Error(fmt::format("TrainingState.load('{}'): {}", path.string(), e.what()));
    }
    staged.apply();
}

}  // namespace descent::data
