#pragma once
// Loss functions (torch.nn.functional's), each reducing by mean (default), sum or none, each
// differentiable in every floating input (the target of mse_loss too). All stay finite in
// float32 for logits up to ±1e4: softmax terms are shifted by their max, and the logistic loss
// uses log(1 + eˣ) in its stable form.

#include <cstdint>

#include "descent/tensor.hpp"

namespace descent::nn {

enum class Reduction { mean, sum, none };

/// (x − y)²
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
/// |x − y|
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
/// ½d² where |d| < δ, else δ(|d| − ½δ), d = x − y
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean,
                  double delta = 1.0);

struct CrossEntropyOptions {
    Reduction reduction = Reduction::mean;
    std::int64_t ignore_index = -100;  ///< targets equal to this count neither loss nor mean
    double label_smoothing = 0.0;      ///< ε: the target becomes (1 − ε)·onehot + ε/C
};

/// −log softmax(logits)[target] for logits [N, C] (or [C]) and int64 class indices [N] (or []).
/// mean averages over the targets that are not ignored.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options = {});
/// −log_probs[target], for log-probabilities [N, C] and int64 targets [N].
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, CrossEntropyOptions options = {});
/// −[y·log σ(x) + (1 − y)·log(1 − σ(x))] = log(1 + eˣ) − x·y, for logits x and targets y in [0, 1].
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::mean);

}  // namespace descent::nn
