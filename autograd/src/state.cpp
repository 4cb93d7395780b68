// StateDict's lookups and StateReader's checked reads (state.hpp, state_reader.hpp).

#include <fmt/format.h>

#include <algorithm>

#include "descent/grad_mode.hpp"
#include "descent/state_reader.hpp"

namespace descent {
namespace {
/// "float32 [3,4]", or "an undefined tensor".
std::string describe(const Tensor& t) {
    if (!t.defined()) return "an undefined tensor";
    return fmt::format("{} {}", dtype_name(t.dtype()), shape_str(t.shape()));
}

/// The flat index of the first element of `data` outside `allowed`, or -1.
template <class T>
std::int64_t first_outside(const T* data, std::int64_t n, Interval allowed) {
    for (std::int64_t i = 0; i < n; ++i) {
        if (!allowed.contains(static_cast<double>(data[i]))) return i;
    }
    return -1;
}

std::string join_prefix(std::string_view prefix, std::string_view name) {
    std::string key(prefix);
    key += '.';
    key += name;
    return key;
}
}  // namespace

// --- configuration texts ------------------------------------------------------------------

ConfigValue::ConfigValue(double value) : text_(fmt::format("{}", value)) {}

ConfigValue::ConfigValue(bool value) : text_(value ? "true" : "false") {}

namespace {
/// "[a, b, c]", each value as ConfigValue spells it (fmt::join would compile fmt's number
/// writing into this file; fmt::format("{}", v) calls the library's).
template <class T>
std::string bracketed(const std::vector<T>& values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ", ";
        out += fmt::format("{}", values[i]);
    }
    return out + "]";
}
}  // namespace

ConfigValue::ConfigValue(const std::vector<double>& values) : text_(bracketed(values)) {}

ConfigValue::ConfigValue(const std::vector<std::int64_t>& values) : text_(bracketed(values)) {}

ConfigValue ConfigValue::integer(std::int64_t value) {
    return ConfigValue(fmt::format("{}", value));
}

std::string describe(std::string_view name,
                     std::initializer_list<std::pair<std::string_view, ConfigValue>> fields) {
    std::string out(name);
    out += '(';
    bool first = true;
    for (const auto& [key, value] : fields) {
        if (!first) out += ", ";
        first = false;
        out += key;
        out += '=';
        out += value.text();
    }
    out += ')';
    return out;
}

// --- StateDict ----------------------------------------------------------------------------

StateDict::iterator StateDict::find(std::string_view name) {
    return std::find_if(begin(), end(), [&](const auto& entry) { return entry.first == name; });
}

StateDict::const_iterator StateDict::find(std::string_view name) const {
    return std::find_if(begin(), end(), [&](const auto& entry) { return entry.first == name; });
}

const Tensor& StateDict::at(std::string_view name) const {
    const auto it = find(name);
    if (it == end()) throw Error(fmt::format("StateDict: no entry '{}'", name));
    return it->second;
}

Tensor& StateDict::operator[](std::string_view name) {
    const auto it = find(name);
    if (it != end()) return it->second;
    return emplace_back(std::string(name), Tensor{}).second;
}

std::size_t StateDict::erase(std::string_view name) {
    const auto first =
        std::remove_if(begin(), end(), [&](const auto& e) { return e.first == name; });
    const auto removed = static_cast<std::size_t>(end() - first);
    NamedTensors::erase(first, end());
    return removed;
}

std::pair<StateDict::iterator, bool> StateDict::emplace(std::string name, Tensor tensor) {
    const auto it = find(name);
    if (it != end()) return {it, false};
    emplace_back(std::move(name), std::move(tensor));
    return {end() - 1, true};
}

void StateDict::add_part(std::string_view prefix, const StateDict& part) {
    for (const auto& [name, t] : part) emplace_back(join_prefix(prefix, name), t);
    for (const auto& [name, text] : part.texts) texts[join_prefix(prefix, name)] = text;
}

StateDict StateDict::part(std::string_view prefix) const {
    const std::string start = join_prefix(prefix, "");
    StateDict out;
    for (const auto& [name, t] : *this) {
        if (name.starts_with(start)) out.emplace_back(name.substr(start.size()), t);
    }
    for (auto it = texts.lower_bound(start); it != texts.end() && it->first.starts_with(start);
         ++it) {
        out.texts.emplace(it->first.substr(start.size()), it->second);
    }
    return out;
}

// --- StateReader --------------------------------------------------------------------------

StateReader::StateReader(const StateDict& state, std::string op)
    : state_(state), op_(std::move(op)), read_(state.size(), false) {
    for (std::size_t i = 0; i < state.size(); ++i) {
        if (!index_.emplace(state[i].first, i).second) {
            throw Error(fmt::format("{}: the state names '{}' twice", op_, state[i].first));
        }
    }
}

const Tensor& StateReader::find(std::string_view name) {
    const auto it = index_.find(name);
    if (it == index_.end()) throw Error(fmt::format("{}: the state has no entry '{}'", op_, name));
    const Tensor& t = state_[it->second].second;
    if (!t.defined()) throw Error(fmt::format("{}: entry '{}' is undefined", op_, name));
    read_[it->second] = true;
    return t;
}

std::int64_t StateReader::count(std::string_view name, std::int64_t low, std::int64_t high) {
    const Tensor& t = find(name);
    if (t.dtype() != Dtype::int64 || t.dim() != 0) {
        throw Error(fmt::format("{}: '{}' must be one int64 value (shape []), got {}", op_, name,
                                describe(t)));
    }
    const auto v = t.item<std::int64_t>();
    if (v < low || v > high) {
        throw Error(fmt::format("{}: '{}' must be in [{}, {}], got {}", op_, name, low, high, v));
    }
    return v;
}

bool StateReader::flag(std::string_view name) {
    return count(name, 0, 1) == 1;
}

double StateReader::real(std::string_view name, Interval allowed) {
    const Tensor& t = find(name);
    if (!is_floating(t.dtype()) || t.dim() != 0) {
        throw Error(fmt::format("{}: '{}' must be one floating value (shape []), got {}", op_, name,
                                describe(t)));
    }
    return check_option(t.item(), allowed, op_, fmt::format("'{}'", name));
}

Tensor StateReader::floats(std::string_view name, const Shape& shape, Dtype dtype,
                           Interval allowed) {
    const Tensor& t = find(name);
    if (!is_floating(t.dtype()) || t.shape() != shape) {
        throw Error(fmt::format("{}: '{}' must be floating {}, got {}", op_, name, shape_str(shape),
                                describe(t)));
    }
    const NoGradGuard no_grad;
    Tensor copy = t.detach().to(dtype).clone();
    const std::int64_t bad = dtype == Dtype::float32
                                 ? first_outside(copy.data<float>(), copy.numel(), allowed)
                                 : first_outside(copy.data<double>(), copy.numel(), allowed);
    if (bad >= 0) {
        throw Error(fmt::format("{}: element {} of '{}' is {} as {}, outside {}", op_, bad, name,
                                t.to(Dtype::float64).data<double>()[bad], dtype_name(dtype),
                                allowed.str()));
    }
    return copy;
}

Tensor StateReader::ints(std::string_view name, const Shape& shape, std::int64_t low,
                         std::int64_t high) {
    const Tensor& t = find(name);
    if (t.dtype() != Dtype::int64 || t.shape() != shape) {
        throw Error(fmt::format("{}: '{}' must be int64 {}, got {}", op_, name, shape_str(shape),
                                describe(t)));
    }
    const std::int64_t* data = t.data<std::int64_t>();
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        if (data[i] < low || data[i] > high) {
            throw Error(fmt::format("{}: element {} of '{}' is {}, outside [{}, {}]", op_, i, name,
                                    data[i], low, high));
        }
    }
    const NoGradGuard no_grad;
    return t.detach().clone();
}

Tensor StateReader::any(std::string_view name, std::optional<Dtype> dtype) {
    const Tensor& t = find(name);
    if (dtype && t.dtype() != *dtype) {
        throw Error(
            fmt::format("{}: '{}' must be {}, got {}", op_, name, dtype_name(*dtype), describe(t)));
    }
    const NoGradGuard no_grad;
    return t.detach().clone();
}

const std::string& StateReader::text(std::string_view name) const {
    const auto it = state_.texts.find(name);
    if (it == state_.texts.end()) {
        throw Error(fmt::format("{}: the state has no text '{}'", op_, name));
    }
    return it->second;
}

void StateReader::expect_config(std::string_view config) const {
    const auto it = state_.texts.find("config");
    if (it == state_.texts.end()) return;  // a list of tensors alone: checked without it
    if (it->second != config) {
        throw Error(fmt::format("{}: the state was written by {}, but this is {}", op_, it->second,
                                config));
    }
}

StateDict StateReader::part(std::string_view prefix) {
    const std::string start = join_prefix(prefix, "");
    for (auto it = index_.lower_bound(start); it != index_.end() && it->first.starts_with(start);
         ++it) {
        read_[it->second] = true;
    }
    return state_.part(prefix);
}

std::vector<std::string> StateReader::unread(std::string_view prefix) const {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < state_.size(); ++i) {
        if (!read_[i] && state_[i].first.starts_with(prefix)) names.push_back(state_[i].first);
    }
    return names;
}

void StateReader::reject_unread() const {
    const std::vector<std::string> extra = unread();
    if (!extra.empty()) {
        throw Error(fmt::format("{}: unexpected entries [{}] (the state of another object?)", op_,
                                joined(extra, ", ")));
    }
}

}  // namespace descent
