// Unary math: forward kernel and backward rule side by side. Rules that need the output use
// saved_output(), which stays differentiable for higher-order gradients.
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
// The backward of an activation from its output in one pass, for the usual (not
// create_graph) backward; the composed form is used when the backward itself is recorded.
template <class F>
Tensor fused_backward(const char* op, const Tensor& g, const Tensor& y, F&& f) {
    return kernels::dispatch_floating(g.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::binary_map<T, T>(g, y, op, f);
    });
}
}  // namespace

Tensor neg(const Tensor& x) {
    Tensor out = numeric_unary("neg", x, [](auto&& v) { return -v; });
    if (should_record({&x}))
        record("NegBackward", out, {x}, {},
               [](Node&, const Tensor& g) -> TensorList { return {-g}; });
    return out;
}

Tensor exp(const Tensor& x) {
    Tensor out = floating_unary("exp", x, [](auto&& v) { return xt::exp(v); });
    if (should_record({&x}))
        record(
            "ExpBackward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList { return {g * n.saved_output()}; }, true);
    return out;
}

Tensor log(const Tensor& x) {
    Tensor out = floating_unary("log", x, [](auto&& v) { return xt::log(v); });
    if (should_record({&x}))
        record("LogBackward", out, {x}, {x},
               [](Node& n, const Tensor& g) -> TensorList { return {g / n.saved(0)}; });
    return out;
}

Tensor sqrt(const Tensor& x) {
    Tensor out = floating_unary("sqrt", x, [](auto&& v) { return xt::sqrt(v); });
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
    Tensor out = numeric_unary("abs", x, [](auto&& v) { return xt::abs(v); });
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

Tensor tanh(const Tensor& x) {
    Tensor out = floating_unary("tanh", x, [](auto&& v) { return xt::tanh(v); });
    if (should_record({&x}))
        record(
            "TanhBackward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList {
                Tensor y = n.saved_output();
                if (!GradMode::is_enabled())  // not recording: one fused pass
                    return {fused_backward("tanh", g, y, [](auto&& g, auto&& y) {
                        using T = kernels::value_t<decltype(g)>;
                        return g * (T(1) - y * y);
                    })};
                return {g * (1.0 - y * y)};
            },
            true);
    return out;
}

Tensor sigmoid(const Tensor& x) {
    Tensor out = floating_unary("sigmoid", x, [](auto&& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        return T(1) / (T(1) + xt::exp(-v));
    });
    if (should_record({&x}))
        record(
            "SigmoidBackward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList {
                Tensor y = n.saved_output();
                if (!GradMode::is_enabled())
                    return {fused_backward("sigmoid", g, y, [](auto&& g, auto&& y) {
                        using T = kernels::value_t<decltype(g)>;
                        return g * y * (T(1) - y);
                    })};
                return {g * y * (1.0 - y)};
            },
            true);
    return out;
}

Tensor relu(const Tensor& x) {
    Tensor out = numeric_unary("relu", x, [](auto&& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        return xt::maximum(v, T(0));
    });
    if (should_record({&x}))
        record(
            "ReluBackward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList {
                Tensor y = n.saved_output();
                if (!GradMode::is_enabled())
                    return {fused_backward("relu", g, y, [](auto&& g, auto&& y) {
                        using T = kernels::value_t<decltype(g)>;
                        return xt::where(y > T(0), g, T(0));
                    })};
                return {g * mask_as(y > 0.0, g)};
            },
            true);
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
        return kernels::unary_map<T>(x, [l, h](auto&& v) { return xt::clip(v, l, h); });
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

}  // namespace xgrad
