#include <cmath>

#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/nn/layers/linear.hpp>

namespace xgrad::nn {

namespace {
void check_features(const char* layer, std::int64_t in, std::int64_t out) {
    if (in <= 0 || out <= 0)
        raise<ValueError>((std::string("nn::") + layer).c_str(),
                          "feature sizes must be positive, got in=", std::to_string(in),
                          ", out=", std::to_string(out));
}
void check_input(const char* layer, const Tensor& x, std::int64_t in) {
    if (!x.defined()) raise<ValueError>((std::string("nn::") + layer).c_str(), "undefined input");
    if (x.dim() < 1 || x.size(-1) != in)
        raise<ShapeError>((std::string("nn::") + layer).c_str(),
                          "expected input with last dimension ", std::to_string(in),
                          " (in_features), got shape ", shape_str(x.shape()));
}
}  // namespace

Linear::Linear(std::int64_t in, std::int64_t out, bool with_bias)
    : in_features(in), out_features(out) {
    check_features("Linear", in, out);
    // kaiming_uniform_(a = sqrt(5)) as torch.nn.Linear: bound = 1 / sqrt(in_features).
    Tensor w = empty({out, in});
    init::kaiming_uniform_(w, std::sqrt(5.0));
    weight = register_parameter("weight", w);
    if (with_bias) {
        const double bound = 1.0 / std::sqrt(double(in));
        Tensor b = empty({out});
        init::uniform_(b, -bound, bound);
        bias = register_parameter("bias", b);
    }
}

Tensor Linear::forward(const Tensor& x) {
    check_input("Linear", x, in_features);
    // The transpose of W is a BLAS flag, not a copy.
    Tensor y = matmul(x, weight, MatmulOptions{false, true});
    return bias.defined() ? y + bias : y;
}

std::string Linear::extra_repr() const {
    return "in_features=" + std::to_string(in_features) +
           ", out_features=" + std::to_string(out_features) +
           ", bias=" + (bias.defined() ? "true" : "false");
}

Neuron::Neuron(std::int64_t in, Activation activation, std::string activation_name)
    : in_features(in),
      activation_(std::move(activation)),
      activation_name_(std::move(activation_name)) {
    check_features("Neuron", in, 1);
    if (!activation_) raise<ValueError>("nn::Neuron", "the activation is empty");
    const double bound = 1.0 / std::sqrt(double(in));
    Tensor w = empty({1, in}), b = empty({1});
    init::uniform_(w, -bound, bound);
    init::uniform_(b, -bound, bound);
    weight = register_parameter("weight", w);
    bias = register_parameter("bias", b);
}

Tensor Neuron::forward(const Tensor& x) {
    check_input("Neuron", x, in_features);
    return activation_(matmul(x, weight, MatmulOptions{false, true}) + bias);
}

std::string Neuron::extra_repr() const {
    return "in_features=" + std::to_string(in_features) +
           (activation_name_.empty() ? "" : ", activation=" + activation_name_);
}

Tensor Flatten::forward(const Tensor& x) {
    return flatten(x, start_dim, end_dim);
}

std::string Flatten::extra_repr() const {
    return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
}

}  // namespace xgrad::nn
