// Evaluation metrics for classifiers and regressors, computed from tensors.
//
// Classification metrics take either scores [N, C] (logits or probabilities; the predicted class
// is the argmax of each row, the first one at ties) or predicted class indices [N] (int64), and
// true class indices [N] (int64). Regression metrics take two tensors of the same shape, of any
// numeric dtype. Every metric throws a ValueError on empty input, a ShapeError when the shapes do
// not fit and a DtypeError for the wrong dtype; messages name the function and the shapes.
//
//   double acc = metrics::accuracy(model(x), y);                 // 0.9125
//   Tensor cm = metrics::confusion_matrix(model(x), y, 10);      // int64 [10, 10], rows = true
//   auto report = metrics::precision_recall_f1(cm);              // per class + macro averages
//   std::cout << metrics::classification_report(report, names);
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::metrics {

// Predicted class indices: argmax of each row of scores [N, C], or `predictions` itself when it
// is already int64 [N].
std::vector<std::int64_t> predicted_classes(const Tensor& predictions);

// Fraction of samples whose predicted class equals the target, in [0, 1].
double accuracy(const Tensor& predictions, const Tensor& targets);

// Counts as an int64 [num_classes, num_classes] tensor: entry (i, j) is the number of samples of
// true class i predicted as class j (rows = true class, as in scikit-learn). A class index
// outside [0, num_classes) is a ValueError.
Tensor confusion_matrix(const Tensor& predictions, const Tensor& targets, std::int64_t num_classes);

// Per-class precision, recall and F1 with their averages. A ratio whose denominator is zero
// (a class never predicted, or absent from the targets) counts as 0, as scikit-learn's default
// zero_division does.
struct ClassificationReport {
    std::vector<double> precision{};      // per class: TP / (TP + FP)
    std::vector<double> recall{};         // per class: TP / (TP + FN)
    std::vector<double> f1{};             // per class: harmonic mean of precision and recall
    std::vector<std::int64_t> support{};  // per class: number of true samples
    double macro_precision = 0;           // unweighted means over all classes
    double macro_recall = 0;
    double macro_f1 = 0;
    double weighted_precision = 0;  // means weighted by support
    double weighted_recall = 0;
    double weighted_f1 = 0;
    double accuracy = 0;
    std::int64_t total = 0;  // number of samples
};

// From a confusion matrix [C, C] (rows = true class), e.g. the result of confusion_matrix().
ClassificationReport precision_recall_f1(const Tensor& confusion);
ClassificationReport precision_recall_f1(const Tensor& predictions, const Tensor& targets,
                                         std::int64_t num_classes);

// A text table like scikit-learn's classification_report. `class_names` may be empty (classes are
// then shown by index) or hold one name per class.
std::string classification_report(const ClassificationReport& report,
                                  const std::vector<std::string>& class_names = {});

// Mean absolute error, root of the mean squared error, and the coefficient of determination
// R^2 = 1 - SS_res / SS_tot. With constant targets (SS_tot = 0), R^2 is 1 for a perfect
// prediction and 0 otherwise (scikit-learn's force_finite behaviour).
double mae(const Tensor& predictions, const Tensor& targets);
double rmse(const Tensor& predictions, const Tensor& targets);
double r2_score(const Tensor& predictions, const Tensor& targets);

}  // namespace xgrad::metrics
