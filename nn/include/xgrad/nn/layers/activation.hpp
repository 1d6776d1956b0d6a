// Activation modules: the functions of nn/functional/activation.hpp as layers, for Sequential.
// They have no parameters; their settings are public fields and show when printed, as in
// PyTorch: LeakyReLU(negative_slope=0.01), GELU(approximate='tanh'), Softmax(dim=1).
#pragma once
#include <cstdint>
#include <string>

#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

class ReLU : public Module {
  public:
    Tensor forward(const Tensor& input) override;
};

class Sigmoid : public Module {
  public:
    Tensor forward(const Tensor& input) override;
};

class Tanh : public Module {
  public:
    Tensor forward(const Tensor& input) override;
};

class LeakyReLU : public Module {
  public:
    explicit LeakyReLU(double negative_slope = 0.01) : negative_slope(negative_slope) {}
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    double negative_slope;
};

class ELU : public Module {
  public:
    explicit ELU(double alpha = 1.0) : alpha(alpha) {}
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    double alpha;
};

class SELU : public Module {
  public:
    Tensor forward(const Tensor& input) override;
};

// approximate: "none" (exact, erf) or "tanh"; anything else is a ValueError at construction.
class GELU : public Module {
  public:
    explicit GELU(std::string approximate = "none");
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    std::string approximate;
};

// x * sigmoid(x), also known as swish.
class SiLU : public Module {
  public:
    Tensor forward(const Tensor& input) override;
};
using Swish = SiLU;

// beta must be non-zero (ValueError at construction).
class Softplus : public Module {
  public:
    explicit Softplus(double beta = 1.0, double threshold = 20.0);
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    double beta, threshold;
};

class Mish : public Module {
  public:
    Tensor forward(const Tensor& input) override;
};

// min_val <= max_val (ValueError at construction).
class Hardtanh : public Module {
  public:
    explicit Hardtanh(double min_val = -1.0, double max_val = 1.0);
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    double min_val, max_val;
};

class Softmax : public Module {
  public:
    explicit Softmax(std::int64_t dim) : dim(dim) {}
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    std::int64_t dim;
};

class LogSoftmax : public Module {
  public:
    explicit LogSoftmax(std::int64_t dim) : dim(dim) {}
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    std::int64_t dim;
};

}  // namespace xgrad::nn
