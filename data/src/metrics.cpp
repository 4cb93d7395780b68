// Classification and regression metrics (metrics.hpp), on values read out of the tensors.

#include "descent/data/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "descent/error.hpp"
#include "descent/grad_mode.hpp"

namespace descent::data {
namespace {

/// Whether predictions are a binary model's one score per sample.
bool binary_scores(const Tensor& p) {
    return p.defined() && is_floating(p.dtype()) &&
           (p.dim() == 1 || (p.dim() == 2 && p.size(1) == 1));
}

/// The predicted classes of `predictions` (metrics.hpp), errors naming `op`.
std::vector<std::int64_t> classes_of(const Tensor& predictions, std::string_view op) {
    if (!predictions.defined()) throw Error(fmt::format("{}: the predictions are undefined", op));
    if (predictions.dtype() == Dtype::int64 && predictions.dim() == 1) {
        return predictions.to_int_vector();
    }
    const bool floating = is_floating(predictions.dtype());
    const bool binary = binary_scores(predictions);
    if (!floating || !(binary || predictions.dim() == 2)) {
        throw ShapeError(fmt::format(
            "{}: expected int64 classes [N], scores [N, C] or a binary model's scores [N] or "
            "[N, 1], got {} {}",
            op, dtype_name(predictions.dtype()), shape_str(predictions.shape())));
    }
    if (!binary && predictions.size(1) == 0) {
        throw ShapeError(fmt::format("{}: scores {} have no classes to choose from", op,
                                     shape_str(predictions.shape())));
    }
    const std::vector<double> scores = predictions.to_vector();
    for (std::size_t i = 0; i < scores.size(); ++i) {
        if (std::isnan(scores[i])) {
            throw Error(
                fmt::format("{}: the score of sample {} is NaN", op,
                            binary ? i : i / static_cast<std::size_t>(predictions.size(1))));
        }
    }
    if (binary) {  // probabilities if all in [0, 1], else logits
        const bool probabilities =
            std::all_of(scores.begin(), scores.end(), [](double v) { return v >= 0 && v <= 1; });
        const double threshold = probabilities ? 0.5 : 0.0;
        std::vector<std::int64_t> out(scores.size());
        for (std::size_t i = 0; i < scores.size(); ++i) out[i] = scores[i] > threshold ? 1 : 0;
        return out;
    }
    const NoGradGuard no_grad;
    return predictions.argmax(1).to_int_vector();
}

/// The predicted and true classes, checked: one each per sample, at least one sample, labels
/// in [0, classes).
struct Labels {
    std::vector<std::int64_t> predicted, actual;
    std::int64_t classes;
};

Labels labels_of(const Tensor& predictions, const Tensor& targets, std::int64_t classes,
                 std::string_view op) {
    if (!targets.defined() || targets.dtype() != Dtype::int64 || targets.dim() != 1) {
        throw DtypeError(fmt::format("{}: targets must be int64 class indices [N]", op));
    }
    if (classes < 0) throw Error(fmt::format("{}: classes must be ≥ 0, got {}", op, classes));
    if (classes == 0 && binary_scores(predictions)) classes = 2;  // a binary model: labels 0, 1
    Labels l{classes_of(predictions, op), targets.to_int_vector(), classes};
    if (l.predicted.size() != l.actual.size()) {
        throw ShapeError(fmt::format("{}: {} predictions for {} targets", op, l.predicted.size(),
                                     l.actual.size()));
    }
    if (l.actual.empty()) throw Error(fmt::format("{}: no samples to measure", op));
    for (const auto* list : {&l.predicted, &l.actual}) {
        for (const auto v : *list) {
            if (v < 0 || (classes > 0 && v >= classes)) {
                throw IndexError(fmt::format("{}: class {} out of range{}", op, v,
                                             classes > 0 ? fmt::format(" for {} classes", classes)
                                                         : std::string(" (negative)")));
            }
        }
    }
    if (classes == 0) {  // the largest label seen plus one (no overflow: labels < 2⁶³ − 1)
        std::int64_t largest = 0;
        for (const auto* list : {&l.predicted, &l.actual}) {
            for (const auto v : *list) largest = std::max(largest, v);
        }
        if (largest == std::numeric_limits<std::int64_t>::max()) {
            throw IndexError(fmt::format("{}: class {} out of range", op, largest));
        }
        l.classes = largest + 1;
    }
    return l;
}

/// int64 zeros [rows, columns] for `classes` classes: too many for this machine's memory is an
/// Error naming op that says to pass `classes`.
Tensor table(std::int64_t rows, std::int64_t columns, std::int64_t classes, std::string_view op) {
    try {
        return zeros({rows, columns}, {.dtype = Dtype::int64});
    } catch (const ShapeError&) {  // too many elements, or more bytes than the machine has
        throw Error(
            fmt::format("{}: {} classes do not fit in memory (a label that large? pass "
                        "the number of classes)",
                        op, classes));
    }
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
    if (a.numel() == 0) throw Error(fmt::format("{}: no values to measure", op));
}

}  // namespace

Tensor predicted_classes(const Tensor& predictions) {
    std::vector<std::int64_t> classes = classes_of(predictions, "predicted_classes");
    const auto n = static_cast<std::int64_t>(classes.size());
    return int_tensor(classes, {n});
}

double accuracy(const Tensor& predictions, const Tensor& targets) {
    const Labels l = labels_of(predictions, targets, 0, "accuracy");
    std::int64_t right = 0;
    for (std::size_t i = 0; i < l.actual.size(); ++i) right += l.predicted[i] == l.actual[i];
    return static_cast<double>(right) / static_cast<double>(l.actual.size());
}

Tensor confusion_matrix(const Tensor& predictions, const Tensor& targets, std::int64_t classes) {
    const Labels l = labels_of(predictions, targets, classes, "confusion_matrix");
    Tensor counts = table(l.classes, l.classes, l.classes, "confusion_matrix");
    std::int64_t* cell = counts.mutable_data<std::int64_t>();
    for (std::size_t i = 0; i < l.actual.size(); ++i)
        ++cell[l.actual[i] * l.classes + l.predicted[i]];
    return counts;
}

ClassificationReport classification_report(const Tensor& predictions, const Tensor& targets,
                                           std::int64_t classes) {
    const Labels l = labels_of(predictions, targets, classes, "classification_report");
    table(l.classes, 6, l.classes, "classification_report");  // room for the per-class lists
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
    return s / static_cast<double>(a.size());
}

double mean_absolute_error(const Tensor& prediction, const Tensor& target) {
    check_same(prediction, target, "mean_absolute_error");
    const std::vector<double> a = prediction.to_vector(), b = target.to_vector();
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += std::abs(a[i] - b[i]);
    return s / static_cast<double>(a.size());
}

}  // namespace descent::data
