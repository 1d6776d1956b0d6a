// Elementwise kernels on xtensor (xsimd-vectorised). Same-shape and scalar operands take a flat
// 1-D path; everything else goes through xtensor's NumPy broadcasting.
#pragma once
#include <algorithm>
#include <array>
#include <type_traits>
#include <vector>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>

#include "kernels/broadcast_loop.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/parallel.hpp"
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

// General broadcasting, done as runs over the innermost (coalesced) dimension: within a run each
// operand is either contiguous or one repeated value, so every run is a flat, vectorised
// xtensor expression. (xtensor's own N-d broadcasting steps element by element: 20-50x slower
// for e.g. [64, 32, 32, 32] * [1, 32, 1, 1].)
template <class T, class Out, class F>
void broadcast_runs(const Tensor& a, const Tensor& b, Tensor& out, F&& f) {
    const Shape& shape = out.shape();
    const auto sa = broadcast_strides(a.shape(), shape);
    const auto sb = broadcast_strides(b.shape(), shape);
    // Merge adjacent dims (from the inside out) where both operands' strides allow it; drop
    // size-1 dims. Result: dims[k], stride_a[k], stride_b[k], outermost first.
    std::vector<std::int64_t> dims, ca, cb;
    for (std::size_t d = shape.size(); d-- > 0;) {
        if (shape[d] == 1) continue;
        if (!dims.empty() && sa[d] == ca.back() * dims.back() && sb[d] == cb.back() * dims.back()) {
            dims.back() *= shape[d];
        } else {
            dims.push_back(shape[d]);
            ca.push_back(sa[d]);
            cb.push_back(sb[d]);
        }
    }
    std::reverse(dims.begin(), dims.end());
    std::reverse(ca.begin(), ca.end());
    std::reverse(cb.begin(), cb.end());
    if (dims.empty()) {  // every dim has size 1
        dims = {1};
        ca = {1};
        cb = {1};
    }
    const std::size_t k = dims.size();
    const std::size_t n = static_cast<std::size_t>(dims[k - 1]);
    const bool a_run = ca[k - 1] != 0, b_run = cb[k - 1] != 0;
    const T* pa = data_of<T>(a);
    const T* pb = data_of<T>(b);
    Out* po = data_of<Out>(out);
    const std::array<std::size_t, 1> run_shape{n};
    std::vector<std::int64_t> idx(k, 0);
    std::int64_t off_a = 0, off_b = 0;
    const std::int64_t total = out.numel();
    for (std::int64_t off_o = 0; off_o < total; off_o += dims[k - 1]) {
        auto o = xt::adapt(po + off_o, n, xt::no_ownership(), run_shape);
        if (a_run && b_run)
            xt::noalias(o) = f(xt::adapt(pa + off_a, n, xt::no_ownership(), run_shape),
                               xt::adapt(pb + off_b, n, xt::no_ownership(), run_shape));
        else if (a_run)
            xt::noalias(o) = f(xt::adapt(pa + off_a, n, xt::no_ownership(), run_shape), pb[off_b]);
        else
            xt::noalias(o) = f(pa[off_a], xt::adapt(pb + off_b, n, xt::no_ownership(), run_shape));
        for (std::size_t d = k - 1; d-- > 0;) {  // odometer over the outer dims
            ++idx[d];
            off_a += ca[d];
            off_b += cb[d];
            if (idx[d] < dims[d]) break;
            off_a -= ca[d] * dims[d];
            off_b -= cb[d] * dims[d];
            idx[d] = 0;
        }
    }
}

// Elements [lo, hi) of the tensor as a 1-D xtensor.
template <class T>
auto flat_range(const Tensor& t, std::int64_t lo, std::int64_t hi) {
    const auto n = static_cast<std::size_t>(hi - lo);
    return xt::adapt(data_of<T>(t) + lo, n, xt::no_ownership(), std::array<std::size_t, 1>{n});
}

// out = f(a, b) with broadcasting; a and b hold T, out holds Out. `f` takes two xtensor
// expressions (or an expression and a scalar) and returns an expression. The flat paths run in
// parallel chunks on large tensors (kernels/parallel.hpp).
template <class T, class Out, class F>
Tensor binary_map(const Tensor& a, const Tensor& b, const char* op, F&& f) {
    const Shape& sa = a.shape();
    const Shape& sb = b.shape();
    if (sa == sb) {
        Tensor out = make_tensor(sa, dtype_of<Out>::value);
        parallel_for(out.numel(), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
            auto o = flat_range<Out>(out, lo, hi);
            xt::noalias(o) = f(flat_range<T>(a, lo, hi), flat_range<T>(b, lo, hi));
        });
        return out;
    }
    if (b.numel() == 1 && sb.size() <= sa.size()) {
        Tensor out = make_tensor(sa, dtype_of<Out>::value);
        const T bv = *data_of<T>(b);
        parallel_for(out.numel(), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
            auto o = flat_range<Out>(out, lo, hi);
            xt::noalias(o) = f(flat_range<T>(a, lo, hi), bv);
        });
        return out;
    }
    if (a.numel() == 1 && sa.size() <= sb.size()) {
        Tensor out = make_tensor(sb, dtype_of<Out>::value);
        const T av = *data_of<T>(a);
        parallel_for(out.numel(), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
            auto o = flat_range<Out>(out, lo, hi);
            xt::noalias(o) = f(av, flat_range<T>(b, lo, hi));
        });
        return out;
    }
    Tensor out = make_tensor(broadcast_shapes(sa, sb, op), dtype_of<Out>::value);
    broadcast_runs<T, Out>(a, b, out, f);
    return out;
}

// out = f(x), same shape and dtype.
template <class T, class F>
Tensor unary_map(const Tensor& x, F&& f) {
    Tensor out = make_tensor(x.shape(), x.dtype());
    parallel_for(out.numel(), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
        auto o = flat_range<T>(out, lo, hi);
        xt::noalias(o) = f(flat_range<T>(x, lo, hi));
    });
    return out;
}

}  // namespace xgrad::kernels
