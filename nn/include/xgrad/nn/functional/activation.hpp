// Activation functions, composed from differentiable ops: their gradients (and second
// derivatives) come from the tape. Names and defaults follow torch.nn.functional.
//
//   namespace F = xgrad::nn::functional;
//   Tensor h = F::gelu(x, "tanh");
//   Tensor p = F::softmax(logits, 1);
//
// At a kink the gradient is PyTorch's: relu'(0) = 0, leaky_relu'(0) = negative_slope,
// elu'(0) = alpha, hardtanh' = 0 at min_val and max_val.
#pragma once
#include <cstdint>
#include <string>

#include <xgrad/core/tensor.hpp>

namespace xgrad::nn::functional {

// x itself (the same handle).
Tensor identity(const Tensor& x);
// 1 / (1 + exp(-x)), tanh(x) and max(x, 0): the ops of the same names.
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor relu(const Tensor& x);
// x for x > 0, negative_slope * x otherwise.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// x for x > 0, alpha * (exp(x) - 1) otherwise.
Tensor elu(const Tensor& x, double alpha = 1.0);
// scale * elu(x, alpha) with the self-normalising constants alpha = 1.6732632423543772,
// scale = 1.0507009873554805.
Tensor selu(const Tensor& x);
// x * Phi(x). approximate = "none": Phi(x) = (1 + erf(x / sqrt 2)) / 2 (exact);
// "tanh": Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2. Anything else: ValueError.
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
// x * sigmoid(x); swish is the same function.
Tensor silu(const Tensor& x);
Tensor swish(const Tensor& x);
// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold. beta must not be 0.
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
// x * tanh(softplus(x)).
Tensor mish(const Tensor& x);
// x clamped to [min_val, max_val] (min_val <= max_val, else ValueError).
Tensor hardtanh(const Tensor& x, double min_val = -1.0, double max_val = 1.0);
// exp(x) / sum(exp(x)) along dim, computed as exp(log_softmax(x, dim)).
Tensor softmax(const Tensor& x, std::int64_t dim);
// x - logsumexp(x, dim): never overflows, exact for logits of any size.
Tensor log_softmax(const Tensor& x, std::int64_t dim);

}  // namespace xgrad::nn::functional
