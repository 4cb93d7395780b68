#include "descent/nn/loss_modules.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string_view>

#include "descent/check.hpp"

namespace descent::nn {
namespace {

/// A weight buffer given to a loss module: floating, finite and ≥ 0 (shapes are checked per
/// call, against the input).
void check_weight(const Tensor& weight, std::string_view module, std::string_view name) {
    if (!weight.defined()) return;
    if (!is_floating(weight.dtype())) {
        throw DtypeError(fmt::format("{}: {} must be float32 or float64, got {} {}", module, name,
                                     dtype_name(weight.dtype()), shape_str(weight.shape())));
    }
    for (const double v : weight.to_vector()) {
        if (!(std::isfinite(v) && v >= 0)) {
            throw Error(fmt::format("{}: {} must be finite and >= 0, got {}", module, name, v));
        }
    }
}

}  // namespace

ClassIndexLoss::ClassIndexLoss(std::string_view name, CrossEntropyOptions options)
    : options_(std::move(options)) {
    check_option(options_.label_smoothing, closed(0, 1), name, "label_smoothing");
    check_weight(options_.weight, name, "weight");
    if (options_.weight.defined()) {
        weight_ = &register_buffer("weight", options_.weight, at_least(0));
    }
}

CrossEntropyOptions ClassIndexLoss::options() const {
    CrossEntropyOptions o = options_;
    o.weight = weight();
    return o;
}

BCEWithLogitsLoss::BCEWithLogitsLoss(BinaryCrossEntropyWithLogitsOptions options)
    : reduction_(options.reduction) {
    check_weight(options.weight, "BCEWithLogitsLoss", "weight");
    check_weight(options.pos_weight, "BCEWithLogitsLoss", "pos_weight");
    if (options.weight.defined()) {
        weight_ = &register_buffer("weight", options.weight, at_least(0));
    }
    if (options.pos_weight.defined()) {
        pos_weight_ = &register_buffer("pos_weight", options.pos_weight, at_least(0));
    }
}

Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) {
    return binary_cross_entropy_with_logits(
        input, target, {.reduction = reduction_, .weight = weight(), .pos_weight = pos_weight()});
}

BCELoss::BCELoss(BinaryCrossEntropyOptions options) : reduction_(options.reduction) {
    check_weight(options.weight, "BCELoss", "weight");
    if (options.weight.defined()) {
        weight_ = &register_buffer("weight", options.weight, at_least(0));
    }
}

Tensor BCELoss::forward(const Tensor& input, const Tensor& target) {
    return binary_cross_entropy(input, target, {.reduction = reduction_, .weight = weight()});
}

HuberLoss::HuberLoss(Reduction reduction, double delta) : reduction_(reduction), delta_(delta) {
    check_option(delta, above(0), "HuberLoss", "delta");
}

}  // namespace descent::nn
