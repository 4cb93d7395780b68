#pragma once
// The op table's samples of the spatial ops (spatial.hpp) and of the window primitives behind
// them: small float64 images, odd extents, every option that changes a window.

#include <vector>

#include "sample_makers.hpp"

namespace descent::samples {

std::vector<OpSample> patches_samples();
std::vector<OpSample> patches_adjoint_samples();
std::vector<OpSample> window_mean_samples();
std::vector<OpSample> window_mean_adjoint_samples();
std::vector<OpSample> conv1d_samples();
std::vector<OpSample> conv2d_samples();
std::vector<OpSample> conv_transpose1d_samples();
std::vector<OpSample> conv_transpose2d_samples();
std::vector<OpSample> max_pool_samples();
std::vector<OpSample> avg_pool_samples();
std::vector<OpSample> adaptive_pool_samples();
std::vector<OpSample> pad_samples();
std::vector<OpSample> unfold_fold_samples();
std::vector<OpSample> interpolate_samples();

}  // namespace descent::samples
