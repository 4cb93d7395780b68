#include "anomaly.hpp"

#include <fmt/format.h>

#include "kernels.hpp"

namespace descent {
namespace {
thread_local std::string_view inside_op;
thread_local std::string_view inside_phase;

std::string shapes_of(const std::vector<Shape>& shapes) {
    std::vector<std::string> parts;
    for (const auto& s : shapes) parts.push_back(shape_str(s));
    return fmt::format("{}", joined(parts, ", "));
}
}  // namespace

AnomalyScope::AnomalyScope(std::string_view op, std::string_view phase)
    : previous_op_(inside_op), previous_phase_(inside_phase) {
    inside_op = op;
    inside_phase = phase;
}
AnomalyScope::~AnomalyScope() {
    inside_op = previous_op_;
    inside_phase = previous_phase_;
}

bool all_finite(const Tensor& t) {
    if (!is_floating(t.dtype())) return true;
    return kernel::dispatch_floating(t.dtype(), "anomaly", [&](auto tag) {
        using T = decltype(tag);
        return kernel::in<T>(t).isFinite().all();
    });
}

void check_forward_finite(std::string_view op, std::span<const Tensor> inputs, const Tensor& out) {
    if (all_finite(out)) return;
    std::vector<Shape> shapes;
    for (const auto& t : inputs) shapes.push_back(t.shape());
    if (!inside_op.empty()) {
        throw AnomalyError(
            fmt::format("anomaly: {} produced NaN or Inf in its {} (in its {}, "
                        "inputs {})",
                        inside_op, inside_phase, op, shapes_of(shapes)));
    }
    throw AnomalyError(fmt::format("anomaly: {} produced NaN or Inf in its forward (inputs {})", op,
                                   shapes_of(shapes)));
}

void check_backward_finite(std::string_view op, const std::vector<Shape>& input_shapes,
                           std::span<const Tensor> grads) {
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
