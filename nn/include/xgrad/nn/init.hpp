// Parameter initialisation, in place, as torch.nn.init. Each draws from the given generator
// (the default one, seeded by manual_seed, when none is given), so runs are reproducible.
#pragma once
#include <string>

#include <xgrad/core/random.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::nn::init {

enum class FanMode { fan_in, fan_out };

// Recommended gain for a nonlinearity: "linear", "conv2d", "sigmoid", "tanh", "relu",
// "leaky_relu" (with `param` as the negative slope), "selu".
double calculate_gain(const std::string& nonlinearity, double param = 0.01);
// (fan_in, fan_out) of a weight: [out, in] for a matrix, [out, in, k...] for a convolution.
std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

Tensor& uniform_(Tensor& t, double a = 0.0, double b = 1.0, Generator& gen = default_generator());
Tensor& normal_(Tensor& t, double mean = 0.0, double std = 1.0,
                Generator& gen = default_generator());
Tensor& constant_(Tensor& t, double value);
Tensor& zeros_(Tensor& t);
Tensor& ones_(Tensor& t);
Tensor& xavier_uniform_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());
Tensor& xavier_normal_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());
// He initialisation; `a` is the negative slope of the rectifier after this layer.
Tensor& kaiming_uniform_(Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                         const std::string& nonlinearity = "leaky_relu",
                         Generator& gen = default_generator());
Tensor& kaiming_normal_(Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                        const std::string& nonlinearity = "leaky_relu",
                        Generator& gen = default_generator());
// A (semi-)orthogonal matrix from the QR decomposition of a normal one (torch's algorithm);
// tensors of more than 2 dims are flattened to [size(0), rest].
Tensor& orthogonal_(Tensor& t, double gain = 1.0, Generator& gen = default_generator());

}  // namespace xgrad::nn::init
