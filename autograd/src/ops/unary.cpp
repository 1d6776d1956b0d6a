// Unary math: forward kernel and backward rule side by side. Rules that need the output use
// saved_output(), which stays differentiable for higher-order gradients. The activations'
// derivatives are ops of their own (tanh_backward, sigmoid_backward, threshold_backward).
#include "kernels/elementwise.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {
template <class F>
Tensor floating_unary(const char* op, const Tensor& x, F&& f) {
    check_defined(op, x);
    return kernels::dispatch_floating(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::unary_map<T>(x, f);
    });
}
template <class F>
Tensor numeric_unary(const char* op, const Tensor& x, F&& f) {
    check_defined(op, x);
    return kernels::dispatch_numeric(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::unary_map<T>(x, f);
    });
}
// The same on the run-time dispatched kernels (kernels/simd.hpp).
Tensor floating_kernel(const char* op, const Tensor& x, kernels::simd::Un k) {
    check_defined(op, x);
    return kernels::dispatch_floating(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::unary_kernel<T>(x, k);
    });
}
Tensor numeric_kernel(const char* op, const Tensor& x, kernels::simd::Un k) {
    check_defined(op, x);
    return kernels::dispatch_numeric(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::unary_kernel<T>(x, k);
    });
}
// exp, log, tanh, sigmoid: float32 on the dispatched kernels (their own vectorisable
// implementation), float64 on xtensor/xsimd (f).
template <class F>
Tensor transcendental(const char* op, const Tensor& x, kernels::simd::Un k, F&& f) {
    check_defined(op, x);
    return kernels::dispatch_floating(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_same_v<T, float>)
            return kernels::unary_kernel<T>(x, k);
        else
            return kernels::unary_map<T>(x, f);
    });
}
// g and y through one fused kernel k (the *_backward ops below), with broadcasting.
Tensor fused_binary(const char* op, const Tensor& g, const Tensor& y, kernels::simd::Bin k,
                    double param = 0) {
    check_same_dtype(op, g, y);
    return kernels::dispatch_floating(g.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::binary_kernel<T>(g, y, op, k, static_cast<T>(param));
    });
}
}  // namespace

Tensor neg(const Tensor& x) {
    Tensor out = numeric_kernel("neg", x, kernels::simd::Un::neg);
    if (should_record({&x}))
        record("NegBackward", out, {x}, {},
               [](Node&, const Tensor& g) -> TensorList { return {-g}; });
    return out;
}

Tensor exp(const Tensor& x) {
    Tensor out =
        transcendental("exp", x, kernels::simd::Un::exp, [](auto&& v) { return xt::exp(v); });
    if (should_record({&x}))
        record(
            "ExpBackward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList { return {g * n.saved_output()}; }, true);
    return out;
}

Tensor log(const Tensor& x) {
    Tensor out =
        transcendental("log", x, kernels::simd::Un::log, [](auto&& v) { return xt::log(v); });
    if (should_record({&x}))
        record("LogBackward", out, {x}, {x},
               [](Node& n, const Tensor& g) -> TensorList { return {g / n.saved(0)}; });
    return out;
}

Tensor sqrt(const Tensor& x) {
    Tensor out = floating_kernel("sqrt", x, kernels::simd::Un::sqrt);
    if (should_record({&x}))
        record(
            "SqrtBackward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList { return {g / (n.saved_output() * 2.0)}; },
            true);
    return out;
}

Tensor sign(const Tensor& x) {
    Tensor out = numeric_unary("sign", x, [](auto&& v) { return xt::sign(v); });
    if (should_record({&x}))
        record("SignBackward", out, {x}, {},
               [](Node&, const Tensor& g) -> TensorList { return {g * 0.0}; });
    return out;
}

Tensor abs(const Tensor& x) {
    Tensor out = numeric_kernel("abs", x, kernels::simd::Un::abs);
    if (should_record({&x}))
        record("AbsBackward", out, {x}, {x},
               [](Node& n, const Tensor& g) -> TensorList { return {g * sign(n.saved(0))}; });
    return out;
}

Tensor sin(const Tensor& x) {
    Tensor out = floating_unary("sin", x, [](auto&& v) { return xt::sin(v); });
    if (should_record({&x}))
        record("SinBackward", out, {x}, {x},
               [](Node& n, const Tensor& g) -> TensorList { return {g * cos(n.saved(0))}; });
    return out;
}

Tensor cos(const Tensor& x) {
    Tensor out = floating_unary("cos", x, [](auto&& v) { return xt::cos(v); });
    if (should_record({&x}))
        record("CosBackward", out, {x}, {x},
               [](Node& n, const Tensor& g) -> TensorList { return {-(g * sin(n.saved(0)))}; });
    return out;
}

// tanh, sigmoid and relu each write their derivative once, as a differentiable op with its own
// fused kernel and backward rule (PyTorch's tanh_backward, sigmoid_backward and
// threshold_backward): the usual backward runs the kernel in one pass, and create_graph records
// the same op, so first and higher-order derivatives share one definition.

Tensor tanh(const Tensor& x) {
    Tensor out =
        transcendental("tanh", x, kernels::simd::Un::tanh, [](auto&& v) { return xt::tanh(v); });
    if (should_record({&x}))
        record(
            "TanhBackward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList {
                return {tanh_backward(g, n.saved_output())};
            },
            true);
    return out;
}

Tensor tanh_backward(const Tensor& grad, const Tensor& y) {
    Tensor out = fused_binary("tanh_backward", grad, y, kernels::simd::Bin::tanh_backward);
    if (should_record({&grad, &y}))
        record("TanhBackwardBackward", out, {grad, y}, {grad, y},
               [](Node& n, const Tensor& gg) -> TensorList {
                   const Tensor& g = n.saved(0);
                   const Tensor& y = n.saved(1);
                   return {n.needs_input_grad(0) ? tanh_backward(gg, y) : Tensor(),
                           n.needs_input_grad(1) ? gg * g * y * -2.0 : Tensor()};
               });
    return out;
}

Tensor sigmoid(const Tensor& x) {
    Tensor out = transcendental("sigmoid", x, kernels::simd::Un::sigmoid, [](auto&& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        return T(1) / (T(1) + xt::exp(-v));
    });
    if (should_record({&x}))
        record(
            "SigmoidBackward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList {
                return {sigmoid_backward(g, n.saved_output())};
            },
            true);
    return out;
}

Tensor sigmoid_backward(const Tensor& grad, const Tensor& y) {
    Tensor out = fused_binary("sigmoid_backward", grad, y, kernels::simd::Bin::sigmoid_backward);
    if (should_record({&grad, &y}))
        record("SigmoidBackwardBackward", out, {grad, y}, {grad, y},
               [](Node& n, const Tensor& gg) -> TensorList {
                   const Tensor& g = n.saved(0);
                   const Tensor& y = n.saved(1);
                   return {n.needs_input_grad(0) ? sigmoid_backward(gg, y) : Tensor(),
                           n.needs_input_grad(1) ? gg * g * (1.0 - y * 2.0) : Tensor()};
               });
    return out;
}

Tensor relu(const Tensor& x) {
    Tensor out = numeric_kernel("relu", x, kernels::simd::Un::relu);
    if (should_record({&x}))
        // The output is positive exactly where the input is: its mask is relu's derivative.
        record(
            "ReluBackward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList {
                return {threshold_backward(g, n.saved_output(), 0.0)};
            },
            true);
    return out;
}

Tensor threshold_backward(const Tensor& grad, const Tensor& x, double threshold) {
    const char* op = "threshold_backward";
    check_same_dtype(op, grad, x);
    Tensor out = fused_binary(op, grad, x, kernels::simd::Bin::threshold_backward, threshold);
    if (should_record({&grad}))
        // Linear in grad. The mask is piecewise constant in x, whose gradient is zero: x is no
        // input of the graph (as relu's composed rule g * (y > 0) had it), so that a zero
        // gradient never flows back through the network that made x.
        record("ThresholdBackwardBackward", out, {grad}, {x},
               [threshold](Node& n, const Tensor& gg) -> TensorList {
                   return {threshold_backward(gg, n.saved(0), threshold)};
               });
    return out;
}

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
    check_defined("clamp", x);
    if (lo && hi && *lo > *hi)
        raise<ValueError>("clamp", "min (", std::to_string(*lo), ") is above max (",
                          std::to_string(*hi), ")");
    Tensor out = kernels::dispatch_numeric(x.dtype(), "clamp", [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T l = lo ? static_cast<T>(*lo) : std::numeric_limits<T>::lowest();
        const T h = hi ? static_cast<T>(*hi) : std::numeric_limits<T>::max();
        return kernels::unary_kernel<T>(x, kernels::simd::Un::clamp, l, h);
    });
    if (should_record({&x}))
        record("ClampBackward", out, {x}, {x}, [lo, hi](Node& n, const Tensor& g) -> TensorList {
            const Tensor& x = n.saved(0);
            Tensor pass = ones_like(x, TensorOptions{Dtype::b8});
            if (lo) pass = logical_and(pass, x >= *lo);
            if (hi) pass = logical_and(pass, x <= *hi);
            return {g * mask_as(pass, g)};
        });
    return out;
}

Tensor Tensor::neg() const {
    return xgrad::neg(*this);
}
Tensor Tensor::exp() const {
    return xgrad::exp(*this);
}
Tensor Tensor::log() const {
    return xgrad::log(*this);
}
Tensor Tensor::sqrt() const {
    return xgrad::sqrt(*this);
}
Tensor Tensor::abs() const {
    return xgrad::abs(*this);
}
Tensor Tensor::sin() const {
    return xgrad::sin(*this);
}
Tensor Tensor::cos() const {
    return xgrad::cos(*this);
}
Tensor Tensor::tanh() const {
    return xgrad::tanh(*this);
}
Tensor Tensor::sigmoid() const {
    return xgrad::sigmoid(*this);
}
Tensor Tensor::relu() const {
    return xgrad::relu(*this);
}
Tensor Tensor::clamp(std::optional<double> lo, std::optional<double> hi) const {
    return xgrad::clamp(*this, lo, hi);
}

Tensor clamp_min(const Tensor& x, double min) {
    return clamp(x, min, std::nullopt);
}
Tensor clamp_max(const Tensor& x, double max) {
    return clamp(x, std::nullopt, max);
}
Tensor Tensor::clamp_min(double min) const {
    return xgrad::clamp_min(*this, min);
}
Tensor Tensor::clamp_max(double max) const {
    return xgrad::clamp_max(*this, max);
}

}  // namespace xgrad
