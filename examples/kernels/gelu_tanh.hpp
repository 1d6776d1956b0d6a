// GELU with the tanh approximation (the GPT-2 / BERT activation, torch's
// gelu(approximate="tanh")) written two ways, for examples/custom_kernel.cpp and
// bench/bench_custom_kernel.cpp:
//
//   gelu(x) = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//   gelu'(x) = (1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2),  t = tanh(u)
//
// - gelu_composed: tensor ops. The tape records each one: backward comes for free, but the
//   forward makes about 8 passes over memory and the backward about twice as many.
// - GeluTanh: an autograd::Function whose forward is two xtensor expressions (t = tanh(u), kept
//   for backward, and y) and whose backward is one, over zero-copy views (<xgrad/xtensor.hpp>).
//   Its backward is not itself differentiable (no double backward), the price of a hand-written
//   kernel.
//
// Needs C++17 for xtensor 0.24.3 (see <xgrad/xtensor.hpp>).
#pragma once
#include <cmath>
#include <utility>

#include <xtensor/xmath.hpp>

#include <xgrad/xgrad.hpp>
#include <xgrad/xtensor.hpp>

namespace gelu {

inline constexpr double kCubic = 0.044715;
inline const double kScale = std::sqrt(2.0 / M_PI);

inline xgrad::Tensor gelu_composed(const xgrad::Tensor& x) {
    const xgrad::Tensor t = xgrad::tanh((x + x * x * x * kCubic) * kScale);
    return x * 0.5 * (t + 1.0);
}

// t = tanh(u) and y = gelu(x) = x/2 (1 + t), then gx = g * gelu'(x) from x and the saved t (no
// second tanh), each an xtensor expression evaluated straight into a tensor's memory, for
// T = float or double.
template <class T>
void forward_kernel(const xgrad::Tensor& x, xgrad::Tensor& t, xgrad::Tensor& y) {
    auto xv = xgrad::as_xtensor<T>(x);
    auto tv = xgrad::as_xtensor<T>(t);
    auto yv = xgrad::as_xtensor<T>(y);
    const T c = T(kCubic), s = T(kScale);
    tv = xt::tanh(s * (xv + c * xv * xv * xv));
    yv = T(0.5) * xv * (T(1) + tv);
}

template <class T>
void backward_kernel(const xgrad::Tensor& x, const xgrad::Tensor& t, const xgrad::Tensor& g,
                     xgrad::Tensor& gx) {
    auto xv = xgrad::as_xtensor<T>(x);
    auto tv = xgrad::as_xtensor<T>(t);
    auto gv = xgrad::as_xtensor<T>(g);
    auto out = xgrad::as_xtensor<T>(gx);
    const T c = T(kCubic), s = T(kScale);
    out = gv *
          (T(0.5) * (T(1) + tv) + T(0.5) * xv * (T(1) - tv * tv) * s * (T(1) + T(3) * c * xv * xv));
}

struct GeluTanh : xgrad::autograd::Function<GeluTanh> {
    static xgrad::Tensor forward(xgrad::autograd::AutogradContext* ctx, const xgrad::Tensor& x) {
        xgrad::Tensor t = xgrad::empty_like(x), y = xgrad::empty_like(x);
        if (x.dtype() == xgrad::kFloat64)
            forward_kernel<double>(x, t, y);
        else
            forward_kernel<float>(x, t, y);  // throws DtypeError for integer tensors
        ctx->save_for_backward({x, t});      // t spares the backward a tanh per value
        return y;
    }
    static xgrad::TensorList backward(xgrad::autograd::AutogradContext* ctx,
                                      const xgrad::TensorList& grads) {
        const xgrad::TensorList saved = ctx->get_saved_variables();
        const xgrad::Tensor& x = saved[0];
        // Read element by element against x: the gradient must have x's shape.
        const xgrad::Tensor g =
            grads[0].shape() == x.shape() ? grads[0] : grads[0].expand(x.shape());
        xgrad::Tensor gx = xgrad::empty_like(x);
        if (x.dtype() == xgrad::kFloat64)
            backward_kernel<double>(x, saved[1], g, gx);
        else
            backward_kernel<float>(x, saved[1], g, gx);
        return {gx};
    }
};

inline xgrad::Tensor gelu_fused(const xgrad::Tensor& x) {
    return GeluTanh::apply(x);
}

}  // namespace gelu
