// Elementwise ops with NumPy broadcasting. Scalars on either side are broadcast too.
#pragma once
#include <optional>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor pow(const Tensor& base, double exponent);
Tensor pow(double base, const Tensor& exponent);
// Elementwise min / max; at ties the gradient is split evenly, as in PyTorch.
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
// cond ? a : b, with cond a bool mask; all three broadcast together.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);  // -1, 0 or 1; its gradient is zero
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
// Limits to [min, max]; either bound may be absent. Gradient passes where min <= x <= max.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max = std::nullopt);
Tensor clamp_min(const Tensor& x, double min);
Tensor clamp_max(const Tensor& x, double max);

// Activation derivatives as ops: PyTorch's *_backward ops (derivatives.yaml). Each is one fused
// kernel and is differentiable itself (its own backward is written in ops), so tanh, sigmoid
// and relu spell their derivative once for first and higher-order gradients. grad and the
// second operand broadcast together and must share a floating dtype.
//
// grad * (1 - y^2), y = tanh(x). Backward: d/dgrad = tanh_backward(gg, y),
// d/dy = -2 * gg * grad * y.
Tensor tanh_backward(const Tensor& grad, const Tensor& y);
// grad * y * (1 - y), y = sigmoid(x). Backward: d/dgrad = sigmoid_backward(gg, y),
// d/dy = gg * grad * (1 - 2y).
Tensor sigmoid_backward(const Tensor& grad, const Tensor& y);
// grad where x > threshold, else 0 (relu's derivative with threshold 0; x may be relu's input
// or its output). Backward: d/dgrad = threshold_backward(gg, x, threshold); d/dx = 0, so the
// result requires grad only through grad (x is not differentiated through).
Tensor threshold_backward(const Tensor& grad, const Tensor& x, double threshold);

// Comparisons give bool masks and are not differentiable.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& mask);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor isnan(const Tensor& x);
Tensor isinf(const Tensor& x);

// Operators. A scalar takes the tensor's dtype (a fractional scalar with an int64 tensor is an
// error rather than a silent truncation).
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, double b);
Tensor operator<=(const Tensor& a, double b);
Tensor operator>(const Tensor& a, double b);
Tensor operator>=(const Tensor& a, double b);

// A 0-d tensor holding `value` in `like`'s dtype (used to broadcast scalars).
Tensor scalar_like(double value, const Tensor& like, const char* op);

}  // namespace xgrad
