// Costs composed from differentiable ops (where, gather, index_select, logsumexp, clamp, ...):
// no loss carries a hand-written gradient. Formulas follow PyTorch 1.13; where a branch is not
// taken its value is kept finite (a "safe" argument under where) so that the zero gradient it
// receives never becomes 0 * inf = NaN.
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/core/shape.hpp>
#include <xgrad/nn/functional/activation.hpp>
#include <xgrad/nn/functional/loss.hpp>

namespace xgrad::nn::functional {

namespace {

// The op that raise() names in messages (it adds the "xgrad::"): "nn::<fn>".
std::string op_name(const char* fn) {
    return std::string("nn::") + fn;
}

std::string describe(const Tensor& t) {
    return std::string(dtype_name(t.dtype())) + " " + shape_str(t.shape());
}

std::string num(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

void check_defined(const char* fn, const Tensor& t, const char* what) {
    if (!t.defined()) raise<ValueError>(op_name(fn).c_str(), what, " is an undefined tensor");
}

void check_floating(const char* fn, const Tensor& t, const char* what) {
    check_defined(fn, t, what);
    if (!is_floating(t.dtype()))
        raise<DtypeError>(op_name(fn).c_str(), what,
                          " must be a floating tensor (float32 or float64), got ", describe(t));
}

// Same dtype as the input (no silent casts); `what` names the tensor at fault.
void check_dtype_as(const char* fn, const Tensor& t, const char* what, const Tensor& input) {
    if (t.dtype() != input.dtype())
        raise<DtypeError>(
            op_name(fn).c_str(), what, " must have the input's dtype (", dtype_name(input.dtype()),
            "), got ", describe(t),
            (t.dtype() == Dtype::i64 ? "; int64 class indices are for cross_entropy / nll_loss"
                                     : ""));
}

void check_same_shape(const char* fn, const Tensor& a, const char* a_name, const Tensor& b,
                      const char* b_name) {
    if (a.shape() != b.shape())
        raise<ShapeError>(op_name(fn).c_str(), a_name, " ", shape_str(a.shape()), " and ", b_name,
                          " ", shape_str(b.shape()), " must have the same shape");
}

// A floating input and a floating target of the same dtype and shape.
void check_value_target(const char* fn, const Tensor& input, const Tensor& target) {
    check_floating(fn, input, "input");
    check_defined(fn, target, "target");
    if (!is_floating(target.dtype()))
        raise<DtypeError>(
            op_name(fn).c_str(), "target must be a floating tensor of the input's dtype (",
            dtype_name(input.dtype()), "), got ", describe(target),
            (target.dtype() == Dtype::i64 ? "; int64 class indices are for cross_entropy / nll_loss"
                                          : ""));
    check_dtype_as(fn, target, "target", input);
    check_same_shape(fn, input, "input", target, "target");
}

// An optional elementwise weight: the input's dtype, broadcasting to the input's shape.
void check_broadcast_weight(const char* fn, const Tensor& w, const char* what,
                            const Tensor& input) {
    if (!w.defined()) return;
    check_floating(fn, w, what);
    check_dtype_as(fn, w, what, input);
    bool fits = w.dim() <= input.dim();
    for (std::int64_t k = 1; fits && k <= w.dim(); ++k) {
        const std::int64_t ws = w.shape()[static_cast<std::size_t>(w.dim() - k)];
        fits = ws == 1 || ws == input.shape()[static_cast<std::size_t>(input.dim() - k)];
    }
    if (!fits)
        raise<ShapeError>(op_name(fn).c_str(), what, " of shape ", shape_str(w.shape()),
                          " does not broadcast to the input's shape ", shape_str(input.shape()));
}

// Calls f(flat position, value as double) for every element of an f32/f64/i64 tensor.
template <class F>
void for_each_value(const Tensor& t, F&& f) {
    const std::int64_t n = t.numel();
    switch (t.dtype()) {
        case Dtype::f32: {
            const float* p = t.data_ptr<float>();
            for (std::int64_t i = 0; i < n; ++i) f(i, static_cast<double>(p[i]));
            break;
        }
        case Dtype::f64: {
            const double* p = t.data_ptr<double>();
            for (std::int64_t i = 0; i < n; ++i) f(i, p[i]);
            break;
        }
        case Dtype::i64: {
            const std::int64_t* p = t.data_ptr<std::int64_t>();
            for (std::int64_t i = 0; i < n; ++i) f(i, static_cast<double>(p[i]));
            break;
        }
        case Dtype::b8:
            raise<DtypeError>("nn", "bool tensors hold no values to check");
    }
}

Tensor apply_reduction(const char* fn, const Tensor& loss, Reduction r) {
    switch (r) {
        case Reduction::none:
            return loss;
        case Reduction::sum:
            return sum(loss);
        case Reduction::mean:
            // The mean of no elements is NaN, as in PyTorch.
            return loss.numel() == 0 ? sum(loss) / 0.0 : mean(loss);
    }
    raise<ValueError>(op_name(fn).c_str(), "unknown reduction ",
                      std::to_string(static_cast<int>(r)));
}

// A ±1 label (cosine_embedding, margin_ranking, hinge_embedding): int64 or the input's dtype,
// every value 1 or -1.
void check_sign_labels(const char* fn, const Tensor& y, const Tensor& input) {
    check_defined(fn, y, "y");
    if (y.dtype() != Dtype::i64 && y.dtype() != input.dtype())
        raise<DtypeError>(op_name(fn).c_str(), "y must be int64 or the input's dtype (",
                          dtype_name(input.dtype()), "), got ", describe(y));
    for_each_value(y, [&](std::int64_t i, double v) {
        if (v != 1.0 && v != -1.0)
            raise<ValueError>(op_name(fn).c_str(), "y must hold 1 or -1, got ", num(v),
                              " at position ", std::to_string(i));
    });
}

// max(log(q), -100) as PyTorch's binary_cross_entropy, where log_fn(q_safe) computes the log
// and `positive` marks q > 0. Where q == 0 the value is -100 with gradient 0 (not 0 / 0).
template <class LogFn>
Tensor clamped_log(const Tensor& positive, const Tensor& arg, const Tensor& safe_arg,
                   LogFn&& log_fn) {
    const Tensor safe = where(positive, arg, safe_arg);
    return where(positive, clamp(log_fn(safe), -100.0),
                 scalar_like(-100.0, arg, "nn::binary_cross_entropy"));
}

// ---- class-index targets (cross_entropy, nll_loss) -----------------------------------------

// The layout of a classification input: [C], [N, C] or [N, C, d1, ...].
struct ClassLayout {
    std::int64_t class_dim = 1;
    std::int64_t classes = 0;
    Shape target_shape;  // the input's shape without the class dim
};

ClassLayout class_layout(const char* fn, const Tensor& input) {
    check_floating(fn, input, "input");
    if (input.dim() < 1)
        raise<ShapeError>(op_name(fn).c_str(), "input must be [C], [N, C] or [N, C, d1, ...], got ",
                          describe(input));
    ClassLayout l;
    l.class_dim = input.dim() == 1 ? 0 : 1;
    l.classes = input.size(l.class_dim);
    for (std::int64_t k = 0; k < input.dim(); ++k)
        if (k != l.class_dim) l.target_shape.push_back(input.shape()[static_cast<std::size_t>(k)]);
    if (l.classes == 0)
        raise<ShapeError>(op_name(fn).c_str(), "input ", shape_str(input.shape()),
                          " has no classes");
    return l;
}

void check_class_weight(const char* fn, const Tensor& weight, const Tensor& input,
                        std::int64_t classes) {
    if (!weight.defined()) return;
    check_floating(fn, weight, "weight");
    check_dtype_as(fn, weight, "weight", input);
    if (weight.dim() != 1 || weight.size(0) != classes)
        raise<ShapeError>(op_name(fn).c_str(), "weight must be 1-D with one entry per class (",
                          std::to_string(classes), " for input ", shape_str(input.shape()),
                          "), got shape ", shape_str(weight.shape()));
}

// The class weight shaped to broadcast along the class dim of `input`.
Tensor class_weight_view(const Tensor& weight, const Tensor& input, std::int64_t class_dim) {
    Shape s(static_cast<std::size_t>(input.dim()), 1);
    s[static_cast<std::size_t>(class_dim)] = weight.size(0);
    return reshape(weight, s);
}

// Negative log likelihood of log-probabilities `logp` at int64 class indices `target`, with
// PyTorch's ignore_index, class weights, label smoothing and weighted-mean denominator.
Tensor nll_from_log_probs(const char* fn, const Tensor& logp_in, const Tensor& target_in,
                          const ClassLayout& layout, Reduction reduction, const Tensor& weight,
                          std::int64_t ignore_index, double label_smoothing) {
    if (target_in.dtype() != Dtype::i64)
        raise<DtypeError>(op_name(fn).c_str(), "target must hold int64 class indices for input ",
                          shape_str(logp_in.shape()), ", got ", describe(target_in));
    if (target_in.shape() != layout.target_shape)
        raise<ShapeError>(op_name(fn).c_str(), "target of shape ", shape_str(target_in.shape()),
                          " does not fit input ", shape_str(logp_in.shape()),
                          " (expected class indices of shape ", shape_str(layout.target_shape),
                          ")");
    const std::int64_t C = layout.classes;

    // Range check, the safe index (ignored -> 0) and the 0/1 mask of counted targets; these are
    // constants of the graph (indices carry no gradient).
    const std::int64_t n = target_in.numel();
    Tensor safe = empty(target_in.shape(), TensorOptions{Dtype::i64});
    Tensor valid = empty(target_in.shape(), TensorOptions{Dtype::b8});
    {
        const std::int64_t* t = target_in.data_ptr<std::int64_t>();
        std::int64_t* s = safe.data_ptr<std::int64_t>();
        bool* v = valid.data_ptr<bool>();
        for (std::int64_t i = 0; i < n; ++i) {
            if (t[i] == ignore_index) {
                s[i] = 0;
                v[i] = false;
                continue;
            }
            if (t[i] < 0 || t[i] >= C)
                raise<IndexError>(op_name(fn).c_str(), "target ", std::to_string(t[i]),
                                  " at position ", std::to_string(i), " is out of range for ",
                                  std::to_string(C), " classes (expected a class in [0, ",
                                  std::to_string(C), ") or ignore_index ",
                                  std::to_string(ignore_index), ")");
            s[i] = t[i];
            v[i] = true;
        }
    }

    // One sample ([C] with a 0-d target) is a batch of one.
    const bool unbatched = logp_in.dim() == 1;
    const Tensor logp = unbatched ? unsqueeze(logp_in, 0) : logp_in;
    const Tensor index = unbatched ? reshape(safe, {1}) : safe;
    const Tensor counted = (unbatched ? reshape(valid, {1}) : valid).to(logp.dtype());

    const Tensor picked = squeeze(gather(logp, 1, unsqueeze(index, 1)), 1);  // logp[i, t_i]
    // w_i: the class weight of each target, 0 where ignored.
    const Tensor w = weight.defined()
                         ? reshape(index_select(weight, 0, flatten(index)), index.shape()) * counted
                         : counted;
    Tensor loss = -(picked * w);
    if (label_smoothing > 0.0) {
        // PyTorch: (1 - eps) nll + eps / C * (-sum_c weight_c logp_c), 0 where ignored.
        const Tensor all = weight.defined() ? logp * class_weight_view(weight, logp, 1) : logp;
        const Tensor smooth = -(sum(all, {1}) * counted);
        loss = loss * (1.0 - label_smoothing) + smooth * (label_smoothing / double(C));
    }
    switch (reduction) {
        case Reduction::none:
            return unbatched ? reshape(loss, {}) : loss;
        case Reduction::sum:
            return sum(loss);
        case Reduction::mean:
            // The weighted mean: divided by the summed weights of the counted targets (NaN when
            // every target is ignored, as in PyTorch).
            return sum(loss) / sum(w);
    }
    raise<ValueError>(op_name(fn).c_str(), "unknown reduction ",
                      std::to_string(static_cast<int>(reduction)));
}

}  // namespace

const char* reduction_name(Reduction r) {
    switch (r) {
        case Reduction::none:
            return "none";
        case Reduction::mean:
            return "mean";
        case Reduction::sum:
            return "sum";
    }
    return "unknown";
}

const char* reduction_name(KLDivReduction r) {
    switch (r) {
        case KLDivReduction::none:
            return "none";
        case KLDivReduction::mean:
            return "mean";
        case KLDivReduction::sum:
            return "sum";
        case KLDivReduction::batchmean:
            return "batchmean";
    }
    return "unknown";
}

Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& o) {
    check_value_target("mse_loss", input, target);
    const Tensor d = input - target;
    return apply_reduction("mse_loss", d * d, o.reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& o) {
    check_value_target("l1_loss", input, target);
    return apply_reduction("l1_loss", abs(input - target), o.reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& o) {
    const char* fn = "smooth_l1_loss";
    check_value_target(fn, input, target);
    if (!(o.beta >= 0.0))
        raise<ValueError>(op_name(fn).c_str(), "beta must be non-negative, got ", num(o.beta));
    const Tensor d = input - target;
    const Tensor ad = abs(d);
    if (o.beta == 0.0) return apply_reduction(fn, ad, o.reduction);
    // The quadratic piece uses d * d (not |d|^2) so its second derivative is right at d = 0.
    const Tensor loss = where(ad < o.beta, d * d * (0.5 / o.beta), ad - 0.5 * o.beta);
    return apply_reduction(fn, loss, o.reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossOptions& o) {
    const char* fn = "huber_loss";
    check_value_target(fn, input, target);
    if (!(o.delta > 0.0))
        raise<ValueError>(op_name(fn).c_str(), "delta must be positive, got ", num(o.delta));
    const Tensor d = input - target;
    const Tensor ad = abs(d);
    const Tensor loss = where(ad < o.delta, d * d * 0.5, (ad - 0.5 * o.delta) * o.delta);
    return apply_reduction(fn, loss, o.reduction);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& o) {
    const char* fn = "binary_cross_entropy";
    check_value_target(fn, input, target);
    check_broadcast_weight(fn, o.weight, "weight", input);
    for_each_value(input, [&](std::int64_t i, double v) {
        if (!(v >= 0.0 && v <= 1.0))
            raise<ValueError>(op_name(fn).c_str(),
                              "input holds probabilities, so every element must be in ",
                              "[0, 1], got ", num(v), " at position ", std::to_string(i),
                              " (for logits use binary_cross_entropy_with_logits)");
    });
    const Tensor one = scalar_like(1.0, input, fn);
    const Tensor zero = scalar_like(0.0, input, fn);
    // log(p) and log1p(-p), each clamped below at -100; p = 0 and p = 1 take the clamp with a
    // zero gradient instead of 0 / 0.
    const Tensor log_p =
        clamped_log(input > 0.0, input, one, [](const Tensor& q) { return log(q); });
    const Tensor log_1mp =
        clamped_log(input < 1.0, input, zero, [](const Tensor& q) { return log1p(-q); });
    Tensor loss = -(target * log_p + (1.0 - target) * log_1mp);
    if (o.weight.defined()) loss = loss * o.weight;
    return apply_reduction(fn, loss, o.reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& o) {
    const char* fn = "binary_cross_entropy_with_logits";
    check_value_target(fn, input, target);
    check_broadcast_weight(fn, o.weight, "weight", input);
    check_broadcast_weight(fn, o.pos_weight, "pos_weight", input);
    // -log(sigmoid(x)) = log(1 + exp(-x)), computed without overflow for any x.
    const Tensor neg_log_sigmoid = softplus(-input, 1.0, std::numeric_limits<double>::infinity());
    Tensor loss;
    if (o.pos_weight.defined()) {
        const Tensor log_weight = (o.pos_weight - 1.0) * target + 1.0;
        loss = (1.0 - target) * input + log_weight * neg_log_sigmoid;
    } else {
        loss = (1.0 - target) * input + neg_log_sigmoid;
    }
    if (o.weight.defined()) loss = loss * o.weight;
    return apply_reduction(fn, loss, o.reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& o) {
    const char* fn = "cross_entropy";
    const ClassLayout layout = class_layout(fn, input);
    check_defined(fn, target, "target");
    check_class_weight(fn, o.weight, input, layout.classes);
    const double eps = o.label_smoothing;
    if (!(eps >= 0.0 && eps <= 1.0))
        raise<ValueError>(op_name(fn).c_str(), "label_smoothing must be in [0, 1], got ", num(eps));

    const bool probabilities = target.shape() == input.shape();
    if (!probabilities) {
        // A floating target with as many dims as the input is a probability target of the
        // wrong shape; otherwise it is meant as class indices.
        if (is_floating(target.dtype()) && target.dim() == input.dim())
            raise<ShapeError>(op_name(fn).c_str(), "class-probability target ",
                              shape_str(target.shape()), " must have the input's shape ",
                              shape_str(input.shape()));
        const Tensor logp = xgrad::log_softmax(input, layout.class_dim);
        return nll_from_log_probs(fn, logp, target, layout, o.reduction, o.weight, o.ignore_index,
                                  eps);
    }

    if (!is_floating(target.dtype()))
        raise<DtypeError>(op_name(fn).c_str(), "a target of the input's shape ",
                          shape_str(input.shape()),
                          " holds class probabilities and must be floating, got ", describe(target),
                          " (class indices have shape ", shape_str(layout.target_shape), ")");
    check_dtype_as(fn, target, "target", input);
    if (o.ignore_index >= 0)
        raise<ValueError>(op_name(fn).c_str(), "ignore_index (", std::to_string(o.ignore_index),
                          ") is not supported for class-probability targets");
    const std::int64_t C = layout.classes;
    const Tensor logp = xgrad::log_softmax(input, layout.class_dim);
    const Tensor p = eps > 0.0 ? target * (1.0 - eps) + eps / double(C) : target;
    Tensor prod = logp * p;
    if (o.weight.defined()) prod = prod * class_weight_view(o.weight, input, layout.class_dim);
    const Tensor loss = -sum(prod, {layout.class_dim});
    switch (o.reduction) {
        case Reduction::none:
            return loss;
        case Reduction::sum:
            return sum(loss);
        case Reduction::mean:
            // Divided by the number of samples (N * d1 * ...); NaN for an empty batch.
            return sum(loss) / double(input.numel() / C);
    }
    raise<ValueError>(op_name(fn).c_str(), "unknown reduction ",
                      std::to_string(static_cast<int>(o.reduction)));
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& o) {
    const char* fn = "nll_loss";
    const ClassLayout layout = class_layout(fn, input);
    check_defined(fn, target, "target");
    check_class_weight(fn, o.weight, input, layout.classes);
    return nll_from_log_probs(fn, input, target, layout, o.reduction, o.weight, o.ignore_index,
                              0.0);
}

Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& o) {
    const char* fn = "kl_div";
    check_value_target(fn, input, target);
    Tensor loss;
    if (o.log_target) {
        loss = exp(target) * (target - input);
    } else {
        // xlogy(p, p) - p * input: p log p is 0 where p == 0 (and NaN for p < 0, as PyTorch).
        const Tensor is_zero = target == scalar_like(0.0, target, fn);
        const Tensor safe = where(is_zero, scalar_like(1.0, target, fn), target);
        const Tensor p_log_p = where(is_zero, scalar_like(0.0, target, fn), target * log(safe));
        loss = p_log_p - target * input;
    }
    switch (o.reduction) {
        case KLDivReduction::none:
            return loss;
        case KLDivReduction::sum:
            return sum(loss);
        case KLDivReduction::mean:
            return apply_reduction(fn, loss, Reduction::mean);
        case KLDivReduction::batchmean:
            return input.dim() == 0 ? sum(loss) : sum(loss) / double(input.size(0));
    }
    raise<ValueError>(op_name(fn).c_str(), "unknown reduction ",
                      std::to_string(static_cast<int>(o.reduction)));
}

Tensor cosine_embedding_loss(const Tensor& x1, const Tensor& x2, const Tensor& y,
                             const CosineEmbeddingLossOptions& o) {
    const char* fn = "cosine_embedding_loss";
    check_floating(fn, x1, "x1");
    check_floating(fn, x2, "x2");
    check_dtype_as(fn, x2, "x2", x1);
    check_same_shape(fn, x1, "x1", x2, "x2");
    check_defined(fn, y, "y");
    if (x1.dim() != 1 && x1.dim() != 2)
        raise<ShapeError>(op_name(fn).c_str(),
                          "x1 and x2 must be [N, D] (with y [N]) or [D] (with y []), got ",
                          shape_str(x1.shape()));
    const Shape y_shape = x1.dim() == 2 ? Shape{x1.size(0)} : Shape{};
    if (y.shape() != y_shape)
        raise<ShapeError>(op_name(fn).c_str(), "y of shape ", shape_str(y.shape()),
                          " does not fit x1 ", shape_str(x1.shape()), " (expected ",
                          shape_str(y_shape), ")");
    check_sign_labels(fn, y, x1);

    constexpr double eps = 1e-12;  // as PyTorch, keeps the norms of zero vectors positive
    const std::int64_t d = x1.dim() - 1;
    const Tensor dot = sum(x1 * x2, {d});
    const Tensor n1 = sum(x1 * x1, {d}) + eps;
    const Tensor n2 = sum(x2 * x2, {d}) + eps;
    const Tensor cos = dot / sqrt(n1 * n2);
    const Tensor similar = y == scalar_like(1.0, y, fn);
    const Tensor loss = where(similar, 1.0 - cos, clamp(cos - o.margin, 0.0));
    return apply_reduction(fn, loss, o.reduction);
}

Tensor margin_ranking_loss(const Tensor& x1, const Tensor& x2, const Tensor& y,
                           const MarginRankingLossOptions& o) {
    const char* fn = "margin_ranking_loss";
    check_floating(fn, x1, "x1");
    check_floating(fn, x2, "x2");
    check_dtype_as(fn, x2, "x2", x1);
    check_same_shape(fn, x1, "x1", x2, "x2");
    check_defined(fn, y, "y");
    check_same_shape(fn, x1, "x1", y, "y");
    check_sign_labels(fn, y, x1);
    const Tensor sign = y.dtype() == x1.dtype() ? y : y.to(x1.dtype());
    const Tensor loss = clamp(-sign * (x1 - x2) + o.margin, 0.0);
    return apply_reduction(fn, loss, o.reduction);
}

Tensor hinge_embedding_loss(const Tensor& input, const Tensor& y,
                            const HingeEmbeddingLossOptions& o) {
    const char* fn = "hinge_embedding_loss";
    check_floating(fn, input, "input");
    check_defined(fn, y, "y");
    check_same_shape(fn, input, "input", y, "y");
    check_sign_labels(fn, y, input);
    const Tensor similar = y == scalar_like(1.0, y, fn);
    const Tensor loss = where(similar, input, clamp(o.margin - input, 0.0));
    return apply_reduction(fn, loss, o.reduction);
}

}  // namespace xgrad::nn::functional
