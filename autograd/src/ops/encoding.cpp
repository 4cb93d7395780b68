// Encodings of integer labels: one_hot (int64 in, int64 out, no gradient).

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "descent/ops.hpp"
#include "kernels.hpp"

namespace descent {
namespace {

/// The class count: num_classes itself, or max(labels) + 1 for −1; every label checked
/// against it.
std::int64_t class_count(const Tensor& labels, std::int64_t num_classes) {
    if (num_classes < -1) {
        throw Error(fmt::format("one_hot: num_classes must be -1 (inferred) or at least 0, got {}",
                                num_classes));
    }
    const std::int64_t* y = labels.data<std::int64_t>();
    const std::int64_t n = labels.numel();
    for (std::int64_t i = 0; i < n; ++i) {
        if (y[i] < 0) {
            throw IndexError(fmt::format("one_hot: label {} at flat position {} of {} is negative",
                                         y[i], i, shape_str(labels.shape())));
        }
    }
    if (num_classes == -1) {
        if (n == 0) {
            throw Error("one_hot: cannot infer num_classes from an empty tensor; pass it");
        }
        const std::int64_t largest = *std::max_element(y, y + n);
        if (largest == std::numeric_limits<std::int64_t>::max()) {
            throw ShapeError(
                fmt::format("one_hot: label {} leaves no room for the class count", largest));
        }
        return largest + 1;
    }
    for (std::int64_t i = 0; i < n; ++i) {
        if (y[i] >= num_classes) {
            throw IndexError(fmt::format(
                "one_hot: label {} at flat position {} of {} is not below num_classes {}", y[i], i,
                shape_str(labels.shape()), num_classes));
        }
    }
    return num_classes;
}
}  // namespace

Tensor one_hot(const Tensor& labels, std::int64_t num_classes) {  // y[.., c] = [labels[..] = c]
    kernel::check_defined(labels, "one_hot");
    if (labels.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format("one_hot: the labels must be int64, got {} of shape {}",
                                     dtype_name(labels.dtype()), shape_str(labels.shape())));
    }
    const std::int64_t classes = class_count(labels, num_classes);
    Shape shape = labels.shape();
    shape.push_back(classes);
    Tensor y = empty(shape, Dtype::int64, "one_hot");
    auto* out = elements<std::int64_t>(y);
    std::fill_n(out, y.numel(), std::int64_t{0});
    const std::int64_t* label = labels.data<std::int64_t>();
    for (std::int64_t i = 0; i < labels.numel(); ++i) out[i * classes + label[i]] = 1;
    return y;
}

}  // namespace descent
