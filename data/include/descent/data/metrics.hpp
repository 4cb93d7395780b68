#pragma once
// Metrics of a trained model, as plain numbers: accuracy, the confusion matrix, precision,
// recall and F1 per class (scikit-learn's definitions, 0 where a class is never predicted or
// never present: zero_division = 0), mean squared and absolute error. They read values only,
// so they record nothing and work in any grad mode. Predictions are classes or scores:
//   int64 [N]            the classes themselves
//   floating [N, C≥2]    scores per class (logits or probabilities): the class is the argmax
//   floating [N] or [N, 1]  a binary model's one score per sample, as torchmetrics' binary
//                        task reads it: probabilities when every value is in [0, 1], else
//                        logits (put through the sigmoid); class 1 where the probability is
//                        above 0.5 (a logit above 0), else 0
// Metrics of no samples, NaN scores, labels out of range and classes too many for memory are
// Errors naming the metric, never a number.
//
//   auto report = descent::data::classification_report(model(x_test), y_test);
//   fmt::print("accuracy {:.3f}, macro F1 {:.3f}\n", report.accuracy, report.macro_f1);

#include <cstdint>
#include <vector>

#include "descent/tensor.hpp"

namespace descent::data {

/// The predicted classes, int64 [N], of predictions as above.
Tensor predicted_classes(const Tensor& predictions);

/// The share of predictions equal to the int64 targets [N] (predictions as above).
double accuracy(const Tensor& predictions, const Tensor& targets);

/// int64 [C, C]: entry (i, j) counts the samples of true class i predicted as j. classes 0
/// means the largest label seen plus one.
Tensor confusion_matrix(const Tensor& predictions, const Tensor& targets, std::int64_t classes = 0);

struct ClassificationReport {
    std::vector<double> precision, recall, f1;  ///< per class
    std::vector<std::int64_t> support;          ///< true samples per class
    double accuracy = 0;
    double macro_f1 = 0;     ///< the mean of the classes' F1
    double weighted_f1 = 0;  ///< the mean weighted by support
};
ClassificationReport classification_report(const Tensor& predictions, const Tensor& targets,
                                           std::int64_t classes = 0);

/// mean((prediction − target)²) and mean(|prediction − target|) over all elements.
double mean_squared_error(const Tensor& prediction, const Tensor& target);
double mean_absolute_error(const Tensor& prediction, const Tensor& target);

}  // namespace descent::data
