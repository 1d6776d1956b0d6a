#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/nn/functional/activation.hpp>
#include <xgrad/nn/layers/activation.hpp>

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

}  // namespace

Tensor ReLU::forward(const Tensor& x) {
    return F::relu(x);
}

Tensor Sigmoid::forward(const Tensor& x) {
    return F::sigmoid(x);
}

Tensor Tanh::forward(const Tensor& x) {
    return F::tanh(x);
}

Tensor LeakyReLU::forward(const Tensor& x) {
    return F::leaky_relu(x, negative_slope);
}
std::string LeakyReLU::extra_repr() const {
    return "negative_slope=" + py_float(negative_slope);
}

Tensor ELU::forward(const Tensor& x) {
    return F::elu(x, alpha);
}
std::string ELU::extra_repr() const {
    return "alpha=" + py_float(alpha);
}

Tensor SELU::forward(const Tensor& x) {
    return F::selu(x);
}

GELU::GELU(std::string approx) : approximate(std::move(approx)) {
    if (approximate != "none" && approximate != "tanh")
        raise<ValueError>("nn::GELU", "approximate must be \"none\" or \"tanh\", got \"",
                          approximate, "\"");
}
Tensor GELU::forward(const Tensor& x) {
    return F::gelu(x, approximate);
}
std::string GELU::extra_repr() const {
    return "approximate='" + approximate + "'";
}

Tensor SiLU::forward(const Tensor& x) {
    return F::silu(x);
}

Softplus::Softplus(double b, double t) : beta(b), threshold(t) {
    if (beta == 0.0 || std::isnan(beta))
        raise<ValueError>("nn::Softplus", "beta must be a non-zero number, got ", py_float(beta));
}
Tensor Softplus::forward(const Tensor& x) {
    return F::softplus(x, beta, threshold);
}
std::string Softplus::extra_repr() const {
    return "beta=" + py_float(beta) + ", threshold=" + py_float(threshold);
}

Tensor Mish::forward(const Tensor& x) {
    return F::mish(x);
}

Hardtanh::Hardtanh(double lo, double hi) : min_val(lo), max_val(hi) {
    if (!(min_val <= max_val))
        raise<ValueError>("nn::Hardtanh", "min_val (", py_float(min_val),
                          ") must not be above max_val (", py_float(max_val), ")");
}
Tensor Hardtanh::forward(const Tensor& x) {
    return F::hardtanh(x, min_val, max_val);
}
std::string Hardtanh::extra_repr() const {
    return "min_val=" + py_float(min_val) + ", max_val=" + py_float(max_val);
}

Tensor Softmax::forward(const Tensor& x) {
    return F::softmax(x, dim);
}
std::string Softmax::extra_repr() const {
    return "dim=" + std::to_string(dim);
}

Tensor LogSoftmax::forward(const Tensor& x) {
    return F::log_softmax(x, dim);
}
std::string LogSoftmax::extra_repr() const {
    return "dim=" + std::to_string(dim);
}

}  // namespace xgrad::nn
