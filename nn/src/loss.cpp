#include "descent/nn/loss.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "descent/check.hpp"
#include "descent/ops.hpp"

namespace descent::nn {
namespace {
Tensor reduce(const Tensor& losses, Reduction reduction) {
    switch (reduction) {
        case Reduction::mean:
            return losses.mean();
        case Reduction::sum:
            return losses.sum();
        case Reduction::none:
            return losses;
    }
    return losses;
}

void check_same_shape(const Tensor& input, const Tensor& target, std::string_view op) {
    if (!input.defined() || !target.defined()) {
        throw Error(fmt::format("{}: input or target is undefined", op));
    }
    if (input.shape() != target.shape() || input.dtype() != target.dtype() ||
        !is_floating(input.dtype())) {
        throw ShapeError(
            fmt::format("{}: input {} {} and target {} {} must be floating tensors of "
                        "one shape and dtype",
                        op, dtype_name(input.dtype()), shape_str(input.shape()),
                        dtype_name(target.dtype()), shape_str(target.shape())));
    }
}

/// The targets of a loss over scores [N, C], checked: each row's class (an ignored row gets
/// class 0, any valid one, its term weighted 0), each row's weight (1, or 0 where ignored) and
/// the number that count.
struct Targets {
    std::vector<std::int64_t> picked;
    std::vector<double> keep;
    double counted = 0.0;
};
Targets check_targets(const Tensor& scores, const Tensor& target, const CrossEntropyOptions& o,
                      std::string_view op) {
    if (!scores.defined() || !target.defined()) {
        throw Error(fmt::format("{}: input or target is undefined", op));
    }
    check_option(o.label_smoothing, closed(0, 1), op, "label_smoothing");
    if (!is_floating(scores.dtype())) {
        throw DtypeError(fmt::format("{}: the input must be float32 or float64, got {} {}", op,
                                     dtype_name(scores.dtype()), shape_str(scores.shape())));
    }
    if (target.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format("{}: targets must be int64 class indices, got {} {}", op,
                                     dtype_name(target.dtype()), shape_str(target.shape())));
    }
    if (scores.dim() != 2 || target.dim() != 1 || target.size(0) != scores.size(0)) {
        throw ShapeError(fmt::format("{}: expected input [N, C] and target [N], got {} and {}", op,
                                     shape_str(scores.shape()), shape_str(target.shape())));
    }
    const std::int64_t classes = scores.size(1);
    Targets t{target.to_int_vector(), {}, 0.0};
    t.keep.assign(t.picked.size(), 1.0);
    for (std::size_t i = 0; i < t.picked.size(); ++i) {
        if (t.picked[i] == o.ignore_index) {
            t.keep[i] = 0.0;
            t.picked[i] = 0;
        } else if (t.picked[i] < 0 || t.picked[i] >= classes) {
            throw IndexError(
                fmt::format("{}: target {} out of range for {} classes", op, t.picked[i], classes));
        }
        t.counted += t.keep[i];
    }
    return t;
}

/// Per-sample losses from log-probabilities [N, C]: −(1 − ε)·logp[y] − ε·mean_c logp, zero
/// where y = ignore_index; also the number of targets that count.
std::pair<Tensor, double> per_sample_nll(const Tensor& log_probs, const Tensor& target,
                                         const CrossEntropyOptions& o, std::string_view op) {
    const Targets t = check_targets(log_probs, target, o, op);
    const auto n = static_cast<std::int64_t>(t.picked.size());
    const Tensor index = int_tensor(t.picked, {n, 1});
    const Tensor mask = tensor(t.keep, {n}, {.dtype = log_probs.dtype()});
    Tensor nll = -gather(log_probs, 1, index).reshape({n});
    if (o.label_smoothing > 0) {
        const Tensor smooth = -log_probs.mean({1});
        nll = nll * (1 - o.label_smoothing) + smooth * o.label_smoothing;
    }
    return {nll * mask, t.counted};
}

Tensor reduce_nll(const std::pair<Tensor, double>& losses, Reduction reduction) {
    switch (reduction) {
        case Reduction::mean:
            return losses.first.sum() / losses.second;
        case Reduction::sum:
            return losses.first.sum();
        case Reduction::none:
            return losses.first;
    }
    return losses.first;
}
}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    check_same_shape(input, target, "mse_loss");
    if (reduction != Reduction::none && input.dtype() == target.dtype() &&
        is_floating(input.dtype())) {
        return squared_error(input, target, reduction == Reduction::mean);  // one node
    }
    const Tensor d = input - target;
    return reduce(d * d, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    check_same_shape(input, target, "l1_loss");
    return reduce(abs(input - target), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
    check_same_shape(input, target, "huber_loss");
    check_option(delta, above(0), "huber_loss", "delta");
    const Tensor d = input - target;
    const Tensor a = abs(d);
    return reduce(where(a < delta, d * d * 0.5, (a - 0.5 * delta) * delta), reduction);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, CrossEntropyOptions options) {
    return reduce_nll(per_sample_nll(log_probs, target, options, "nll_loss"), options.reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options) {
    if (!logits.defined() || !target.defined()) {
        throw Error("cross_entropy: logits or target is undefined");
    }
    const bool one = logits.dim() == 1 && target.dim() == 0;
    const bool batch = logits.dim() == 2 && target.dim() == 1 && target.size(0) == logits.size(0);
    if (!one && !batch) {
        throw ShapeError(
            fmt::format("cross_entropy: expected logits [N, C] and target [N] (or [C] "
                        "and []), got {} and {}",
                        shape_str(logits.shape()), shape_str(target.shape())));
    }
    if (!is_floating(logits.dtype())) {
        throw DtypeError(fmt::format("cross_entropy: logits must be float32 or float64, got {}",
                                     dtype_name(logits.dtype())));
    }
    if (logits.dim() == 1) {  // one sample: [C] and a 0-d target
        const Tensor loss = cross_entropy(logits.unsqueeze(0), target.reshape({1}), options);
        return options.reduction == Reduction::none ? loss.reshape({}) : loss;
    }
    if (options.label_smoothing == 0.0 && options.reduction != Reduction::none) {
        // One node (descent::softmax_cross_entropy) where the composition records about ten.
        const Targets t = check_targets(logits, target, options, "cross_entropy");
        const auto n = static_cast<std::int64_t>(t.picked.size());
        return softmax_cross_entropy(logits, int_tensor(t.picked, {n}),
                                     tensor(t.keep, {n}, {.dtype = logits.dtype()}),
                                     options.reduction == Reduction::mean ? t.counted : 1.0);
    }
    return reduce_nll(per_sample_nll(log_softmax(logits, 1), target, options, "cross_entropy"),
                      options.reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction) {
    check_same_shape(logits, target, "binary_cross_entropy_with_logits");
    // log(1 + eˣ) − x·y, with softplus in its stable form everywhere (threshold ∞)
    const double never = std::numeric_limits<double>::infinity();
    return reduce(softplus(logits, 1.0, never) - logits * target, reduction);
}

}  // namespace descent::nn
