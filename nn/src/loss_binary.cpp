// The binary losses: binary_cross_entropy_with_logits (weight, pos_weight) and
// binary_cross_entropy on probabilities (weight), composed of differentiable ops.

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>

#include "descent/check.hpp"
#include "descent/nn/loss.hpp"
#include "descent/ops.hpp"
#include "loss_common.hpp"

namespace descent::nn {
namespace {

/// max(log v, −100) for v in [0, 1], with a finite gradient everywhere: at v = 0 the log reads
/// 1 instead (its value is masked to −100, its gradient to 0), so no 0·∞ reaches backward.
Tensor clamped_log(const Tensor& v) {
    const Tensor zero = v <= 0.0;
    return masked_fill(clamp(log(masked_fill(v, zero, 1.0)), -100.0, std::nullopt), zero, -100.0);
}

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsOptions& options) {
    constexpr std::string_view op = "binary_cross_entropy_with_logits";
    detail::check_same_shape(logits, target, op);
    detail::check_broadcast_weight(options.weight, logits, op, "weight");
    detail::check_broadcast_weight(options.pos_weight, logits, op, "pos_weight");
    // −log σ(x) = log(1 + e⁻ˣ), in its stable form everywhere (threshold ∞)
    const double never = std::numeric_limits<double>::infinity();
    const Tensor minus_log_sigmoid = softplus(-logits, 1.0, never);
    // (1 − y)·x − (1 + (p − 1)·y)·log σ(x)
    Tensor loss;
    if (options.pos_weight.defined()) {
        const Tensor log_weight = (options.pos_weight - 1.0) * target + 1.0;
        loss = (1.0 - target) * logits + log_weight * minus_log_sigmoid;
    } else {
        loss = (1.0 - target) * logits + minus_log_sigmoid;
    }
    if (options.weight.defined()) loss = loss * options.weight;
    return detail::reduce(loss, options.reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction) {
    return binary_cross_entropy_with_logits(logits, target, {.reduction = reduction});
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyOptions& options) {
    constexpr std::string_view op = "binary_cross_entropy";
    detail::check_same_shape(input, target, op);
    detail::check_broadcast_weight(options.weight, input, op, "weight");
    const std::vector<double> x = input.to_vector();
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (!(x[i] >= 0.0 && x[i] <= 1.0)) {
            throw Error(fmt::format(
                "{}: every input must be a probability in [0, 1], got {} at flat index {}", op,
                x[i], i));
        }
    }
    // (y − 1)·max(log(1 − x), −100) − y·max(log x, −100)
    Tensor loss = (target - 1.0) * clamped_log(1.0 - input) - target * clamped_log(input);
    if (options.weight.defined()) loss = loss * options.weight;
    return detail::reduce(loss, options.reduction);
}

}  // namespace descent::nn
