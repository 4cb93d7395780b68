#include "descent/nn/module.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

namespace descent::nn {

Tensor Module::forward(const Tensor& input) {
    throw Error(
        fmt::format("{}: its forward takes or returns several tensors, so it cannot be "
                    "called with the one tensor {} (as Sequential calls a module); call "
                    "its own forward",
                    type_name(), input.defined() ? shape_str(input.shape()) : "(none)"));
}

void Module::check_new_name(const std::string& name) const {
    if (name.empty() || name.find('.') != std::string::npos) {
        throw Error(fmt::format("register: invalid name '{}' (empty or containing '.')", name));
    }
    auto taken = [&](const auto& list) {
        for (const auto& entry : list) {
            if constexpr (requires { entry.name; }) {
                if (entry.name == name) return true;
            } else {
                if (entry.first == name) return true;
            }
        }
        return false;
    };
    if (taken(params_) || taken(buffers_) || taken(children_)) {
        throw Error(fmt::format("register: the name '{}' is already taken in this module", name));
    }
}

Tensor& Module::register_parameter(std::string name, Tensor value, bool requires_grad,
                                   Interval range) {
    check_new_name(name);
    if (!value.defined() || !is_floating(value.dtype())) {
        throw DtypeError(
            fmt::format("register_parameter: '{}' must be a float32/float64 tensor", name));
    }
    Tensor leaf = value.detach();
    leaf.requires_grad_(requires_grad);
    params_.push_back({std::move(name), std::make_shared<Tensor>(std::move(leaf)), range});
    return *params_.back().tensor;
}

Tensor& Module::register_buffer(std::string name, Tensor value, Interval range) {
    check_new_name(name);
    buffers_.push_back({std::move(name), std::make_shared<Tensor>(value.detach()), range});
    return *buffers_.back().tensor;
}

void Module::add_child(std::string name, std::shared_ptr<Module> child) {
    check_new_name(name);
    child->train(training_);
    children_.emplace_back(std::move(name), std::move(child));
}

void Module::collect(const std::string& prefix, NamedTensors& out, bool params,
                     bool buffers) const {
    // Recursion depth is the nesting depth of the model, not its size.
    if (params) {
        for (const auto& s : params_) out.emplace_back(prefix + s.name, *s.tensor);
    }
    if (buffers) {
        for (const auto& s : buffers_) out.emplace_back(prefix + s.name, *s.tensor);
    }
    for (const auto& [name, child] : children_) {
        child->collect(prefix + name + ".", out, params, buffers);
    }
}

NamedTensors Module::named_parameters() const {
    NamedTensors out;
    collect("", out, true, false);
    return out;
}

NamedTensors Module::named_buffers() const {
    NamedTensors out;
    collect("", out, false, true);
    return out;
}

StateDict Module::state_dict() const {
    StateDict out;
    collect("", out, true, true);
    return out;
}

void Module::collect_slots(const std::string& prefix,
                           std::vector<std::pair<std::string, const Slot*>>& out) const {
    for (const auto& s : params_) out.emplace_back(prefix + s.name, &s);
    for (const auto& s : buffers_) out.emplace_back(prefix + s.name, &s);
    for (const auto& [name, child] : children_) child->collect_slots(prefix + name + ".", out);
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_parameters()) out.push_back(t);
    return out;
}

std::vector<Tensor> Module::buffers() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_buffers()) out.push_back(t);
    return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
    std::vector<std::shared_ptr<Module>> out;
    for (const auto& [name, child] : children_) out.push_back(child);
    return out;
}

Module& Module::train(bool on) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
    return *this;
}

void Module::zero_grad() {
    for (auto& p : parameters()) p.set_grad({});
}

Module& Module::to(Dtype dtype) {
    if (!is_floating(dtype)) {
        throw DtypeError(fmt::format("Module::to: only float32 and float64 are allowed, got {}",
                                     dtype_name(dtype)));
    }
    // In place (set_data): each parameter stays the same tensor, so optimizers built before
    // keep updating it, as with torch's module.to.
    const NoGradGuard no_grad;
    for (auto& [name, t] : state_dict()) {
        if (is_floating(t.dtype()) && t.dtype() != dtype) Tensor(t).set_data(t.to(dtype));
    }
    return *this;
}

Module& Module::requires_grad_(bool requires_grad) {
    for (auto& s : params_) s.tensor->requires_grad_(requires_grad);
    for (auto& [name, child] : children_) child->requires_grad_(requires_grad);
    return *this;
}

namespace {
/// "element 3 is nan, outside (-inf, inf)" for the first value of t outside `range`, or "".
std::string first_outside(const Tensor& t, Interval range) {
    const auto find = [&](const auto* data) -> std::string {
        for (std::int64_t i = 0; i < t.numel(); ++i) {
            const auto v = static_cast<double>(data[i]);
            if (!range.contains(v)) {
                return fmt::format("element {} is {}, outside {}", i, v, range.str());
            }
        }
        return {};
    };
    switch (t.dtype()) {
        case Dtype::float32:
            return find(t.data<float>());
        case Dtype::float64:
            return find(t.data<double>());
        case Dtype::int64:
            return find(t.data<std::int64_t>());
        case Dtype::boolean:
            return {};
    }
    return {};
}
}  // namespace

std::vector<std::pair<Tensor, Tensor>> Module::checked_copies(const StateDict& state,
                                                              bool strict) const {
    std::map<std::string_view, const Tensor*> given;
    std::vector<std::string> repeated, missing, mismatched, unexpected;
    for (const auto& [name, t] : state) {
        if (!given.emplace(name, &t).second) repeated.push_back(name);
    }
    std::vector<std::pair<std::string, const Slot*>> slots;
    collect_slots("", slots);
    std::set<std::string_view> known;
    std::vector<std::pair<Tensor, Tensor>> copies;
    for (const auto& [name, slot] : slots) {
        known.insert(name);
        const auto it = given.find(name);
        const Tensor& mine = *slot->tensor;
        if (it == given.end()) {
            missing.push_back(name);
            continue;
        }
        const Tensor& given_tensor = *it->second;
        // As torch's copy_, a floating tensor loads into a floating slot of the other precision
        // (converted, then range-checked: a float64 value beyond float32's range becomes inf);
        // integer and bool tensors must match exactly.
        const bool convertible = given_tensor.defined() && given_tensor.dtype() != mine.dtype() &&
                                 is_floating(given_tensor.dtype()) && is_floating(mine.dtype());
        if (!given_tensor.defined()) {
            mismatched.push_back(fmt::format("{}: the given tensor is undefined", name));
        } else if (given_tensor.shape() != mine.shape() ||
                   (given_tensor.dtype() != mine.dtype() && !convertible)) {
            mismatched.push_back(fmt::format("{}: checkpoint {} {} vs model {} {}", name,
                                             dtype_name(given_tensor.dtype()),
                                             shape_str(given_tensor.shape()),
                                             dtype_name(mine.dtype()), shape_str(mine.shape())));
        } else {
            const Tensor t = convertible ? given_tensor.to(mine.dtype()) : given_tensor;
            if (const std::string bad = first_outside(t, slot->range); !bad.empty()) {
                mismatched.push_back(fmt::format("{}: {}", name, bad));
            } else {
                copies.emplace_back(mine, t);
            }
        }
    }
    for (const auto& [name, t] : state) {
        if (!known.contains(name)) unexpected.push_back(name);
    }
    std::vector<std::string> problems;
    if (!repeated.empty()) {
        problems.push_back(fmt::format("keys given twice [{}]", joined(repeated, ", ")));
    }
    if (strict && !missing.empty()) {
        problems.push_back(fmt::format("missing keys [{}]", joined(missing, ", ")));
    }
    if (strict && !unexpected.empty()) {
        problems.push_back(fmt::format("unexpected keys [{}]", joined(unexpected, ", ")));
    }
    if (!mismatched.empty()) {
        problems.push_back(fmt::format("mismatched [{}]", joined(mismatched, "; ")));
    }
    if (!problems.empty()) {
        throw Error(fmt::format("load_state_dict: {}", joined(problems, "; ")));
    }
    return copies;
}

void Module::check_state_dict(const StateDict& state, bool strict) const {
    checked_copies(state, strict);
}

StagedLoad Module::stage_load(const StateDict& state, bool strict) {
    return [copies = checked_copies(state, strict)] {
        const NoGradGuard no_grad;
        for (const auto& [destination, source] : copies) Tensor(destination).copy_(source);
    };
}

}  // namespace descent::nn
