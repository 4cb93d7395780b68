#include "anomaly.hpp"

#include <fmt/format.h>

#include "kernels.hpp"

namespace descent {
namespace {
thread_local std::string_view backward_of;

std::string shapes_of(const std::vector<Shape>& shapes) {
    std::vector<std::string> parts;
    for (const auto& s : shapes) parts.push_back(shape_str(s));
    return fmt::format("{}", fmt::join(parts, ", "));
}
}  // namespace

AnomalyBackwardScope::AnomalyBackwardScope(std::string_view op) : previous_(backward_of) {
    backward_of = op;
}
AnomalyBackwardScope::~AnomalyBackwardScope() {
    backward_of = previous_;
}

bool all_finite(const Tensor& t) {
    if (!is_floating(t.dtype())) return true;
    return kernel::dispatch_floating(t.dtype(), "anomaly", [&](auto tag) {
        using T = decltype(tag);
        return kernel::in<T>(t).isFinite().all();
    });
}

void check_forward_finite(std::string_view op, const std::vector<Tensor>& inputs,
                          const Tensor& out) {
    if (all_finite(out)) return;
    std::vector<Shape> shapes;
    for (const auto& t : inputs) shapes.push_back(t.shape());
    if (!backward_of.empty()) {
        throw AnomalyError(
            fmt::format("anomaly: {} produced NaN or Inf in its backward (in its "
                        "{}, inputs {})",
                        backward_of, op, shapes_of(shapes)));
    }
    throw AnomalyError(fmt::format("anomaly: {} produced NaN or Inf in its forward (inputs {})", op,
                                   shapes_of(shapes)));
}

void check_backward_finite(std::string_view op, const std::vector<Shape>& input_shapes,
                           const std::vector<Tensor>& grads) {
    for (std::size_t i = 0; i < grads.size(); ++i) {
        if (grads[i].defined() && !all_finite(grads[i])) {
            throw AnomalyError(fmt::format(
                "anomaly: {} produced NaN or Inf in its backward, in the gradient of input {} "
                "(inputs {})",
                op, i, shapes_of(input_shapes)));
        }
    }
}

}  // namespace descent
