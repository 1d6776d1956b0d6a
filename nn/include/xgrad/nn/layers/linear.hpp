// Fully connected layers and the seed article's neuron.
#pragma once
#include <functional>

#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

// y = x W^T + b, over the last dimension of x. Weight [out, in], bias [out]; initialised as in
// PyTorch: U(-1/sqrt(in), 1/sqrt(in)) for both.
class Linear : public Module {
  public:
    Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true);
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    std::int64_t in_features, out_features;
    Tensor weight, bias;  // bias undefined when disabled
};

// One neuron: a weighted sum of its inputs plus a bias, passed through an activation.
// Input [N, in_features] -> output [N, 1].
class Neuron : public Module {
  public:
    using Activation = std::function<Tensor(const Tensor&)>;
    Neuron(std::int64_t in_features, Activation activation, std::string activation_name = "");
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    std::int64_t in_features;
    Tensor weight, bias;  // weight [1, in_features], bias [1]

  private:
    Activation activation_;
    std::string activation_name_;
};

class Identity : public Module {
  public:
    Tensor forward(const Tensor& input) override { return input; }
};

// Flattens dims start_dim..end_dim (by default all but the batch dim), without copying.
class Flatten : public Module {
  public:
    explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1)
        : start_dim(start_dim), end_dim(end_dim) {}
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    std::int64_t start_dim, end_dim;
};

}  // namespace xgrad::nn
