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

/// Per-sample losses from log-probabilities [N, C]: −(1 − ε)·logp[y] − ε·mean_c logp, zero
/// where y = ignore_index; also the number of targets that count.
std::pair<Tensor, double> per_sample_nll(const Tensor& log_probs, const Tensor& target,
                                         const CrossEntropyOptions& o, std::string_view op) {
    if (!log_probs.defined() || !target.defined()) {
        throw Error(fmt::format("{}: input or target is undefined", op));
    }
    check_option(o.label_smoothing, closed(0, 1), op, "label_smoothing");
    if (!is_floating(log_probs.dtype())) {
        throw DtypeError(fmt::format("{}: the input must be float32 or float64, got {} {}", op,
                                     dtype_name(log_probs.dtype()), shape_str(log_probs.shape())));
    }
    if (target.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format("{}: targets must be int64 class indices, got {} {}", op,
                                     dtype_name(target.dtype()), shape_str(target.shape())));
    }
    if (log_probs.dim() != 2 || target.dim() != 1 || target.size(0) != log_probs.size(0)) {
        throw ShapeError(fmt::format("{}: expected input [N, C] and target [N], got {} and {}", op,
                                     shape_str(log_probs.shape()), shape_str(target.shape())));
    }
    const std::int64_t classes = log_probs.size(1);
    std::vector<std::int64_t> picked = target.to_int_vector();
    std::vector<double> keep(picked.size(), 1.0);
    double counted = 0.0;
    for (std::size_t i = 0; i < picked.size(); ++i) {
        if (picked[i] == o.ignore_index) {
            keep[i] = 0.0;
            picked[i] = 0;  // any valid class; its term is multiplied by 0
        } else if (picked[i] < 0 || picked[i] >= classes) {
            throw IndexError(
                fmt::format("{}: target {} out of range for {} classes", op, picked[i], classes));
        }
        counted += keep[i];
    }
    const auto n = static_cast<std::int64_t>(picked.size());
    const Tensor index = int_tensor(picked, {n, 1});
    const Tensor mask = tensor(keep, {n}, {.dtype = log_probs.dtype()});
    Tensor nll = -gather(log_probs, 1, index).reshape({n});
    if (o.label_smoothing > 0) {
        const Tensor smooth = -log_probs.mean({1});
        nll = nll * (1 - o.label_smoothing) + smooth * o.label_smoothing;
    }
    return {nll * mask, counted};
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
