#pragma once
// fmt support for modules: fmt::format("{}", model) prints what nn::to_string(model) gives.

#include <fmt/format.h>

#include <concepts>
#include <string>
#include <string_view>

#include "descent/nn/module.hpp"

/// fmt::format("{}", model) prints what to_string(model) gives, for any module type.
template <class M>
requires std::derived_from<M, descent::nn::Module>
struct fmt::formatter<M> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(const M& m, Context& ctx) const {
        const std::string text = descent::nn::to_string(m);
        return fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
    }
};
