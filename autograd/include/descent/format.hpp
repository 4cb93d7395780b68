#pragma once
// fmt support: fmt::format("{}", tensor) prints what operator<< prints.

#include <fmt/format.h>

#include "descent/tensor.hpp"

template <>
struct fmt::formatter<descent::Tensor> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(const descent::Tensor& t, Context& ctx) const {
        const std::string text = descent::to_string(t);
        return fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
    }
};
