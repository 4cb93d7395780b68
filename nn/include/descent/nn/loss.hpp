#pragma once
// Loss functions (torch.nn.functional's), each reducing by mean (default), sum or none, each
// differentiable in every floating input (the target of mse_loss and the probability targets of
// cross_entropy and the binary losses too) to any order. All stay finite in float32 for logits up
// to ±1e4: softmax terms are shifted by their max, and the logistic loss uses log(1 + eˣ) in its
// stable form.
//
// Where descent is stricter than torch (each an Error naming the loss and the value):
// label_smoothing must lie in [0, 1] (torch ignores NaN and negative values on some paths); class
// weights, BCE weights and pos_weight must be finite and ≥ 0 (torch accepts NaN and negative
// entries, which make the weighted mean's divisor vanish or change sign); logits with no classes
// (C = 0) are refused. Weights and pos_weight get no gradient: they are constants, as in torch.

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
    /// Per-class weights w [C] of the input's dtype, finite and ≥ 0; undefined: all 1.
    Tensor weight = {};
};

/// Cross-entropy of logits x against class indices or class probabilities, as torch's.
///
/// Shapes: logits [C], [N, C] or [N, C, d1, …, dk] (the classes in dim 1).
/// - Class indices: int64 target [], [N] or [N, d1, …, dk]. With p = log_softmax(x) over the
///   classes and w the weights (1 without), each position i not ignored contributes
///       lᵢ = (1 − ε)·w_yᵢ·(−p_i,yᵢ) + (ε/C)·Σ_c w_c·(−p_i,c)
///   and an ignored one (yᵢ = ignore_index) 0. none: l with the target's shape; sum: Σ lᵢ;
///   mean: Σ lᵢ / Σ w_yᵢ over the positions not ignored. Every target must be in [0, C) or be
///   ignore_index.
/// - Probabilities: a floating target of the logits' shape and dtype (class probabilities;
///   ignore_index must then be negative, as torch requires). With q = (1 − ε)·y + ε/C,
///       lᵢ = −Σ_c w_c·q_i,c·p_i,c
///   mean divides Σ lᵢ by the number of positions (N·d1·…·dk), not by the weights.
/// mean over no positions (N = 0, or every target ignored) is NaN, as torch's; sum is then 0.
/// Its gradient is 0 where every target is ignored (also as torch's).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options = {});
/// The class-index loss above on log-probabilities: cross_entropy(x, y, o) equals
/// nll_loss(log_softmax(x, class dim), y, o) for every option (label smoothing included, a
/// descent extension: torch's nll_loss has none). Input [C], [N, C] or [N, C, d1, …, dk]; the
/// target must be int64 (a DtypeError otherwise).
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, CrossEntropyOptions options = {});

struct BinaryCrossEntropyWithLogitsOptions {
    Reduction reduction = Reduction::mean;
    /// Per-element weights, broadcast to the input's shape; undefined: all 1.
    Tensor weight = {};
    /// p: the weight of the positive term, broadcast to the input's shape from the right (a
    /// [C] tensor weighs the classes of the last dim); undefined: all 1.
    Tensor pos_weight = {};
};

/// −w·[p·y·log σ(x) + (1 − y)·log(1 − σ(x))] = w·[(1 − y)·x − (1 + (p − 1)·y)·log σ(x)], for
/// logits x and targets y in [0, 1] of one shape and floating dtype; log σ is taken in its
/// stable form. mean averages over every element (NaN for an empty input).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsOptions& options);
/// The same without weights.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::mean);

struct BinaryCrossEntropyOptions {
    Reduction reduction = Reduction::mean;
    /// Per-element weights, broadcast to the input's shape; undefined: all 1.
    Tensor weight = {};
};

/// −w·[y·max(log x, −100) + (1 − y)·max(log(1 − x), −100)] for probabilities x in [0, 1] (an
/// Error names the first one outside, NaN included) and targets y of x's shape and dtype. Where
/// a log is clamped the gradient is 0 (the derivative of the clamped term; torch reports
/// (x − y)/10⁻¹² there instead).
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyOptions& options = {});

}  // namespace descent::nn
