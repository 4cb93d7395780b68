#pragma once
// Module: the base of every layer and model. It holds named parameters, buffers (running
// statistics) and child modules; gives them back recursively with dotted names
// ("0.weight", "encoder.norm.bias"); switches train/eval mode (separate from grad mode); and
// saves or restores them as a state dict.
//
// Modules are values: keep them on the stack, in containers, or inside other modules. A copy
// shares its parameters, buffers and children with the original (as a Tensor copy shares its
// storage); parameters live in stable slots, so references from register_parameter stay valid.
//
// A custom module in a few lines:
//   struct Net : descent::nn::Module {
//       descent::nn::Linear& fc1 = register_module("fc1", descent::nn::Linear(4, 8));
//       descent::nn::Linear& fc2 = register_module("fc2", descent::nn::Linear(8, 3));
//       descent::Tensor forward(const descent::Tensor& x) override {
//           return fc2(descent::relu(fc1(x)));
//       }
//   };
//
// A module whose forward takes or returns several tensors (a recurrent layer returns its
// output and state; attention takes query, key and value) declares its own forward and
// operator() with those types and leaves the one-tensor forward alone; called with one tensor
// (by Sequential, say) such a module gives an Error naming it.

#include <concepts>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "descent/check.hpp"
#include "descent/lifetime.hpp"
#include "descent/state.hpp"
#include "descent/tensor.hpp"

namespace descent::nn {

class Module {
  public:
    Module() = default;
    virtual ~Module() = default;
    Module(const Module&) = default;
    Module& operator=(const Module&) = default;
    Module(Module&&) = default;
    Module& operator=(Module&&) = default;

    /// The one-tensor forward that Sequential and operator() call. Modules with several inputs
    /// or outputs do not override it; calling it on them is an Error naming the module.
    virtual Tensor forward(const Tensor& input);
    Tensor operator()(const Tensor& input) { return forward(input); }

    /// Every parameter of this module and its children, depth first in registration order.
    std::vector<Tensor> parameters() const;
    NamedTensors named_parameters() const;
    std::vector<Tensor> buffers() const;
    NamedTensors named_buffers() const;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const {
        return children_;
    }
    std::vector<std::shared_ptr<Module>> children() const;

    /// Training mode (dropout active, batch statistics) or evaluation mode, recursively.
    Module& train(bool on = true);
    Module& eval() { return train(false); }
    bool is_training() const { return training_; }

    /// Drops every parameter's gradient.
    void zero_grad();
    /// Converts floating parameters and buffers to dtype (integer buffers stay as they are).
    Module& to(Dtype dtype);
    /// Freezes (false) or unfreezes every parameter, e.g. for fine-tuning.
    Module& requires_grad_(bool requires_grad);

    /// The name printing uses: the class name without namespaces ("Linear", "Net").
    virtual std::string type_name() const;
    /// The layer's own settings for printing, as torch's extra_repr ("in_features=4, ...").
    virtual std::string extra_repr() const { return {}; }

    /// Parameters and buffers by dotted name, each module's own before its children's (the
    /// tensors themselves, as torch's: a load copies values into them).
    StateDict state_dict() const;
    /// Checks `state` against the module and returns what copies it in. strict: every key must
    /// match both ways. Missing and unexpected keys, shape or dtype mismatches and values
    /// outside their range (NaN, ±inf, a negative running variance) are listed together in
    /// one Error. A float32 tensor loads into a float64 slot and back, converted as torch's
    /// copy_ (then range-checked); other dtypes must match. Texts (a checkpoint's metadata) are
    /// not read.
    StagedLoad stage_load(const StateDict& state, bool strict = true);
    /// stage_load, then apply: all or nothing.
    void load_state_dict(const StateDict& state, bool strict = true) {
        stage_load(state, strict).apply();
    }
    /// The Error load_state_dict would give, without loading anything.
    void check_state_dict(const StateDict& state, bool strict = true) const;
    const Lifetime& lifetime() const { return lifetime_; }

  protected:
    /// Registers a parameter (made a leaf requiring grad); the reference stays valid. A loaded
    /// state must hold values in `range`.
    Tensor& register_parameter(std::string name, Tensor value, bool requires_grad = true,
                               Interval range = finite());
    /// Registers a buffer: state that is saved but not trained (running statistics), whose
    /// loaded values must lie in `range`.
    Tensor& register_buffer(std::string name, Tensor value, Interval range = finite());
    /// Registers a child module and returns a reference to it (valid while any copy lives).
    template <class M>
    requires std::derived_from<std::decay_t<M>, Module> std::decay_t<M>
    &register_module(std::string name, M&& module) {
        auto child = std::make_shared<std::decay_t<M>>(std::forward<M>(module));
        auto& ref = *child;
        add_child(std::move(name), std::move(child));
        return ref;
    }
    void add_child(std::string name, std::shared_ptr<Module> child);

  private:
    struct Slot {
        std::string name;
        std::shared_ptr<Tensor> tensor;
        Interval range;
    };
    void check_new_name(const std::string& name) const;
    void collect(const std::string& prefix, NamedTensors& out, bool params, bool buffers) const;
    /// Every parameter and buffer slot with its dotted name, in state_dict order.
    void collect_slots(const std::string& prefix,
                       std::vector<std::pair<std::string, const Slot*>>& out) const;
    /// stage_load's checks; the copies (destination, source) it would make.
    std::vector<std::pair<Tensor, Tensor>> checked_copies(const StateDict& state,
                                                          bool strict) const;

    std::vector<Slot> params_;
    std::vector<Slot> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
    Lifetime lifetime_;
};

/// The module as torch prints it: its type and settings, its children indented below by name,
/// each layer's parameter shapes, and (at the top) the parameter count:
///   Sequential(
///     (0): Linear(in_features=64, out_features=10, bias=True)  # weight [10,64], bias [10]
///     (1): ReLU()
///   )
///   parameters: 650 (650 trainable) in 2 tensors
std::string to_string(const Module& module);
std::ostream& operator<<(std::ostream& os, const Module& module);

}  // namespace descent::nn
