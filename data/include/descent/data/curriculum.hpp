#pragma once
// Curriculum learning (Bengio et al. 2009): easy examples first, harder ones added over time.

#include <cstdint>

#include "descent/tensor.hpp"

namespace descent::data {

/// Row indices (int64) from easiest to hardest: sorted by ascending difficulty, ties kept in
/// order (Bengio et al. 2009, curriculum learning).
Tensor curriculum_order(const Tensor& difficulty);
/// The first rows of `order` that epoch `epoch` of a curriculum trains on: a fraction growing
/// linearly from start_fraction at epoch 0 to all rows at epoch `ramp_epochs` and after.
Tensor curriculum_subset(const Tensor& order, std::int64_t epoch, std::int64_t ramp_epochs,
                         double start_fraction = 0.25);

}  // namespace descent::data
