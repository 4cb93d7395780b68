#pragma once
// Anomaly mode checks: the first op whose forward or backward produces NaN/Inf is named.

#include <span>
#include <string_view>
#include <vector>

#include "descent/tensor.hpp"

namespace descent {

bool all_finite(const Tensor& t);

/// While alive, anomalies in ops are reported as happening inside `phase` ("forward",
/// "backward") of `op` (a node's backward, a custom function's forward). Both strings must
/// outlive the scope.
class AnomalyScope {
  public:
    AnomalyScope(std::string_view op, std::string_view phase);
    ~AnomalyScope();
    AnomalyScope(const AnomalyScope&) = delete;
    AnomalyScope& operator=(const AnomalyScope&) = delete;

  private:
    std::string_view previous_op_, previous_phase_;
};
/// Throws AnomalyError naming op and the input shapes if `out` holds NaN or Inf.
void check_forward_finite(std::string_view op, std::span<const Tensor> inputs, const Tensor& out);
/// Throws AnomalyError if a gradient computed by op's backward holds NaN or Inf.
void check_backward_finite(std::string_view op, const std::vector<Shape>& input_shapes,
                           std::span<const Tensor> grads);

}  // namespace descent
