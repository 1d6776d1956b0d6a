// Activations composed from differentiable ops. No activation carries a hand-written gradient:
// branches are selected with where() and the unused branch is kept finite (clamp, log1p of a
// non-positive exponent) so that its zero gradient never turns into 0 * inf = NaN.
#include <cmath>
#include <sstream>
#include <string>

#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/shape.hpp>
#include <xgrad/nn/functional/activation.hpp>

namespace xgrad::nn::functional {

namespace {

void check_floating(const char* fn, const Tensor& x) {
    if (!x.defined()) raise<ValueError>((std::string("nn::") + fn).c_str(), "undefined input");
    if (!is_floating(x.dtype()))
        raise<DtypeError>((std::string("nn::") + fn).c_str(),
                          "expected a floating tensor (float32 or float64), got ",
                          dtype_name(x.dtype()), " ", shape_str(x.shape()));
}

// log(1 + exp(z)) for any z without overflow, with the exact derivative sigmoid(z) everywhere:
// z + log1p(exp(-z)) for z > 0, log1p(exp(z)) otherwise. The clamps keep the exponent of the
// branch that is not taken at or below 0, so that branch stays finite.
Tensor log1p_exp(const Tensor& z) {
    const Tensor pos = z + log1p(exp(-clamp(z, 0.0)));
    const Tensor neg = log1p(exp(clamp(z, std::nullopt, 0.0)));
    return where(z > 0.0, pos, neg);
}

std::string num(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

}  // namespace

Tensor identity(const Tensor& x) {
    return x;
}

Tensor sigmoid(const Tensor& x) {
    return xgrad::sigmoid(x);
}

Tensor tanh(const Tensor& x) {
    return xgrad::tanh(x);
}

Tensor relu(const Tensor& x) {
    return xgrad::relu(x);
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
    check_floating("leaky_relu", x);
    return where(x > 0.0, x, x * negative_slope);
}

Tensor elu(const Tensor& x, double alpha) {
    check_floating("elu", x);
    // expm1 of min(x, 0): the positive side never reaches the exponential.
    return where(x > 0.0, x, expm1(clamp(x, std::nullopt, 0.0)) * alpha);
}

Tensor selu(const Tensor& x) {
    check_floating("selu", x);
    constexpr double alpha = 1.6732632423543772848170429916717;
    constexpr double scale = 1.0507009873554804934193349852946;
    return where(x > 0.0, x * scale, expm1(clamp(x, std::nullopt, 0.0)) * (alpha * scale));
}

Tensor gelu(const Tensor& x, const std::string& approximate) {
    check_floating("gelu", x);
    if (approximate == "none") {
        constexpr double inv_sqrt2 = 0.70710678118654752440;
        return x * (erf(x * inv_sqrt2) + 1.0) * 0.5;
    }
    if (approximate == "tanh") {
        constexpr double sqrt_2_over_pi = 0.79788456080286535588;
        const Tensor inner = (x + x * x * x * 0.044715) * sqrt_2_over_pi;
        return x * (xgrad::tanh(inner) + 1.0) * 0.5;
    }
    raise<ValueError>("nn::gelu", "approximate must be \"none\" or \"tanh\", got \"", approximate,
                      "\"");
}

Tensor silu(const Tensor& x) {
    check_floating("silu", x);
    return x * xgrad::sigmoid(x);
}

Tensor swish(const Tensor& x) {
    return silu(x);
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
    check_floating("softplus", x);
    if (beta == 0.0 || std::isnan(beta))
        raise<ValueError>("nn::softplus", "beta must be a non-zero number, got ", num(beta));
    const Tensor z = beta == 1.0 ? x : x * beta;
    const Tensor soft = beta == 1.0 ? log1p_exp(z) : log1p_exp(z) / beta;
    // Above the threshold softplus is x to within rounding (PyTorch's linear region).
    if (std::isinf(threshold) && threshold > 0) return soft;
    return where(z > threshold, x, soft);
}

Tensor mish(const Tensor& x) {
    check_floating("mish", x);
    return x * xgrad::tanh(softplus(x));
}

Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
    check_floating("hardtanh", x);
    if (!(min_val <= max_val))
        raise<ValueError>("nn::hardtanh", "min_val (", num(min_val),
                          ") must not be above max_val (", num(max_val), ")");
    // Inside (min_val, max_val) the input passes with gradient 1; outside, and exactly at the
    // bounds (as in PyTorch), the output is the constant bound with gradient 0.
    const Tensor inside = logical_and(x > min_val, x < max_val);
    return where(inside, x, clamp(x.detach(), min_val, max_val));
}

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
    check_floating("log_softmax", x);
    normalize_axis(dim, x.dim(), "nn::log_softmax");
    return xgrad::log_softmax(x, dim);
}

Tensor softmax(const Tensor& x, std::int64_t dim) {
    check_floating("softmax", x);
    normalize_axis(dim, x.dim(), "nn::softmax");
    return xgrad::softmax(x, dim);
}

}  // namespace xgrad::nn::functional
