// Classification and regression metrics (metrics.hpp), on values read out of the tensors.

#include "descent/data/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "descent/error.hpp"
#include "descent/grad_mode.hpp"

namespace descent::data {
namespace {

/// The predicted and true classes, checked: one each per sample, labels in [0, classes).
struct Labels {
    std::vector<std::int64_t> predicted, actual;
    std::int64_t classes;
};

Labels labels_of(const Tensor& predictions, const Tensor& targets, std::int64_t classes,
                 std::string_view op) {
    if (!targets.defined() || targets.dtype() != Dtype::int64 || targets.dim() != 1) {
        throw DtypeError(fmt::format("{}: targets must be int64 class indices [N]", op));
    }
    Labels l{predicted_classes(predictions).to_int_vector(), targets.to_int_vector(), classes};
    if (l.predicted.size() != l.actual.size()) {
        throw ShapeError(fmt::format("{}: {} predictions for {} targets", op, l.predicted.size(),
                                     l.actual.size()));
    }
    if (classes < 0) throw Error(fmt::format("{}: classes must be ≥ 0, got {}", op, classes));
    std::int64_t largest = -1;
    for (const auto v : l.predicted) largest = std::max(largest, v);
    for (const auto v : l.actual) largest = std::max(largest, v);
    if (classes == 0) l.classes = largest + 1;
    for (const auto* list : {&l.predicted, &l.actual}) {
        for (const auto v : *list) {
            if (v < 0 || v >= l.classes) {
                throw IndexError(
                    fmt::format("{}: class {} out of range for {} classes", op, v, l.classes));
            }
        }
    }
    return l;
}

double ratio(double a, double b) {
    return b > 0 ? a / b : 0.0;  // zero_division = 0
}

void check_same(const Tensor& a, const Tensor& b, std::string_view op) {
    if (!a.defined() || !b.defined() || a.shape() != b.shape() || !is_floating(a.dtype()) ||
        !is_floating(b.dtype())) {
        throw ShapeError(
            fmt::format("{}: prediction and target must be floating tensors of one shape", op));
    }
}

}  // namespace

Tensor predicted_classes(const Tensor& predictions) {
    if (!predictions.defined()) throw Error("predicted_classes: undefined predictions");
    if (predictions.dtype() == Dtype::int64 && predictions.dim() == 1) return predictions;
    if (is_floating(predictions.dtype()) && predictions.dim() == 2) {
        const NoGradGuard no_grad;
        return predictions.argmax(1);
    }
    throw ShapeError(
        fmt::format("predicted_classes: expected int64 classes [N] or logits [N, C], "
                    "got {} {}",
                    dtype_name(predictions.dtype()), shape_str(predictions.shape())));
}

double accuracy(const Tensor& predictions, const Tensor& targets) {
    const Labels l = labels_of(predictions, targets, 0, "accuracy");
    if (l.actual.empty()) return 0.0;
    std::int64_t right = 0;
    for (std::size_t i = 0; i < l.actual.size(); ++i) right += l.predicted[i] == l.actual[i];
    return static_cast<double>(right) / static_cast<double>(l.actual.size());
}

Tensor confusion_matrix(const Tensor& predictions, const Tensor& targets, std::int64_t classes) {
    const Labels l = labels_of(predictions, targets, classes, "confusion_matrix");
    std::vector<std::int64_t> counts(static_cast<std::size_t>(l.classes * l.classes), 0);
    for (std::size_t i = 0; i < l.actual.size(); ++i) {
        ++counts[static_cast<std::size_t>(l.actual[i] * l.classes + l.predicted[i])];
    }
    return int_tensor(counts, {l.classes, l.classes});
}

ClassificationReport classification_report(const Tensor& predictions, const Tensor& targets,
                                           std::int64_t classes) {
    const Labels l = labels_of(predictions, targets, classes, "classification_report");
    const auto c = static_cast<std::size_t>(l.classes);
    std::vector<double> hits(c), predicted(c);
    ClassificationReport r;
    r.support.assign(c, 0);
    for (std::size_t i = 0; i < l.actual.size(); ++i) {
        const auto a = static_cast<std::size_t>(l.actual[i]),
                   p = static_cast<std::size_t>(l.predicted[i]);
        ++r.support[a];
        predicted[p] += 1;
        if (a == p) hits[a] += 1;
    }
    const double n = static_cast<double>(l.actual.size());
    double right = 0;
    for (std::size_t k = 0; k < c; ++k) {
        right += hits[k];
        r.precision.push_back(ratio(hits[k], predicted[k]));
        r.recall.push_back(ratio(hits[k], static_cast<double>(r.support[k])));
        r.f1.push_back(ratio(2 * r.precision[k] * r.recall[k], r.precision[k] + r.recall[k]));
        r.macro_f1 += r.f1[k] / static_cast<double>(c);
        r.weighted_f1 += ratio(r.f1[k] * static_cast<double>(r.support[k]), n);
    }
    r.accuracy = ratio(right, n);
    return r;
}

double mean_squared_error(const Tensor& prediction, const Tensor& target) {
    check_same(prediction, target, "mean_squared_error");
    const std::vector<double> a = prediction.to_vector(), b = target.to_vector();
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return a.empty() ? 0.0 : s / static_cast<double>(a.size());
}

double mean_absolute_error(const Tensor& prediction, const Tensor& target) {
    check_same(prediction, target, "mean_absolute_error");
    const std::vector<double> a = prediction.to_vector(), b = target.to_vector();
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += std::abs(a[i] - b[i]);
    return a.empty() ? 0.0 : s / static_cast<double>(a.size());
}

}  // namespace descent::data
