// The regression losses (mse_loss, l1_loss, huber_loss) and the checks every loss shares.

#include "descent/nn/loss.hpp"

#include <fmt/format.h>

#include <cmath>

#include "descent/check.hpp"
#include "descent/ops.hpp"
#include "loss_common.hpp"

namespace descent::nn {
namespace detail {

Tensor reduce(const Tensor& losses, Reduction reduction) {
    switch (reduction) {
        case Reduction::mean:
            return losses.mean();
        case Reduction::sum:
            return losses.sum();
        case Reduction::none:
            return losses;
    }
    return losses;
}

void check_same_shape(const Tensor& input, const Tensor& target, std::string_view op) {
    if (!input.defined() || !target.defined()) {
        throw Error(fmt::format("{}: input or target is undefined", op));
    }
    if (input.shape() != target.shape() || input.dtype() != target.dtype() ||
        !is_floating(input.dtype())) {
        throw ShapeError(
            fmt::format("{}: input {} {} and target {} {} must be floating tensors of "
                        "one shape and dtype",
                        op, dtype_name(input.dtype()), shape_str(input.shape()),
                        dtype_name(target.dtype()), shape_str(target.shape())));
    }
}

void check_weight_values(const Tensor& weight, const Tensor& like, std::string_view op,
                         std::string_view name) {
    if (weight.dtype() != like.dtype()) {
        throw DtypeError(fmt::format("{}: {} must have the input's dtype {}, got {} {}", op, name,
                                     dtype_name(like.dtype()), dtype_name(weight.dtype()),
                                     shape_str(weight.shape())));
    }
    const std::vector<double> values = weight.to_vector();
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!(std::isfinite(values[i]) && values[i] >= 0)) {
            throw Error(fmt::format("{}: {} must be finite and >= 0, got {} at flat index {}", op,
                                    name, values[i], i));
        }
    }
}

void check_broadcast_weight(const Tensor& weight, const Tensor& input, std::string_view op,
                            std::string_view name) {
    if (!weight.defined()) return;
    const Shape& w = weight.shape();
    const Shape& x = input.shape();
    bool fits = w.size() <= x.size();
    for (std::size_t i = 1; fits && i <= w.size(); ++i) {
        const std::int64_t we = w[w.size() - i], xe = x[x.size() - i];
        fits = we == xe || we == 1;
    }
    if (!fits) {
        throw ShapeError(fmt::format("{}: {} of shape {} does not broadcast to the input's {}", op,
                                     name, shape_str(w), shape_str(x)));
    }
    check_weight_values(weight, input, op, name);
}

}  // namespace detail

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    detail::check_same_shape(input, target, "mse_loss");
    if (reduction != Reduction::none && input.dtype() == target.dtype() &&
        is_floating(input.dtype())) {
        return squared_error(input, target, reduction == Reduction::mean);  // one node
    }
    const Tensor d = input - target;
    return detail::reduce(d * d, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    detail::check_same_shape(input, target, "l1_loss");
    return detail::reduce(abs(input - target), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
    detail::check_same_shape(input, target, "huber_loss");
    check_option(delta, above(0), "huber_loss", "delta");
    const Tensor d = input - target;
    const Tensor a = abs(d);
    return detail::reduce(where(a < delta, d * d * 0.5, (a - 0.5 * delta) * delta), reduction);
}

}  // namespace descent::nn
