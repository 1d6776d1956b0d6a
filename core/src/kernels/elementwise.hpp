// Elementwise kernels on xtensor (xsimd-vectorised). Same-shape and scalar operands take a flat
// 1-D path; everything else goes through xtensor's NumPy broadcasting.
#pragma once
#include <type_traits>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>

#include "kernels/dispatch.hpp"
#include "kernels/xadapt.hpp"

namespace xgrad::kernels {

// The element type of an xtensor expression, or the type itself for a scalar operand, so one
// generic lambda serves the array and the scalar paths of binary_map.
template <class E, class = void>
struct value_of {
    using type = std::decay_t<E>;
};
template <class E>
struct value_of<E, std::void_t<typename std::decay_t<E>::value_type>> {
    using type = typename std::decay_t<E>::value_type;
};
template <class E>
using value_t = typename value_of<E>::type;

// out = f(a, b) with broadcasting; a and b hold T, out holds Out. `f` takes two xtensor
// expressions (or an expression and a scalar) and returns an expression.
template <class T, class Out, class F>
Tensor binary_map(const Tensor& a, const Tensor& b, const char* op, F&& f) {
    const Shape& sa = a.shape();
    const Shape& sb = b.shape();
    if (sa == sb) {
        Tensor out = make_tensor(sa, dtype_of<Out>::value);
        auto o = flat<Out>(out);
        xt::noalias(o) = f(flat<T>(a), flat<T>(b));
        return out;
    }
    if (b.numel() == 1 && sb.size() <= sa.size()) {
        Tensor out = make_tensor(sa, dtype_of<Out>::value);
        auto o = flat<Out>(out);
        xt::noalias(o) = f(flat<T>(a), *data_of<T>(b));
        return out;
    }
    if (a.numel() == 1 && sa.size() <= sb.size()) {
        Tensor out = make_tensor(sb, dtype_of<Out>::value);
        auto o = flat<Out>(out);
        xt::noalias(o) = f(*data_of<T>(a), flat<T>(b));
        return out;
    }
    Tensor out = make_tensor(broadcast_shapes(sa, sb, op), dtype_of<Out>::value);
    auto o = nd<Out>(out);
    xt::noalias(o) = f(nd<T>(a), nd<T>(b));
    return out;
}

// out = f(x), same shape and dtype.
template <class T, class F>
Tensor unary_map(const Tensor& x, F&& f) {
    Tensor out = make_tensor(x.shape(), x.dtype());
    auto o = flat<T>(out);
    xt::noalias(o) = f(flat<T>(x));
    return out;
}

}  // namespace xgrad::kernels
