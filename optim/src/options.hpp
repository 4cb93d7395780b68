#pragma once
// An algorithm's options struct and its group's hyperparameters by torch's names, both ways,
// from one list of fields per struct: `visit_fields(O& o, f)` calls f("lr", o.lr),
// f("beta1", o.betas[0]), ... (defined next to the algorithm, found by argument-dependent
// lookup). Flags are 0 or 1, counts whole numbers, in the hyperparameters.

#include <cstdint>
#include <optional>
#include <string_view>

#include "descent/check.hpp"
#include "descent/optim/lbfgs.hpp"
#include "descent/optim/optimizer.hpp"

namespace descent::optim::detail {

inline double encode(double v) {
    return v;
}
inline double encode(bool v) {
    return v ? 1.0 : 0.0;
}
inline double encode(std::int64_t v) {
    return static_cast<double>(v);
}
inline double encode(const std::optional<std::int64_t>& v) {
    return static_cast<double>(v.value_or(0));
}
inline double encode(LineSearch v) {
    return v == LineSearch::strong_wolfe ? 1.0 : 0.0;
}

inline void decode(double v, double& field, std::string_view) {
    field = v;
}
inline void decode(double v, bool& field, std::string_view) {
    field = v != 0.0;
}
inline void decode(double v, std::int64_t& field, std::string_view name) {
    field = checked_int64(v, "optimizer options", name);
}
inline void decode(double v, std::optional<std::int64_t>& field, std::string_view name) {
    field = checked_int64(v, "optimizer options", name);
}
inline void decode(double v, LineSearch& field, std::string_view) {
    field = v != 0.0 ? LineSearch::strong_wolfe : LineSearch::none;
}

/// The options under torch's names.
template <class O>
Hyperparameters to_hyperparameters(O options) {
    Hyperparameters out;
    visit_fields(options, [&](std::string_view name, const auto& field) {
        out.emplace(name, encode(field));
    });
    return out;
}

/// The options a group holds (checked hyperparameters: every field is there).
template <class O>
O read_options(const Hyperparameters& hyperparameters) {
    O options{};
    visit_fields(options, [&](std::string_view name, auto& field) {
        const auto it = hyperparameters.find(name);
        decode(it->second, field, name);
    });
    return options;
}

}  // namespace descent::optim::detail
