#include "descent/nn/sequential.hpp"

#include <fmt/format.h>

namespace descent::nn {

const std::shared_ptr<Module>& Sequential::checked(std::size_t i, std::string_view op) const {
    if (i >= modules_.size()) {
        throw IndexError(
            fmt::format("{}: index {} out of range for {} modules", op, i, modules_.size()));
    }
    return modules_[i];
}

Tensor Sequential::forward(const Tensor& x) {
    Tensor h = x;
    for (auto& m : modules_) h = (*m)(h);
    return h;
}

}  // namespace descent::nn
