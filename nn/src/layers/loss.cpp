#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/nn/layers/loss.hpp>

namespace xgrad::nn {

namespace F = functional;

namespace {

// A double as Python's repr prints it: the shortest digits that read back exactly, in fixed
// notation for exponents -4..15 with at least one decimal ("20.0", "0.01"), else "1e-05".
std::string py_float(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    int digits = 1;
    for (; digits < 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
    const int exponent = std::atoi(std::strchr(buf, 'e') + 1);
    if (exponent < -4 || exponent >= 16) return buf;
    std::snprintf(buf, sizeof buf, "%.*f", std::max(digits - 1 - exponent, 1), v);
    return buf;
}

std::string reduction_repr(F::Reduction r) {
    return std::string("reduction=") + F::reduction_name(r);
}

void check_nonnegative(const char* layer, const char* what, double v) {
    if (!(v >= 0.0))
        raise<ValueError>((std::string("nn::") + layer).c_str(), what,
                          " must be non-negative, got ", py_float(v));
}

}  // namespace

Tensor MSELoss::forward(const Tensor& input, const Tensor& target) const {
    return F::mse_loss(input, target, options);
}
std::string MSELoss::extra_repr() const {
    return reduction_repr(options.reduction);
}

Tensor L1Loss::forward(const Tensor& input, const Tensor& target) const {
    return F::l1_loss(input, target, options);
}
std::string L1Loss::extra_repr() const {
    return reduction_repr(options.reduction);
}

SmoothL1Loss::SmoothL1Loss(SmoothL1LossOptions o) : options(o) {
    check_nonnegative("SmoothL1Loss", "beta", options.beta);
}
Tensor SmoothL1Loss::forward(const Tensor& input, const Tensor& target) const {
    return F::smooth_l1_loss(input, target, options);
}
std::string SmoothL1Loss::extra_repr() const {
    return reduction_repr(options.reduction) + ", beta=" + py_float(options.beta);
}

HuberLoss::HuberLoss(HuberLossOptions o) : options(o) {
    if (!(options.delta > 0.0))
        raise<ValueError>("nn::HuberLoss", "delta must be positive, got ", py_float(options.delta));
}
Tensor HuberLoss::forward(const Tensor& input, const Tensor& target) const {
    return F::huber_loss(input, target, options);
}
std::string HuberLoss::extra_repr() const {
    return reduction_repr(options.reduction) + ", delta=" + py_float(options.delta);
}

BCELoss::BCELoss(BCELossOptions o) : options(std::move(o)) {
    if (options.weight.defined()) options.weight = register_buffer("weight", options.weight);
}
Tensor BCELoss::forward(const Tensor& input, const Tensor& target) const {
    return F::binary_cross_entropy(input, target, options);
}
std::string BCELoss::extra_repr() const {
    return reduction_repr(options.reduction);
}

BCEWithLogitsLoss::BCEWithLogitsLoss(BCEWithLogitsLossOptions o) : options(std::move(o)) {
    if (options.weight.defined()) options.weight = register_buffer("weight", options.weight);
    if (options.pos_weight.defined())
        options.pos_weight = register_buffer("pos_weight", options.pos_weight);
}
Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) const {
    return F::binary_cross_entropy_with_logits(input, target, options);
}
std::string BCEWithLogitsLoss::extra_repr() const {
    return reduction_repr(options.reduction);
}

CrossEntropyLoss::CrossEntropyLoss(CrossEntropyLossOptions o) : options(std::move(o)) {
    const double eps = options.label_smoothing;
    if (!(eps >= 0.0 && eps <= 1.0))
        raise<ValueError>("nn::CrossEntropyLoss", "label_smoothing must be in [0, 1], got ",
                          py_float(eps));
    if (options.weight.defined()) options.weight = register_buffer("weight", options.weight);
}
Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) const {
    return F::cross_entropy(input, target, options);
}
std::string CrossEntropyLoss::extra_repr() const {
    return reduction_repr(options.reduction) +
           ", ignore_index=" + std::to_string(options.ignore_index) +
           ", label_smoothing=" + py_float(options.label_smoothing);
}

NLLLoss::NLLLoss(NLLLossOptions o) : options(std::move(o)) {
    if (options.weight.defined()) options.weight = register_buffer("weight", options.weight);
}
Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) const {
    return F::nll_loss(input, target, options);
}
std::string NLLLoss::extra_repr() const {
    return reduction_repr(options.reduction) +
           ", ignore_index=" + std::to_string(options.ignore_index);
}

Tensor KLDivLoss::forward(const Tensor& input, const Tensor& target) const {
    return F::kl_div(input, target, options);
}
std::string KLDivLoss::extra_repr() const {
    return std::string("reduction=") + F::reduction_name(options.reduction) +
           ", log_target=" + (options.log_target ? "true" : "false");
}

Tensor CosineEmbeddingLoss::forward(const Tensor& x1, const Tensor& x2, const Tensor& y) const {
    return F::cosine_embedding_loss(x1, x2, y, options);
}
std::string CosineEmbeddingLoss::extra_repr() const {
    return reduction_repr(options.reduction) + ", margin=" + py_float(options.margin);
}

Tensor MarginRankingLoss::forward(const Tensor& x1, const Tensor& x2, const Tensor& y) const {
    return F::margin_ranking_loss(x1, x2, y, options);
}
std::string MarginRankingLoss::extra_repr() const {
    return reduction_repr(options.reduction) + ", margin=" + py_float(options.margin);
}

Tensor HingeEmbeddingLoss::forward(const Tensor& input, const Tensor& y) const {
    return F::hinge_embedding_loss(input, y, options);
}
std::string HingeEmbeddingLoss::extra_repr() const {
    return reduction_repr(options.reduction) + ", margin=" + py_float(options.margin);
}

}  // namespace xgrad::nn
