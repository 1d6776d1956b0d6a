// + - * / pow minimum maximum: forward kernel, broadcasting and backward rule side by side.
// Backward rules return gradients in the broadcast shape; the engine sums them back to each
// input's shape.
#include <cmath>

#include "kernels/elementwise.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

Tensor scalar_like(double value, const Tensor& like, const char* op) {
    check_defined(op, like);
    if (like.dtype() == Dtype::i64 && value != std::floor(value))
        raise<DtypeError>(op, "the scalar ", std::to_string(value),
                          " is not an integer but the tensor is ", describe(like),
                          "; convert the tensor with .to(kFloat32) first");
    Tensor s = make_tensor({}, like.dtype());
    kernels::dispatch_all(like.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        *static_cast<T*>(s.impl()->data()) = static_cast<T>(value);
    });
    return s;
}

namespace {
// Arithmetic on the run-time dispatched kernels (kernels/simd.hpp).
Tensor numeric_binary(const char* op, const Tensor& a, const Tensor& b, kernels::simd::Bin k) {
    check_same_dtype(op, a, b);
    return kernels::dispatch_numeric(a.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::binary_kernel<T>(a, b, op, k);
    });
}
Tensor floating_binary(const char* op, const Tensor& a, const Tensor& b, kernels::simd::Bin k) {
    check_same_dtype(op, a, b);
    return kernels::dispatch_floating(a.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::binary_kernel<T>(a, b, op, k);
    });
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
    Tensor out = numeric_binary("add", a, b, kernels::simd::Bin::add);
    if (should_record({&a, &b}))
        record("AddBackward", out, {a, b}, {}, [](Node&, const Tensor& g) -> TensorList {
            return {g, g};
        });
    return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
    Tensor out = numeric_binary("sub", a, b, kernels::simd::Bin::sub);
    if (should_record({&a, &b}))
        record("SubBackward", out, {a, b}, {}, [](Node& n, const Tensor& g) -> TensorList {
            return {g, n.needs_input_grad(1) ? -g : Tensor()};
        });
    return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
    Tensor out = numeric_binary("mul", a, b, kernels::simd::Bin::mul);
    if (should_record({&a, &b}))
        record("MulBackward", out, {a, b}, {a, b}, [](Node& n, const Tensor& g) -> TensorList {
            return {n.needs_input_grad(0) ? g * n.saved(1) : Tensor(),
                    n.needs_input_grad(1) ? g * n.saved(0) : Tensor()};
        });
    return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
    // Integer division would truncate silently: division is for floating tensors.
    Tensor out = floating_binary("div", a, b, kernels::simd::Bin::div);
    if (should_record({&a, &b}))
        record("DivBackward", out, {a, b}, {a, b}, [](Node& n, const Tensor& g) -> TensorList {
            const Tensor& b = n.saved(1);
            return {n.needs_input_grad(0) ? g / b : Tensor(),
                    n.needs_input_grad(1) ? -(g * n.saved(0)) / (b * b) : Tensor()};
        });
    return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
    check_same_dtype("pow", a, b);
    Tensor out = kernels::dispatch_floating(a.dtype(), "pow", [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::binary_map<T, T>(a, b, "pow",
                                         [](auto&& x, auto&& y) { return xt::pow(x, y); });
    });
    if (should_record({&a, &b}))
        record("PowBackward", out, {a, b}, {a, b}, [](Node& n, const Tensor& g) -> TensorList {
            const Tensor& a = n.saved(0);
            const Tensor& b = n.saved(1);
            Tensor ga, gb;
            if (n.needs_input_grad(0)) ga = g * b * pow(a, b - 1.0);
            if (n.needs_input_grad(1)) {
                // d/db a^b = a^b log a; taken as 0 where a == 0 and b >= 0 (as PyTorch).
                Tensor zero_base =
                    logical_and(eq(a, scalar_like(0, a, "pow")), ge(b, scalar_like(0, b, "pow")));
                Tensor y = pow(a, b);
                gb = g * where(zero_base, scalar_like(0, g, "pow"), y * log(a));
            }
            return {ga, gb};
        });
    return out;
}

Tensor pow(const Tensor& a, double p) {
    check_defined("pow", a);
    Tensor out = kernels::dispatch_floating(a.dtype(), "pow", [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T e = static_cast<T>(p);
        if (p == 2.0) return kernels::unary_kernel<T>(a, kernels::simd::Un::square);
        return kernels::unary_map<T>(a, [e](auto&& x) { return xt::pow(x, e); });
    });
    if (should_record({&a}))
        record("PowBackward", out, {a}, {a}, [p](Node& n, const Tensor& g) -> TensorList {
            if (p == 0.0) return {g * 0.0};
            if (p == 1.0) return {g};
            if (p == 2.0) return {g * n.saved(0) * 2.0};
            return {g * p * pow(n.saved(0), p - 1.0)};
        });
    return out;
}

Tensor pow(double base, const Tensor& b) {
    check_defined("pow", b);
    return pow(scalar_like(base, b, "pow"), b);
}

Tensor minimum(const Tensor& a, const Tensor& b) {
    Tensor out = numeric_binary("minimum", a, b, kernels::simd::Bin::minimum);
    if (should_record({&a, &b}))
        record("MinimumBackward", out, {a, b}, {a, b}, [](Node& n, const Tensor& g) -> TensorList {
            const Tensor& a = n.saved(0);
            const Tensor& b = n.saved(1);
            Tensor wa = mask_as(lt(a, b), g) + mask_as(eq(a, b), g) * 0.5;
            return {n.needs_input_grad(0) ? g * wa : Tensor(),
                    n.needs_input_grad(1) ? g * (1.0 - wa) : Tensor()};
        });
    return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
    Tensor out = numeric_binary("maximum", a, b, kernels::simd::Bin::maximum);
    if (should_record({&a, &b}))
        record("MaximumBackward", out, {a, b}, {a, b}, [](Node& n, const Tensor& g) -> TensorList {
            const Tensor& a = n.saved(0);
            const Tensor& b = n.saved(1);
            Tensor wa = mask_as(gt(a, b), g) + mask_as(eq(a, b), g) * 0.5;
            return {n.needs_input_grad(0) ? g * wa : Tensor(),
                    n.needs_input_grad(1) ? g * (1.0 - wa) : Tensor()};
        });
    return out;
}

Tensor operator+(const Tensor& a, const Tensor& b) {
    return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
    return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
    return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
    return div(a, b);
}
Tensor operator-(const Tensor& x) {
    return neg(x);
}
// Tensor-scalar ops get their own kernels and nodes: no 0-d tensor, no broadcasting logic,
// which matters for chains of small ops.
namespace {
Tensor scalar_map(const char* op, const Tensor& a, double s, bool floating_only,
                  kernels::simd::Bin k, bool scalar_first) {
    scalar_like(s, a, op);  // validates the scalar against the dtype
    auto run = [&](auto tag) {
        using T = typename decltype(tag)::type;
        return kernels::scalar_kernel<T>(a, static_cast<T>(s), k, scalar_first);
    };
    return floating_only ? kernels::dispatch_floating(a.dtype(), op, run)
                         : kernels::dispatch_numeric(a.dtype(), op, run);
}
}  // namespace

Tensor operator+(const Tensor& a, double s) {
    Tensor out = scalar_map("add", a, s, false, kernels::simd::Bin::add, false);
    if (should_record({&a}))
        record("AddBackward", out, {a}, {},
               [](Node&, const Tensor& g) -> TensorList { return {g}; });
    return out;
}
Tensor operator-(const Tensor& a, double s) {
    return a + (-s);
}
Tensor operator*(const Tensor& a, double s) {
    Tensor out = scalar_map("mul", a, s, false, kernels::simd::Bin::mul, false);
    if (should_record({&a}))
        record("MulBackward", out, {a}, {},
               [s](Node&, const Tensor& g) -> TensorList { return {g * s}; });
    return out;
}
Tensor operator/(const Tensor& a, double s) {
    Tensor out = scalar_map("div", a, s, true, kernels::simd::Bin::div, false);
    if (should_record({&a}))
        record("DivBackward", out, {a}, {},
               [s](Node&, const Tensor& g) -> TensorList { return {g / s}; });
    return out;
}
Tensor operator+(double s, const Tensor& b) {
    return b + s;
}
Tensor operator-(double s, const Tensor& b) {
    Tensor out = scalar_map("sub", b, s, false, kernels::simd::Bin::sub, true);
    if (should_record({&b}))
        record("SubBackward", out, {b}, {},
               [](Node&, const Tensor& g) -> TensorList { return {-g}; });
    return out;
}
Tensor operator*(double s, const Tensor& b) {
    return b * s;
}
Tensor operator/(double s, const Tensor& b) {
    Tensor out = scalar_map("div", b, s, true, kernels::simd::Bin::div, true);
    if (should_record({&b}))
        record("DivBackward", out, {b}, {b}, [s](Node& n, const Tensor& g) -> TensorList {
            const Tensor& x = n.saved(0);
            return {-(g * s) / (x * x)};
        });
    return out;
}

Tensor Tensor::pow(double e) const {
    return xgrad::pow(*this, e);
}
Tensor Tensor::pow(const Tensor& e) const {
    return xgrad::pow(*this, e);
}

// Method forms (torch.Tensor.add(other, alpha=1) ...).
Tensor Tensor::add(const Tensor& o, double alpha) const {
    return xgrad::add(*this, alpha == 1.0 ? o : o * alpha);
}
Tensor Tensor::add(double o) const {
    return *this + o;
}
Tensor Tensor::sub(const Tensor& o, double alpha) const {
    return xgrad::sub(*this, alpha == 1.0 ? o : o * alpha);
}
Tensor Tensor::sub(double o) const {
    return *this - o;
}
Tensor Tensor::mul(const Tensor& o) const {
    return xgrad::mul(*this, o);
}
Tensor Tensor::mul(double o) const {
    return *this * o;
}
Tensor Tensor::div(const Tensor& o) const {
    return xgrad::div(*this, o);
}
Tensor Tensor::div(double o) const {
    return *this / o;
}

}  // namespace xgrad
