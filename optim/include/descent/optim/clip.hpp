#pragma once
// Gradient clipping, as torch.nn.utils: by the total norm of all gradients, or by value.

#include <limits>
#include <vector>

#include "descent/tensor.hpp"

namespace descent::optim {

inline constexpr double inf_norm = std::numeric_limits<double>::infinity();

/// Scales every gradient by min(1, max_norm/(‖g‖ + 1e-6)), where ‖g‖ is the norm_type-norm of
/// all gradients as one vector (inf_norm: the largest |g|). Returns ‖g‖ before clipping. A NaN
/// or infinite norm is returned (and nothing scaled), or an Error with error_if_nonfinite.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = false);

/// Clamps every gradient element into [−clip_value, clip_value].
void clip_grad_value(const std::vector<Tensor>& params, double clip_value);

}  // namespace descent::optim
