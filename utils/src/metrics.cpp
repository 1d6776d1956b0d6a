#include <xgrad/utils/metrics.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/core/shape.hpp>

namespace xgrad::metrics {

namespace {

// The op that raise() names in messages (it adds the "xgrad::"): "metrics::<fn>".
std::string op_name(const char* fn) {
    return std::string("metrics::") + fn;
}

// Class indices from scores [N, C] (argmax per row) or int64 indices [N].
std::vector<std::int64_t> classes_of(const Tensor& predictions, const char* fn) {
    if (!predictions.defined()) raise<ValueError>(op_name(fn).c_str(), "predictions is undefined");
    const Shape& s = predictions.shape();
    const Dtype d = predictions.dtype();
    if (s.size() == 1) {
        if (d != Dtype::i64)
            raise<DtypeError>(op_name(fn).c_str(), "predictions of shape ", shape_str(s),
                              " must be int64 class indices, got ", dtype_name(d),
                              " (pass scores as [N, C] to take the argmax)");
        return predictions.to_vector<std::int64_t>();
    }
    if (s.size() != 2)
        raise<ShapeError>(op_name(fn).c_str(),
                          "predictions must be scores [N, C] or class indices [N], ", "got shape ",
                          shape_str(s));
    if (!is_floating(d))
        raise<DtypeError>(op_name(fn).c_str(), "scores of shape ", shape_str(s),
                          " must be floating point, got ", dtype_name(d));
    const std::int64_t n = s[0], c = s[1];
    if (c == 1)
        raise<ShapeError>(op_name(fn).c_str(), "scores of shape ", shape_str(s),
                          " have a single column, so the argmax is always 0; threshold a binary "
                          "score yourself, e.g. (p > 0.5).to(kInt64)");
    if (c == 0 && n > 0)
        raise<ShapeError>(op_name(fn).c_str(), "scores of shape ", shape_str(s),
                          " have no classes");
    const std::vector<double> v = predictions.to_vector<double>();
    std::vector<std::int64_t> out(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        const double* row = v.data() + i * c;
        std::int64_t best = 0;
        for (std::int64_t j = 1; j < c; ++j)
            if (row[j] > row[best] || (std::isnan(row[j]) && !std::isnan(row[best]))) best = j;
        out[static_cast<std::size_t>(i)] = best;
    }
    return out;
}

std::vector<std::int64_t> targets_of(const Tensor& targets, const char* fn) {
    if (!targets.defined()) raise<ValueError>(op_name(fn).c_str(), "targets is undefined");
    if (targets.dim() != 1)
        raise<ShapeError>(op_name(fn).c_str(), "targets must be class indices [N], got shape ",
                          shape_str(targets.shape()));
    if (targets.dtype() != Dtype::i64)
        raise<DtypeError>(op_name(fn).c_str(), "targets must be int64 class indices, got ",
                          dtype_name(targets.dtype()));
    return targets.to_vector<std::int64_t>();
}

// Predicted and true classes, checked for matching, non-zero lengths.
void classification_inputs(const Tensor& predictions, const Tensor& targets, const char* fn,
                           std::vector<std::int64_t>& pred, std::vector<std::int64_t>& truth) {
    pred = classes_of(predictions, fn);
    truth = targets_of(targets, fn);
    if (pred.size() != truth.size())
        raise<ShapeError>(op_name(fn).c_str(), "predictions ", shape_str(predictions.shape()),
                          " and targets ", shape_str(targets.shape()),
                          " have different numbers of samples (", std::to_string(pred.size()),
                          " vs ", std::to_string(truth.size()), ")");
    if (pred.empty())
        raise<ValueError>(op_name(fn).c_str(), "empty input (predictions ",
                          shape_str(predictions.shape()), ", targets ", shape_str(targets.shape()),
                          ")");
}

// Values of two same-shaped numeric tensors, for the regression metrics.
void regression_inputs(const Tensor& predictions, const Tensor& targets, const char* fn,
                       std::vector<double>& pred, std::vector<double>& truth) {
    if (!predictions.defined() || !targets.defined())
        raise<ValueError>(op_name(fn).c_str(), "predictions and targets must be defined tensors");
    if (predictions.shape() != targets.shape())
        raise<ShapeError>(op_name(fn).c_str(), "predictions ", shape_str(predictions.shape()),
                          " and targets ", shape_str(targets.shape()), " must have the same shape");
    if (predictions.dtype() == Dtype::b8 || targets.dtype() == Dtype::b8)
        raise<DtypeError>(op_name(fn).c_str(), "predictions and targets must be numeric, got ",
                          dtype_name(predictions.dtype()), " and ", dtype_name(targets.dtype()));
    if (predictions.numel() == 0)
        raise<ValueError>(op_name(fn).c_str(), "empty input (shape ",
                          shape_str(predictions.shape()), ")");
    pred = predictions.to_vector<double>();
    truth = targets.to_vector<double>();
}

double ratio(double num, double den) {
    return den > 0 ? num / den : 0.0;
}

}  // namespace

std::vector<std::int64_t> predicted_classes(const Tensor& predictions) {
    return classes_of(predictions, "predicted_classes");
}

double accuracy(const Tensor& predictions, const Tensor& targets) {
    std::vector<std::int64_t> pred, truth;
    classification_inputs(predictions, targets, "accuracy", pred, truth);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) correct += pred[i] == truth[i];
    return static_cast<double>(correct) / static_cast<double>(pred.size());
}

Tensor confusion_matrix(const Tensor& predictions, const Tensor& targets,
                        std::int64_t num_classes) {
    if (num_classes < 1)
        raise<ValueError>("metrics::confusion_matrix", "num_classes must be positive, got ",
                          std::to_string(num_classes));
    std::vector<std::int64_t> pred, truth;
    classification_inputs(predictions, targets, "confusion_matrix", pred, truth);
    if (predictions.dim() == 2 && predictions.size(1) != num_classes)
        raise<ShapeError>("metrics::confusion_matrix", "scores ", shape_str(predictions.shape()),
                          " have ", std::to_string(predictions.size(1)),
                          " columns but num_classes is ", std::to_string(num_classes));
    std::vector<std::int64_t> counts(static_cast<std::size_t>(num_classes * num_classes), 0);
    for (std::size_t i = 0; i < pred.size(); ++i) {
        const std::int64_t t = truth[i], p = pred[i];
        if (t < 0 || t >= num_classes || p < 0 || p >= num_classes)
            raise<ValueError>("metrics::confusion_matrix", "sample ", std::to_string(i), " has ",
                              (t < 0 || t >= num_classes ? "target " : "prediction "),
                              std::to_string(t < 0 || t >= num_classes ? t : p), ", outside [0, ",
                              std::to_string(num_classes), ")");
        ++counts[static_cast<std::size_t>(t * num_classes + p)];
    }
    Tensor out = empty({num_classes, num_classes}, {Dtype::i64});
    std::copy(counts.begin(), counts.end(), out.data_ptr<std::int64_t>());
    return out;
}

ClassificationReport precision_recall_f1(const Tensor& confusion) {
    const char* fn = "precision_recall_f1";
    if (!confusion.defined())
        raise<ValueError>(op_name(fn).c_str(), "confusion matrix is undefined");
    const Shape& s = confusion.shape();
    if (s.size() != 2 || s[0] != s[1] || s[0] < 1)
        raise<ShapeError>(op_name(fn).c_str(),
                          "a confusion matrix must be square [C, C] with C >= 1, ", "got shape ",
                          shape_str(s));
    if (confusion.dtype() == Dtype::b8)
        raise<DtypeError>(op_name(fn).c_str(), "a confusion matrix must hold counts, got bool");
    const std::int64_t c = s[0];
    const std::vector<double> m = confusion.to_vector<double>();
    double total = 0, diag = 0;
    for (std::int64_t i = 0; i < c * c; ++i) {
        if (m[static_cast<std::size_t>(i)] < 0 || !std::isfinite(m[static_cast<std::size_t>(i)]))
            raise<ValueError>(op_name(fn).c_str(), "confusion matrix ", shape_str(s),
                              " holds a negative or non-finite count at (", std::to_string(i / c),
                              ", ", std::to_string(i % c), ")");
        total += m[static_cast<std::size_t>(i)];
    }
    if (total <= 0)
        raise<ValueError>(op_name(fn).c_str(), "empty input (confusion matrix ", shape_str(s),
                          " counts no samples)");

    ClassificationReport r;
    r.precision.resize(static_cast<std::size_t>(c));
    r.recall.resize(static_cast<std::size_t>(c));
    r.f1.resize(static_cast<std::size_t>(c));
    r.support.resize(static_cast<std::size_t>(c));
    for (std::int64_t k = 0; k < c; ++k) {
        double row = 0, col = 0;
        for (std::int64_t j = 0; j < c; ++j) {
            row += m[static_cast<std::size_t>(k * c + j)];
            col += m[static_cast<std::size_t>(j * c + k)];
        }
        const double tp = m[static_cast<std::size_t>(k * c + k)];
        diag += tp;
        const auto ks = static_cast<std::size_t>(k);
        r.precision[ks] = ratio(tp, col);
        r.recall[ks] = ratio(tp, row);
        r.f1[ks] = ratio(2 * r.precision[ks] * r.recall[ks], r.precision[ks] + r.recall[ks]);
        r.support[ks] = static_cast<std::int64_t>(std::llround(row));
        r.macro_precision += r.precision[ks] / static_cast<double>(c);
        r.macro_recall += r.recall[ks] / static_cast<double>(c);
        r.macro_f1 += r.f1[ks] / static_cast<double>(c);
        r.weighted_precision += r.precision[ks] * row / total;
        r.weighted_recall += r.recall[ks] * row / total;
        r.weighted_f1 += r.f1[ks] * row / total;
    }
    r.accuracy = diag / total;
    r.total = static_cast<std::int64_t>(std::llround(total));
    return r;
}

ClassificationReport precision_recall_f1(const Tensor& predictions, const Tensor& targets,
                                         std::int64_t num_classes) {
    return precision_recall_f1(confusion_matrix(predictions, targets, num_classes));
}

std::string classification_report(const ClassificationReport& report,
                                  const std::vector<std::string>& class_names) {
    const std::size_t c = report.precision.size();
    if (report.recall.size() != c || report.f1.size() != c || report.support.size() != c)
        raise<ValueError>("metrics::classification_report",
                          "the report's per-class vectors have different lengths");
    if (!class_names.empty() && class_names.size() != c)
        raise<ValueError>("metrics::classification_report", std::to_string(class_names.size()),
                          " class names for ", std::to_string(c), " classes");
    std::vector<std::string> names(c);
    std::size_t width = 12;
    for (std::size_t k = 0; k < c; ++k) {
        names[k] = class_names.empty() ? std::to_string(k) : class_names[k];
        width = std::max(width, names[k].size());
    }
    std::ostringstream os;
    char buf[128];
    auto row = [&](const std::string& name, double p, double rc, double f, std::int64_t n) {
        std::snprintf(buf, sizeof buf, "  %9.4f %9.4f %9.4f %9lld\n", p, rc, f,
                      static_cast<long long>(n));
        os << name << std::string(width - name.size(), ' ') << buf;
    };
    os << std::string(width, ' ') << "  precision    recall        f1   support\n\n";
    for (std::size_t k = 0; k < c; ++k)
        row(names[k], report.precision[k], report.recall[k], report.f1[k], report.support[k]);
    os << '\n';
    std::snprintf(buf, sizeof buf, "  %9s %9s %9.4f %9lld\n", "", "", report.accuracy,
                  static_cast<long long>(report.total));
    os << "accuracy" << std::string(width - 8, ' ') << buf;
    row("macro avg", report.macro_precision, report.macro_recall, report.macro_f1, report.total);
    row("weighted avg", report.weighted_precision, report.weighted_recall, report.weighted_f1,
        report.total);
    return os.str();
}

double mae(const Tensor& predictions, const Tensor& targets) {
    std::vector<double> p, t;
    regression_inputs(predictions, targets, "mae", p, t);
    double sum = 0;
    for (std::size_t i = 0; i < p.size(); ++i) sum += std::abs(p[i] - t[i]);
    return sum / static_cast<double>(p.size());
}

double rmse(const Tensor& predictions, const Tensor& targets) {
    std::vector<double> p, t;
    regression_inputs(predictions, targets, "rmse", p, t);
    double sum = 0;
    for (std::size_t i = 0; i < p.size(); ++i) sum += (p[i] - t[i]) * (p[i] - t[i]);
    return std::sqrt(sum / static_cast<double>(p.size()));
}

double r2_score(const Tensor& predictions, const Tensor& targets) {
    std::vector<double> p, t;
    regression_inputs(predictions, targets, "r2_score", p, t);
    double mean = 0;
    for (double v : t) mean += v;
    mean /= static_cast<double>(t.size());
    double ss_res = 0, ss_tot = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        ss_res += (t[i] - p[i]) * (t[i] - p[i]);
        ss_tot += (t[i] - mean) * (t[i] - mean);
    }
    if (ss_tot == 0) return ss_res == 0 ? 1.0 : 0.0;
    return 1.0 - ss_res / ss_tot;
}

}  // namespace xgrad::metrics
