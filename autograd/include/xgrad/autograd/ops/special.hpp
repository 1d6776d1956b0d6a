// Special functions: erf (for the exact GELU) and the precise log1p / expm1 (for softplus, ELU
// and the stable costs). Each is a differentiable op whose backward is written in ops, so
// higher-order gradients work.
#pragma once
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// The error function, 2/sqrt(pi) * integral_0^x exp(-t^2) dt; d/dx = 2/sqrt(pi) * exp(-x^2).
Tensor erf(const Tensor& x);
// log(1 + x), accurate for small |x|; d/dx = 1 / (1 + x).
Tensor log1p(const Tensor& x);
// exp(x) - 1, accurate for small |x|; d/dx = exp(x).
Tensor expm1(const Tensor& x);

}  // namespace xgrad
