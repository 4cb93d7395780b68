#pragma once
// Anomaly mode checks: the first op whose forward or backward produces NaN/Inf is named.

#include <string_view>
#include <vector>

#include "descent/tensor.hpp"

namespace descent {

bool all_finite(const Tensor& t);

/// While alive, anomalies in ops are reported as happening inside the backward of `op`.
class AnomalyBackwardScope {
  public:
    explicit AnomalyBackwardScope(std::string_view op);
    ~AnomalyBackwardScope();
    AnomalyBackwardScope(const AnomalyBackwardScope&) = delete;
    AnomalyBackwardScope& operator=(const AnomalyBackwardScope&) = delete;

  private:
    std::string_view previous_;
};
/// Throws AnomalyError naming op and the input shapes if `out` holds NaN or Inf.
void check_forward_finite(std::string_view op, const std::vector<Tensor>& inputs,
                          const Tensor& out);
/// Throws AnomalyError if a gradient computed by op's backward holds NaN or Inf.
void check_backward_finite(std::string_view op, const std::vector<Shape>& input_shapes,
                           const std::vector<Tensor>& grads);

}  // namespace descent
