#include <cmath>
#include <vector>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/nn/init.hpp>

namespace xgrad::nn::init {

namespace {

// Writes value_at(i) into every element, bypassing the tape (initialisation is not a step
// of the model).
template <class F>
Tensor& fill(Tensor& t, const char* op, F value_at) {
    if (!t.defined())
        raise<ValueError>((std::string("nn::init::") + op).c_str(), "undefined tensor");
    const std::int64_t n = t.numel();
    switch (t.dtype()) {
        case Dtype::f32: {
            float* p = t.data_ptr<float>();
            for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(value_at(i));
            break;
        }
        case Dtype::f64: {
            double* p = t.data_ptr<double>();
            for (std::int64_t i = 0; i < n; ++i) p[i] = value_at(i);
            break;
        }
        default:
            raise<DtypeError>((std::string("nn::init::") + op).c_str(),
                              "needs a floating tensor, got ", dtype_name(t.dtype()));
    }
    t.bump_version();
    return t;
}

std::int64_t fan(const Tensor& t, FanMode mode) {
    auto [in, out] = calculate_fan_in_and_fan_out(t);
    return mode == FanMode::fan_in ? in : out;
}

}  // namespace

double calculate_gain(const std::string& nl, double param) {
    if (nl == "linear" || nl == "conv1d" || nl == "conv2d" || nl == "conv3d" || nl == "sigmoid")
        return 1.0;
    if (nl == "tanh") return 5.0 / 3.0;
    if (nl == "relu") return std::sqrt(2.0);
    if (nl == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
    if (nl == "selu") return 3.0 / 4.0;
    raise<ValueError>("nn::init::calculate_gain", "unsupported nonlinearity '", nl, "'");
}

std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
    if (t.dim() < 2)
        raise<ShapeError>("nn::init",
                          "fan in and fan out need a tensor with at least 2 dimensions, got shape ",
                          shape_str(t.shape()));
    std::int64_t receptive = 1;
    for (std::int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
    return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor& uniform_(Tensor& t, double a, double b, Generator& gen) {
    if (a > b)
        raise<ValueError>("nn::init::uniform_", "lower bound ", std::to_string(a),
                          " is above upper bound ", std::to_string(b));
    return fill(t, "uniform_", [&](std::int64_t) { return a + (b - a) * gen.uniform(); });
}

Tensor& normal_(Tensor& t, double mean, double std, Generator& gen) {
    if (std < 0)
        raise<ValueError>("nn::init::normal_", "std must be non-negative, got ",
                          std::to_string(std));
    return fill(t, "normal_", [&](std::int64_t) { return mean + std * gen.normal(); });
}

Tensor& constant_(Tensor& t, double value) {
    return fill(t, "constant_", [&](std::int64_t) { return value; });
}
Tensor& zeros_(Tensor& t) {
    return constant_(t, 0.0);
}
Tensor& ones_(Tensor& t) {
    return constant_(t, 1.0);
}

Tensor& xavier_uniform_(Tensor& t, double gain, Generator& gen) {
    auto [in, out] = calculate_fan_in_and_fan_out(t);
    const double a = gain * std::sqrt(6.0 / double(in + out));
    return uniform_(t, -a, a, gen);
}

Tensor& xavier_normal_(Tensor& t, double gain, Generator& gen) {
    auto [in, out] = calculate_fan_in_and_fan_out(t);
    return normal_(t, 0.0, gain * std::sqrt(2.0 / double(in + out)), gen);
}

Tensor& kaiming_uniform_(Tensor& t, double a, FanMode mode, const std::string& nl, Generator& gen) {
    const double std = calculate_gain(nl, a) / std::sqrt(double(fan(t, mode)));
    const double bound = std::sqrt(3.0) * std;
    return uniform_(t, -bound, bound, gen);
}

Tensor& kaiming_normal_(Tensor& t, double a, FanMode mode, const std::string& nl, Generator& gen) {
    return normal_(t, 0.0, calculate_gain(nl, a) / std::sqrt(double(fan(t, mode))), gen);
}

Tensor& orthogonal_(Tensor& t, double gain, Generator& gen) {
    if (!t.defined() || t.dim() < 2)
        raise<ShapeError>("nn::init::orthogonal_", "needs at least 2 dimensions, got shape ",
                          (t.defined() ? shape_str(t.shape()) : std::string("undefined")));
    const std::int64_t rows = t.size(0), cols = t.numel() / rows;
    std::vector<double> flat(static_cast<std::size_t>(rows * cols));
    for (auto& v : flat) v = gen.normal();
    // Work on A = flat (rows >= cols) or flat^T, an m x n matrix with m >= n, column access a(i,j).
    const bool transposed = rows < cols;
    const std::int64_t m = transposed ? cols : rows, n = transposed ? rows : cols;
    auto a = [&](std::int64_t i, std::int64_t j) -> double& {
        return transposed ? flat[j * cols + i] : flat[i * cols + j];
    };
    // Modified Gram-Schmidt: Q with R's diagonal positive, which is QR followed by torch's sign
    // correction q *= sign(diag(r)).
    for (std::int64_t j = 0; j < n; ++j) {
        for (std::int64_t k = 0; k < j; ++k) {
            double dot = 0;
            for (std::int64_t i = 0; i < m; ++i) dot += a(i, k) * a(i, j);
            for (std::int64_t i = 0; i < m; ++i) a(i, j) -= dot * a(i, k);
        }
        double norm = 0;
        for (std::int64_t i = 0; i < m; ++i) norm += a(i, j) * a(i, j);
        norm = std::sqrt(norm);
        for (std::int64_t i = 0; i < m; ++i) a(i, j) = norm > 0 ? a(i, j) / norm : 0.0;
    }
    return fill(t, "orthogonal_", [&](std::int64_t i) { return gain * flat[i]; });
}

}  // namespace xgrad::nn::init
