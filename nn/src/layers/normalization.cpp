#include <cstdio>
#include <string>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/nn/layers/normalization.hpp>

namespace xgrad::nn {

namespace {

std::string num_str(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

const char* bool_str(bool b) {
    return b ? "true" : "false";
}

// Every dim except `keep`, for the statistics.
Axes all_but(std::int64_t ndim, std::int64_t keep) {
    Axes dims;
    for (std::int64_t d = 0; d < ndim; ++d)
        if (d != keep) dims.push_back(d);
    return dims;
}

void check_dtype(const std::string& layer, const Tensor& x, const Tensor& reference) {
    if (!is_floating(x.dtype()))
        raise<DtypeError>(("nn::" + layer).c_str(), "needs a floating input, got ",
                          dtype_name(x.dtype()), " of shape ", shape_str(x.shape()));
    if (reference.defined() && reference.dtype() != x.dtype())
        raise<DtypeError>(("nn::" + layer).c_str(), "input is ", dtype_name(x.dtype()),
                          " but the layer is ", dtype_name(reference.dtype()),
                          " (convert the module with .to(", dtype_name(x.dtype()), "))");
}

}  // namespace

// ---- BatchNorm ---------------------------------------------------------------------------

BatchNormBase::BatchNormBase(const char* layer, std::int64_t n, BatchNormOptions o)
    : num_features(n), options(o) {
    // name() would still say "BatchNormBase" here (the derived part is not constructed yet),
    // hence `layer`.
    const std::string op = std::string("nn::") + layer;
    if (n <= 0)
        raise<ValueError>(op.c_str(), "num_features must be positive, got ", std::to_string(n));
    if (!(o.eps > 0)) raise<ValueError>(op.c_str(), "eps must be positive, got ", num_str(o.eps));
    if (o.momentum && !(*o.momentum >= 0 && *o.momentum <= 1))
        raise<ValueError>(op.c_str(), "momentum must be in [0, 1], got ", num_str(*o.momentum));
    if (o.affine) {
        weight = register_parameter("weight", ones({n}));
        bias = register_parameter("bias", zeros({n}));
    }
    if (o.track_running_stats) {
        running_mean = register_buffer("running_mean", zeros({n}));
        running_var = register_buffer("running_var", ones({n}));
        num_batches_tracked =
            register_buffer("num_batches_tracked", scalar_tensor<std::int64_t>(0));
    }
}

void BatchNormBase::reset_running_stats() {
    if (!options.track_running_stats) return;
    running_mean.fill_(0.0);
    running_var.fill_(1.0);
    num_batches_tracked.fill_(0.0);
}

Tensor BatchNormBase::forward(const Tensor& x) {
    if (!x.defined()) raise<ValueError>(("nn::" + name()).c_str(), "undefined input");
    check_input(x);
    check_dtype(name(), x, options.affine ? weight : running_mean);

    const std::int64_t c = num_features;
    Shape channel_shape(static_cast<std::size_t>(x.dim()), 1);  // [1, C, 1, ...]
    channel_shape[1] = c;
    const Axes dims = all_but(x.dim(), 1);

    Tensor centred, scale;  // y = centred * scale (+ bias)
    if (is_training() || !options.track_running_stats) {
        const std::int64_t count = x.numel() / c;  // values per channel
        if (is_training() && count <= 1)
            raise<ValueError>(
                ("nn::" + name()).c_str(),
                "expected more than 1 value per channel when training, got input shape ",
                shape_str(x.shape()));
        const Tensor mean = x.mean(dims, true);
        centred = x - mean;
        const Tensor var = (centred * centred).mean(dims, true);  // biased, for normalising
        scale = 1.0 / sqrt(var + options.eps);
        if (is_training() && options.track_running_stats) {
            NoGradGuard no_grad;
            num_batches_tracked.copy_(num_batches_tracked + 1.0);
            const double factor =
                options.momentum
                    ? *options.momentum
                    : 1.0 / static_cast<double>(num_batches_tracked.item<std::int64_t>());
            const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
            running_mean.copy_(running_mean * (1.0 - factor) + mean.detach().reshape({c}) * factor);
            running_var.copy_(running_var * (1.0 - factor) +
                              var.detach().reshape({c}) * (factor * unbias));
        }
    } else {
        centred = x - running_mean.reshape(channel_shape);
        scale = (1.0 / sqrt(running_var + options.eps)).reshape(channel_shape);
    }
    if (!options.affine) return centred * scale;
    return centred * (scale * weight.reshape(channel_shape)) + bias.reshape(channel_shape);
}

std::string BatchNormBase::extra_repr() const {
    return std::to_string(num_features) + ", eps=" + num_str(options.eps) +
           ", momentum=" + (options.momentum ? num_str(*options.momentum) : std::string("none")) +
           ", affine=" + bool_str(options.affine) +
           ", track_running_stats=" + bool_str(options.track_running_stats);
}

void BatchNorm1d::check_input(const Tensor& x) const {
    if ((x.dim() != 2 && x.dim() != 3) || x.size(1) != num_features)
        raise<ShapeError>("nn::BatchNorm1d", "expected input [N, ", std::to_string(num_features),
                          "] or [N, ", std::to_string(num_features), ", L] (2-D or 3-D with ",
                          std::to_string(num_features), " channels), got shape ",
                          shape_str(x.shape()));
}

void BatchNorm2d::check_input(const Tensor& x) const {
    if (x.dim() != 4 || x.size(1) != num_features)
        raise<ShapeError>("nn::BatchNorm2d", "expected input [N, ", std::to_string(num_features),
                          ", H, W] (4-D with ", std::to_string(num_features),
                          " channels), got shape ", shape_str(x.shape()));
}

// ---- LayerNorm ---------------------------------------------------------------------------

LayerNorm::LayerNorm(Shape shape, LayerNormOptions o)
    : normalized_shape(std::move(shape)), options(o) {
    if (normalized_shape.empty())
        raise<ValueError>("nn::LayerNorm", "normalized_shape must have at least one dim");
    for (auto d : normalized_shape)
        if (d <= 0)
            raise<ValueError>("nn::LayerNorm", "normalized_shape must be positive, got ",
                              shape_str(normalized_shape));
    if (!(o.eps > 0))
        raise<ValueError>("nn::LayerNorm", "eps must be positive, got ", num_str(o.eps));
    if (o.elementwise_affine) {
        weight = register_parameter("weight", ones(normalized_shape));
        bias = register_parameter("bias", zeros(normalized_shape));
    }
}

Tensor LayerNorm::forward(const Tensor& x) {
    if (!x.defined()) raise<ValueError>("nn::LayerNorm", "undefined input");
    const std::int64_t k = static_cast<std::int64_t>(normalized_shape.size());
    bool fits = x.dim() >= k;
    for (std::int64_t i = 0; fits && i < k; ++i)
        fits = x.size(x.dim() - k + i) == normalized_shape[static_cast<std::size_t>(i)];
    if (!fits)
        raise<ShapeError>("nn::LayerNorm", "expected input with trailing dimensions ",
                          shape_str(normalized_shape), " (normalized_shape), got shape ",
                          shape_str(x.shape()));
    check_dtype("LayerNorm", x, weight);
    Axes dims;
    for (std::int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
    const Tensor centred = x - x.mean(dims, true);
    const Tensor var = (centred * centred).mean(dims, true);  // biased
    const Tensor y = centred * (1.0 / sqrt(var + options.eps));
    return options.elementwise_affine ? y * weight + bias : y;
}

std::string LayerNorm::extra_repr() const {
    return shape_str(normalized_shape) + ", eps=" + num_str(options.eps) +
           ", elementwise_affine=" + bool_str(options.elementwise_affine);
}

}  // namespace xgrad::nn
