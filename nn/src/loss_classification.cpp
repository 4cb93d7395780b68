// cross_entropy and nll_loss over [C], [N, C] and [N, C, d1, …, dk] inputs: class-index targets
// (ignore_index, per-class weights, label smoothing) and, for cross_entropy, class
// probabilities. Composed of differentiable ops, so the gradients of any order come free.

#include <fmt/format.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "descent/check.hpp"
#include "descent/nn/loss.hpp"
#include "descent/ops.hpp"
#include "loss_common.hpp"

namespace descent::nn {
namespace {

/// The classes' dim: 0 for [C], else 1.
std::int64_t class_dim(const Tensor& x) {
    return x.dim() == 1 ? 0 : 1;
}

/// A defined floating input of rank ≥ 1 with C > 0 classes, a defined target, a valid
/// label_smoothing.
void check_input(const Tensor& x, const Tensor& target, const CrossEntropyOptions& o,
                 std::string_view op) {
    if (!x.defined() || !target.defined()) {
        throw Error(fmt::format("{}: input or target is undefined", op));
    }
    check_option(o.label_smoothing, closed(0, 1), op, "label_smoothing");
    if (!is_floating(x.dtype())) {
        throw DtypeError(fmt::format("{}: the input must be float32 or float64, got {} {}", op,
                                     dtype_name(x.dtype()), shape_str(x.shape())));
    }
    if (x.dim() == 0) {
        throw ShapeError(fmt::format(
            "{}: expected an input [C], [N, C] or [N, C, d1, ...], got the 0-d tensor []", op));
    }
    if (x.size(class_dim(x)) == 0) {
        throw ShapeError(
            fmt::format("{}: the input {} has no classes (C = 0)", op, shape_str(x.shape())));
    }
}

/// The per-class weight [C], checked, or undefined.
void check_class_weight(const Tensor& weight, const Tensor& x, std::string_view op) {
    if (!weight.defined()) return;
    const std::int64_t classes = x.size(class_dim(x));
    if (weight.dim() != 1 || weight.size(0) != classes) {
        throw ShapeError(fmt::format("{}: weight must be [C] = [{}] for the input {}, got {}", op,
                                     classes, shape_str(x.shape()), shape_str(weight.shape())));
    }
    detail::check_weight_values(weight, x, op, "weight");
}

/// x's positions as rows [M, C], the classes last, in the row-major order of the target's
/// positions ([N, d1, …, dk]).
Tensor as_rows(const Tensor& x) {
    if (x.dim() == 1) return x.unsqueeze(0);
    if (x.dim() == 2) return x;
    Dims order{0};
    for (std::int64_t d = 2; d < x.dim(); ++d) order.push_back(d);
    order.push_back(1);
    const std::int64_t classes = x.size(1);
    return x.permute(order).reshape({x.numel() / classes, classes});
}

/// The shape a class-index target of x must have: [] for [C], else x's without dim 1.
Shape index_target_shape(const Shape& x) {
    Shape out;
    for (std::size_t d = 0; d < x.size(); ++d) {
        if (d != 1 && x.size() > 1) out.push_back(x[d]);
    }
    return out;
}

/// Class-index targets, read and checked: each position's class (0 where ignored: any valid
/// one, its term masked), weight w_y (0 where ignored), whether it is ignored, and Σ w_y.
struct Rows {
    std::vector<std::int64_t> picked;
    std::vector<double> row_weight;
    std::vector<std::int64_t> ignored;
    double total_weight = 0.0;
};

Rows read_targets(const Tensor& x, const Tensor& target, const CrossEntropyOptions& o,
                  std::string_view op) {
    if (target.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format(
            "{}: targets must be int64 class indices{}, got {} {} for the input {}", op,
            op == "cross_entropy" ? " (or floating class probabilities of the input's shape)" : "",
            dtype_name(target.dtype()), shape_str(target.shape()), shape_str(x.shape())));
    }
    const Shape expected = index_target_shape(x.shape());
    if (target.shape() != expected) {
        throw ShapeError(fmt::format("{}: expected a target {} for the input {}, got {}", op,
                                     shape_str(expected), shape_str(x.shape()),
                                     shape_str(target.shape())));
    }
    const std::int64_t classes = x.size(class_dim(x));
    const std::vector<double> w =
        o.weight.defined() ? o.weight.to_vector() : std::vector<double>(classes, 1.0);
    Rows r{target.to_int_vector(), {}, {}, 0.0};
    r.row_weight.assign(r.picked.size(), 0.0);
    r.ignored.assign(r.picked.size(), 0);
    for (std::size_t i = 0; i < r.picked.size(); ++i) {
        const std::int64_t y = r.picked[i];
        if (y == o.ignore_index) {
            r.ignored[i] = 1;
            r.picked[i] = 0;
            continue;
        }
        if (y < 0 || y >= classes) {
            throw IndexError(fmt::format(
                "{}: target {} out of range for {} classes (at flat index {}; ignore_index is {})",
                op, y, classes, i, o.ignore_index));
        }
        r.row_weight[i] = w[static_cast<std::size_t>(y)];
        r.total_weight += r.row_weight[i];
    }
    return r;
}

/// Per-position losses from log-probabilities [M, C]:
///   lᵢ = (1 − ε)·w_yᵢ·(−p_i,yᵢ) + (ε/C)·Σ_c w_c·(−p_i,c), 0 where ignored.
Tensor row_losses(const Tensor& log_probs, const Rows& r, const CrossEntropyOptions& o) {
    const auto rows = static_cast<std::int64_t>(r.picked.size());
    const std::int64_t classes = log_probs.size(1);
    Tensor loss = -gather(log_probs, 1, int_tensor(r.picked, {rows, 1})).reshape({rows});
    if (o.weight.defined()) {
        loss = loss * tensor(r.row_weight, {rows}, {.dtype = log_probs.dtype()});
    }
    if (o.label_smoothing > 0) {
        const Tensor weighted = o.weight.defined() ? log_probs * o.weight.detach() : log_probs;
        const Tensor smooth = -weighted.sum(1);
        loss = loss * (1 - o.label_smoothing) + smooth * (o.label_smoothing / classes);
    }
    return masked_fill(loss, int_tensor(r.ignored, {rows}) != 0, 0.0);
}

/// none: the losses in the target's shape; sum: Σ lᵢ; mean: Σ lᵢ / Σ w_yᵢ (NaN for 0/0).
Tensor reduce_rows(const Tensor& losses, const Rows& r, const Shape& target_shape,
                   Reduction reduction) {
    switch (reduction) {
        case Reduction::mean:
            return losses.sum() / r.total_weight;
        case Reduction::sum:
            return losses.sum();
        case Reduction::none:
            return losses.reshape(target_shape);
    }
    return losses;
}

/// −Σ_c w_c·q_c·p_c per position, q = (1 − ε)·y + ε/C; mean over the positions.
Tensor probability_loss(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o) {
    if (target.dtype() != logits.dtype()) {
        throw DtypeError(fmt::format(
            "cross_entropy: a target of the logits' shape {} holds class probabilities and "
            "must have their dtype {}, got {}",
            shape_str(logits.shape()), dtype_name(logits.dtype()), dtype_name(target.dtype())));
    }
    if (o.ignore_index >= 0) {
        throw Error(
            fmt::format("cross_entropy: ignore_index {} applies to class-index targets "
                        "only; with probability targets it must be negative",
                        o.ignore_index));
    }
    const std::int64_t cd = class_dim(logits);
    const std::int64_t classes = logits.size(cd);
    const Tensor log_probs = log_softmax(logits, cd);
    const Tensor q = o.label_smoothing > 0
                         ? target * (1 - o.label_smoothing) + o.label_smoothing / classes
                         : target;
    Tensor terms = log_probs * q;
    if (o.weight.defined()) {
        Shape along(static_cast<std::size_t>(logits.dim()), 1);
        along[static_cast<std::size_t>(cd)] = classes;
        terms = terms * o.weight.detach().reshape(along);
    }
    switch (o.reduction) {
        case Reduction::mean:
            return -terms.sum() / static_cast<double>(logits.numel() / classes);
        case Reduction::sum:
            return -terms.sum();
        case Reduction::none:
            return -terms.sum(cd);
    }
    return terms;
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, CrossEntropyOptions options) {
    check_input(log_probs, target, options, "nll_loss");
    check_class_weight(options.weight, log_probs, "nll_loss");
    const Rows r = read_targets(log_probs, target, options, "nll_loss");
    return reduce_rows(row_losses(as_rows(log_probs), r, options), r, target.shape(),
                       options.reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options) {
    check_input(logits, target, options, "cross_entropy");
    check_class_weight(options.weight, logits, "cross_entropy");
    if (logits.shape() == target.shape()) return probability_loss(logits, target, options);
    const Rows r = read_targets(logits, target, options, "cross_entropy");
    const Tensor rows = as_rows(logits);
    const auto m = static_cast<std::int64_t>(r.picked.size());
    const bool mean = options.reduction == Reduction::mean;
    if (options.label_smoothing == 0.0 && options.reduction != Reduction::none && m > 0 &&
        (!mean || r.total_weight > 0)) {
        // One node (descent::softmax_cross_entropy) where the composition records about ten:
        // Σᵢ w_yᵢ·(log Σ_c exp(x_i,c) − x_i,yᵢ) / (Σ w_y for mean, else 1).
        return softmax_cross_entropy(rows, int_tensor(r.picked, {m}),
                                     tensor(r.row_weight, {m}, {.dtype = logits.dtype()}),
                                     mean ? r.total_weight : 1.0);
    }
    return reduce_rows(row_losses(log_softmax(rows, 1), r, options), r, target.shape(),
                       options.reduction);
}

}  // namespace descent::nn
