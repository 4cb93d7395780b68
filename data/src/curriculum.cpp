#include "descent/data/curriculum.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "descent/check.hpp"

namespace descent::data {

Tensor curriculum_order(const Tensor& difficulty) {
    if (difficulty.dim() != 1) {
        throw ShapeError(fmt::format("curriculum_order: difficulty must be 1-D, got {}",
                                     shape_str(difficulty.shape())));
    }
    const std::vector<double> d = difficulty.to_vector();
    for (std::size_t i = 0; i < d.size(); ++i) {  // NaN has no place in a sorted order
        if (std::isnan(d[i])) {
            throw Error(fmt::format("curriculum_order: the difficulty of row {} is NaN", i));
        }
    }
    std::vector<std::int64_t> order(d.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return d[a] < d[b]; });
    return int_tensor(order, {static_cast<std::int64_t>(order.size())});
}

Tensor curriculum_subset(const Tensor& order, std::int64_t epoch, std::int64_t ramp_epochs,
                         double start_fraction) {
    check_count(ramp_epochs, 1, "curriculum_subset", "ramp_epochs");
    check_option(start_fraction, {0, 1, true, false}, "curriculum_subset", "start_fraction");
    if (order.dim() != 1 || order.dtype() != Dtype::int64) {
        throw ShapeError(fmt::format("curriculum_subset: order must be 1-D int64, got {} {}",
                                     dtype_name(order.dtype()), shape_str(order.shape())));
    }
    const double progress =
        std::clamp(static_cast<double>(epoch) / static_cast<double>(ramp_epochs), 0.0, 1.0);
    const double fraction = start_fraction + (1 - start_fraction) * progress;
    const auto n = order.numel();
    const auto take = std::clamp<std::int64_t>(
        static_cast<std::int64_t>(std::ceil(fraction * static_cast<double>(n))),
        std::min<std::int64_t>(1, n), n);
    return order.slice(0, 0, take);
}

}  // namespace descent::data
