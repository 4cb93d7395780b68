#pragma once
// Splitting named parameters into the usual two groups: weight decay for weights, none for
// biases and normalisation parameters (the AdamW practice).

#include <string>
#include <utility>
#include <vector>

#include "descent/tensor.hpp"

namespace descent::optim {

struct DecaySplitOptions {
    /// A parameter whose name contains one of these goes to no_decay.
    std::vector<std::string> no_decay_names{"bias", "norm"};
    /// Parameters of rank ≤ this (biases, norm scales) go to no_decay as well; −1 turns it off.
    int no_decay_max_rank = 1;
};

struct DecaySplit {
    std::vector<Tensor> decay;
    std::vector<Tensor> no_decay;
};

DecaySplit split_for_weight_decay(const NamedTensors& named, DecaySplitOptions options = {});

}  // namespace descent::optim
