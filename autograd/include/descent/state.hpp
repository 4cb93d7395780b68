#pragma once
// The one contract of everything that saves and loads — modules, optimizers, schedulers,
// generators, loaders, scalers, and your own types:
//   state_dict() const  -> StateDict   what the object is now, tensors and texts by name
//   stage_load(state)   -> StagedLoad  checks all of `state` against the object (shapes, dtypes,
//                                      the range of every value, the kind and configuration of
//                                      the object that wrote it) and changes nothing; its
//                                      apply() then loads it and cannot fail
//   load_state_dict(state)             the two at once
// Whatever holds several stateful parts (TrainingState, Lookahead) stages every part before it
// applies any, so that a load happens completely or not at all. StateReader (state_reader.hpp)
// does the checking.
//
//   struct Counter {                          // a type of your own, adopting the contract
//       std::int64_t n = 0;
//       descent::StateDict state_dict() const { return {{"n", descent::int_tensor({n}, {})}}; }
//       descent::StagedLoad stage_load(const descent::StateDict& state) {
//           descent::StateReader in(state, "Counter.load_state_dict");
//           const std::int64_t v = in.count("n");
//           in.reject_unread();
//           return [this, v] { n = v; };
//       }
//   };
//   static_assert(descent::Stateful<Counter>);

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "descent/tensor.hpp"

namespace descent {

/// Named tensors in order (what a checkpoint file holds, readable as the list of pairs it is),
/// found by name too, plus texts by name: what is no tensor, such as the configuration of the
/// object that wrote the state or a run's settings (a file keeps them in its metadata).
/// A NamedTensors converts to a StateDict without texts, and a StateDict is a NamedTensors.
class StateDict : public NamedTensors {
  public:
    using NamedTensors::NamedTensors;
    StateDict() = default;
    StateDict(NamedTensors tensors) : NamedTensors(std::move(tensors)) {}  // NOLINT: implicit

    /// The first entry named `name`, or end().
    iterator find(std::string_view name);
    const_iterator find(std::string_view name) const;
    bool contains(std::string_view name) const { return find(name) != end(); }
    using NamedTensors::at;
    /// The tensor named `name`; an Error naming it if there is none.
    const Tensor& at(std::string_view name) const;
    using NamedTensors::operator[];
    /// The tensor named `name`, appended undefined if there is none (as std::map's []).
    Tensor& operator[](std::string_view name);
    /// 1 if an entry is named `name`, else 0 (as std::map's count).
    std::size_t count(std::string_view name) const { return contains(name) ? 1 : 0; }
    using NamedTensors::erase;
    /// Removes the entries named `name`; how many there were.
    std::size_t erase(std::string_view name);
    using NamedTensors::emplace;
    using NamedTensors::insert;
    /// Appends (name, tensor) unless an entry has that name (as std::map's emplace and insert):
    /// the entry of that name, and whether it was added.
    std::pair<iterator, bool> emplace(std::string name, Tensor tensor);
    std::pair<iterator, bool> insert(value_type entry) {
        return emplace(std::move(entry.first), std::move(entry.second));
    }

    /// Appends every tensor and text of `part` under "prefix.".
    void add_part(std::string_view prefix, const StateDict& part);
    /// The tensors and texts under "prefix.", without it.
    StateDict part(std::string_view prefix) const;

    std::map<std::string, std::string, std::less<>> texts;
};

/// One value of a configuration text, spelled exactly: a number as the shortest text that reads
/// back as it (0.1, 1e-05), a flag as true/false, a list in brackets, a text as it is.
class ConfigValue {
  public:
    ConfigValue(double value);  // NOLINT: implicit, as describe's fields are written
    ConfigValue(bool value);    // NOLINT
    template <std::integral I>
    requires(!std::same_as<I, bool>) ConfigValue(I value)  // NOLINT
        : ConfigValue(integer(static_cast<std::int64_t>(value))) {}
    ConfigValue(const char* text) : text_(text) {}         // NOLINT
    ConfigValue(std::string_view text) : text_(text) {}    // NOLINT
    ConfigValue(const std::string& text) : text_(text) {}  // NOLINT
    ConfigValue(const std::vector<double>& values);        // NOLINT
    ConfigValue(const std::vector<std::int64_t>& values);  // NOLINT
    const std::string& text() const { return text_; }

  private:
    static ConfigValue integer(std::int64_t value);
    std::string text_;
};

/// "name(key=value, ...)": the text "config" an object writes into its state, to name its kind
/// and configuration ("Lookahead(k=5, alpha=0.5)").
std::string describe(std::string_view name,
                     std::initializer_list<std::pair<std::string_view, ConfigValue>> fields);

/// A load that has been checked in full but not applied yet. apply() loads it and cannot fail
/// (everything that could go wrong was found when it was staged); it applies once, and a
/// second call does nothing. A StagedLoad that is dropped unapplied changes nothing.
class StagedLoad {
  public:
    StagedLoad() = default;
    template <class F>
    requires(std::invocable<F&> && !std::same_as<std::decay_t<F>, StagedLoad>)
        StagedLoad(F apply)  // NOLINT: implicit, so that a stage_load can return a lambda
        : apply_(std::move(apply)) {}

    void apply() noexcept {
        std::function<void()> f = std::move(apply_);
        apply_ = nullptr;
        if (f) f();
    }

  private:
    std::function<void()> apply_;
};

/// The contract: a state to save, and a checked load of one.
template <class T>
concept Stateful = requires(T& object, const T& saved, const StateDict& state) {
    { saved.state_dict() } -> std::convertible_to<StateDict>;
    { object.stage_load(state) } -> std::same_as<StagedLoad>;
};

}  // namespace descent
