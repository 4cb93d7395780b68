#pragma once
// The op table's own sample generators (samples.cpp), one per op that needs one.

#include <vector>

#include "sample_makers.hpp"

namespace descent::samples {

std::vector<OpSample> gelu_samples();
std::vector<OpSample> softplus_samples();
std::vector<OpSample> pow_scalar_samples();
std::vector<OpSample> clamp_samples();
std::vector<OpSample> where_samples();
std::vector<OpSample> softmax_samples();
std::vector<OpSample> log_softmax_samples();
std::vector<OpSample> sum_to_samples();
std::vector<OpSample> squared_error_samples();
std::vector<OpSample> softmax_cross_entropy_samples();
std::vector<OpSample> matmul_samples();
std::vector<OpSample> linear_samples();
std::vector<OpSample> reshape_samples();
std::vector<OpSample> permute_samples();
std::vector<OpSample> expand_samples();
std::vector<OpSample> slice_samples();
std::vector<OpSample> slice_backward_samples();
std::vector<OpSample> index_select_samples();
std::vector<OpSample> index_add_samples();
std::vector<OpSample> gather_samples();
std::vector<OpSample> scatter_add_samples();
std::vector<OpSample> concat_samples();
std::vector<OpSample> stack_samples();
std::vector<OpSample> split_samples();
std::vector<OpSample> to_dtype_samples();
std::vector<OpSample> maximum_samples();
std::vector<OpSample> minimum_samples();

}  // namespace descent::samples
