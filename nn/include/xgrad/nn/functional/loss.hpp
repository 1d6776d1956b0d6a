// Costs (loss functions), composed from differentiable ops: gradients come from the tape.
// Names, defaults and formulas follow torch.nn.functional (PyTorch 1.13). Options are aggregate
// structs, so C++20 callers write
//
//   Tensor loss = nn::cross_entropy(logits, labels, {.weight = w, .label_smoothing = 0.1});
//
// Checks (each a clear xgrad error naming the function and the shapes or values at fault):
// - prediction and target must have the same shape (no silent broadcasting) -> ShapeError;
// - targets that hold values (mse, l1, bce, kl_div, class probabilities) must be floating and
//   of the input's dtype, class-index targets must be int64 -> DtypeError;
// - a class index outside [0, C) that is not ignore_index -> IndexError naming it and C;
// - a class weight that is not 1-D of size C -> ShapeError.
#pragma once
#include <cstdint>

#include <xgrad/core/tensor.hpp>

namespace xgrad::nn::functional {

// How the per-element losses are combined: kept as they are, averaged or summed.
enum class Reduction { none, mean, sum };
// kl_div also offers batchmean: the sum divided by the batch size (input.size(0)), which is
// the mathematically correct KL divergence per sample.
enum class KLDivReduction { none, mean, sum, batchmean };

const char* reduction_name(Reduction r);       // "none", "mean", "sum"
const char* reduction_name(KLDivReduction r);  // ... and "batchmean"

struct MSELossOptions {
    Reduction reduction = Reduction::mean;
};
struct L1LossOptions {
    Reduction reduction = Reduction::mean;
};
// 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (beta >= 0; beta = 0 is l1).
struct SmoothL1LossOptions {
    Reduction reduction = Reduction::mean;
    double beta = 1.0;
};
// 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere (delta > 0).
struct HuberLossOptions {
    Reduction reduction = Reduction::mean;
    double delta = 1.0;
};
// weight (optional) rescales each element's loss; it must broadcast to the input's shape.
struct BCELossOptions {
    Reduction reduction = Reduction::mean;
    Tensor weight{};
};
// pos_weight (optional) multiplies the positive term, broadcast over the last dim (one per
// class); weight as for BCELossOptions.
struct BCEWithLogitsLossOptions {
    Reduction reduction = Reduction::mean;
    Tensor weight{};
    Tensor pos_weight{};
};
// weight (optional): one rescaling factor per class, 1-D of size C. ignore_index: targets equal
// to it add nothing (index targets only; must be negative for probability targets).
// label_smoothing in [0, 1] mixes the target with the uniform distribution.
struct CrossEntropyLossOptions {
    Reduction reduction = Reduction::mean;
    Tensor weight{};
    std::int64_t ignore_index = -100;
    double label_smoothing = 0.0;
};
using CrossEntropyOptions = CrossEntropyLossOptions;
struct NLLLossOptions {
    Reduction reduction = Reduction::mean;
    Tensor weight{};
    std::int64_t ignore_index = -100;
};
// log_target: the target is given as log-probabilities too.
struct KLDivLossOptions {
    KLDivReduction reduction = KLDivReduction::mean;
    bool log_target = false;
};
struct CosineEmbeddingLossOptions {
    Reduction reduction = Reduction::mean;
    double margin = 0.0;
};
struct MarginRankingLossOptions {
    Reduction reduction = Reduction::mean;
    double margin = 0.0;
};
struct HingeEmbeddingLossOptions {
    Reduction reduction = Reduction::mean;
    double margin = 1.0;
};

// (input - target)^2.
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& options = {});
// |input - target|.
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& options = {});
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      const SmoothL1LossOptions& options = {});
Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossOptions& options = {});

// Binary cross entropy of probabilities input in [0, 1] (checked: ValueError otherwise) against
// target in [0, 1]: -w (t log(p) + (1 - t) log(1 - p)), each log clamped below at -100 as in
// PyTorch. The gradient is the exact derivative of that clamped form.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BCELossOptions& options = {});
// The same from logits, stable for logits of any size:
// (1 - t) x + (1 + (pos_weight - 1) t) log(1 + exp(-x)), times weight.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& options = {});

// Cross entropy of logits. input [N, C], [N, C, d1, ...] or [C] (one sample); target either
// int64 class indices of shape [N], [N, d1, ...] or [] (ignore_index allowed), or class
// probabilities of the input's shape and dtype. Computed through log_softmax (logsumexp), so
// logits of any size are fine. With mean reduction and index targets the sum is divided by the
// summed weights of the non-ignored targets (PyTorch's weighted mean; NaN if all are ignored);
// with probability targets by the number of samples (N * d1 * ...).
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyLossOptions& options = {});
// Negative log likelihood of log-probabilities input (same layouts as cross_entropy, index
// targets only): -weight[t] * input[t], weighted mean as cross_entropy.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options = {});

// Kullback-Leibler divergence with input = log q and target p (or log p with log_target):
// p (log p - log q) elementwise, 0 where p = 0. Differences from PyTorch: the shapes must match
// (PyTorch broadcasts), and where p = 0 the gradient with respect to p is the finite -log q
// (times the reduction's scale) instead of PyTorch's NaN.
Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& options = {});

// x1, x2 of shape [N, D] with y [N], or [D] with y []; y holds 1 (similar) or -1 (dissimilar):
// 1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1.
Tensor cosine_embedding_loss(const Tensor& x1, const Tensor& x2, const Tensor& y,
                             const CosineEmbeddingLossOptions& options = {});
// max(0, -y (x1 - x2) + margin) with y = 1 (x1 should rank higher) or -1; all of one shape.
Tensor margin_ranking_loss(const Tensor& x1, const Tensor& x2, const Tensor& y,
                           const MarginRankingLossOptions& options = {});
// x for y = 1, max(0, margin - x) for y = -1; x and y of one shape.
Tensor hinge_embedding_loss(const Tensor& input, const Tensor& y,
                            const HingeEmbeddingLossOptions& options = {});

// y for cosine_embedding_loss, margin_ranking_loss and hinge_embedding_loss may be int64 or the
// input's floating dtype; any value other than 1 and -1 is a ValueError.

}  // namespace xgrad::nn::functional
