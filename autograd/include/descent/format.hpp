#pragma once
// fmt support: fmt::format("{}", tensor) prints what operator<< prints, and shapes and dim
// lists (std::vector) print as ranges: fmt::format("{}", t.shape()) gives "[3, 4]".

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "descent/tensor.hpp"

template <>
struct fmt::formatter<descent::Tensor> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(const descent::Tensor& t, Context& ctx) const {
        const std::string text = descent::to_string(t);
        return fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
    }
};
