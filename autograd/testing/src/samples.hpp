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
// structure_samples.cpp
std::vector<OpSample> cumsum_samples();
std::vector<OpSample> cumprod_samples();
std::vector<OpSample> sort_samples();
std::vector<OpSample> topk_samples();
std::vector<OpSample> flip_samples();
std::vector<OpSample> roll_samples();
std::vector<OpSample> masked_fill_samples();
std::vector<OpSample> triu_samples();
std::vector<OpSample> tril_samples();
std::vector<OpSample> repeat_samples();
std::vector<OpSample> tile_samples();
std::vector<OpSample> outer_samples();
std::vector<OpSample> bmm_samples();
std::vector<OpSample> baddbmm_samples();
std::vector<OpSample> vector_norm_samples();
std::vector<OpSample> einsum_samples();

}  // namespace descent::samples
