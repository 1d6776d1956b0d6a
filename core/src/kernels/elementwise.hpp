// Elementwise kernels: the hot ones (arithmetic, activations and their derivatives) on the
// run-time dispatched plain loops of kernels/simd.hpp (binary_kernel, scalar_kernel,
// unary_kernel), the rest on xtensor expressions (binary_map, unary_map; xsimd at the build's
// -march, baseline SSE2 by default). Same-shape and scalar operands take a flat 1-D path;
// everything else goes through runs of NumPy broadcasting.
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
#include "kernels/simd.hpp"
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
// operand is either contiguous or one repeated value, so every run is a flat, vectorised loop.
// (xtensor's own N-d broadcasting steps element by element: 20-50x slower for e.g.
// [64, 32, 32, 32] * [1, 32, 1, 1].) Calls run(off_out, off_a, off_b, n, a_run, b_run) for each
// run of n elements; a_run / b_run say whether that operand is contiguous (else one value).
template <class F>
void for_each_run(const Tensor& a, const Tensor& b, const Tensor& out, F&& run) {
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
    const bool a_run = ca[k - 1] != 0, b_run = cb[k - 1] != 0;
    std::vector<std::int64_t> idx(k, 0);
    std::int64_t off_a = 0, off_b = 0;
    const std::int64_t total = out.numel();
    for (std::int64_t off_o = 0; off_o < total; off_o += dims[k - 1]) {
        run(off_o, off_a, off_b, dims[k - 1], a_run, b_run);
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

// for_each_run with xtensor expressions: f takes two expressions (or one and a scalar).
template <class T, class Out, class F>
void broadcast_runs(const Tensor& a, const Tensor& b, Tensor& out, F&& f) {
    const T* pa = data_of<T>(a);
    const T* pb = data_of<T>(b);
    Out* po = data_of<Out>(out);
    for_each_run(a, b, out,
                 [&](std::int64_t off_o, std::int64_t off_a, std::int64_t off_b, std::int64_t len,
                     bool a_run, bool b_run) {
                     const auto n = static_cast<std::size_t>(len);
                     const std::array<std::size_t, 1> run_shape{n};
                     auto o = xt::adapt(po + off_o, n, xt::no_ownership(), run_shape);
                     if (a_run && b_run)
                         xt::noalias(o) =
                             f(xt::adapt(pa + off_a, n, xt::no_ownership(), run_shape),
                               xt::adapt(pb + off_b, n, xt::no_ownership(), run_shape));
                     else if (a_run)
                         xt::noalias(o) =
                             f(xt::adapt(pa + off_a, n, xt::no_ownership(), run_shape), pb[off_b]);
                     else
                         xt::noalias(o) =
                             f(pa[off_a], xt::adapt(pb + off_b, n, xt::no_ownership(), run_shape));
                 });
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

// out = op(a, b) with broadcasting, on the run-time dispatched kernels (kernels/simd.hpp; T is
// float, double or int64). Same layout of work as binary_map: flat parallel chunks for
// same-shape and scalar operands, runs for general broadcasting.
template <class T>
Tensor binary_kernel(const Tensor& a, const Tensor& b, const char* op, simd::Bin k,
                     T param = T(0)) {
    const Shape& sa = a.shape();
    const Shape& sb = b.shape();
    const T* pa = data_of<T>(a);
    const T* pb = data_of<T>(b);
    auto flat_run = [&](const Shape& shape, simd::Mode m) {
        Tensor out = make_tensor(shape, dtype_of<T>::value);
        T* po = data_of<T>(out);
        const bool sa_ = m == simd::Mode::sv, sb_ = m == simd::Mode::vs;
        parallel_for(out.numel(), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
            simd::binary(k, m, sa_ ? pa : pa + lo, sb_ ? pb : pb + lo, po + lo, hi - lo, param);
        });
        return out;
    };
    if (sa == sb) return flat_run(sa, simd::Mode::vv);
    if (b.numel() == 1 && sb.size() <= sa.size()) return flat_run(sa, simd::Mode::vs);
    if (a.numel() == 1 && sa.size() <= sb.size()) return flat_run(sb, simd::Mode::sv);
    Tensor out = make_tensor(broadcast_shapes(sa, sb, op), dtype_of<T>::value);
    T* po = data_of<T>(out);
    for_each_run(a, b, out,
                 [&](std::int64_t off_o, std::int64_t off_a, std::int64_t off_b, std::int64_t n,
                     bool a_run, bool b_run) {
                     const simd::Mode m = a_run && b_run ? simd::Mode::vv
                                          : a_run        ? simd::Mode::vs
                                                         : simd::Mode::sv;
                     simd::binary(k, m, pa + off_a, pb + off_b, po + off_o, n, param);
                 });
    return out;
}

// out = op(a, s) (or op(s, a) with scalar_first), a tensor and a scalar, on the dispatched
// kernels.
template <class T>
Tensor scalar_kernel(const Tensor& a, T s, simd::Bin k, bool scalar_first) {
    Tensor out = make_tensor(a.shape(), dtype_of<T>::value);
    const T* pa = data_of<T>(a);
    T* po = data_of<T>(out);
    parallel_for(out.numel(), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
        if (scalar_first)
            simd::binary(k, simd::Mode::sv, &s, pa + lo, po + lo, hi - lo, T(0));
        else
            simd::binary(k, simd::Mode::vs, pa + lo, &s, po + lo, hi - lo, T(0));
    });
    return out;
}

// out = op(x), same shape and dtype, on the dispatched kernels (lo, hi: clamp's bounds).
template <class T>
Tensor unary_kernel(const Tensor& x, simd::Un k, T lo = T(0), T hi = T(0)) {
    Tensor out = make_tensor(x.shape(), x.dtype());
    const T* px = data_of<T>(x);
    T* po = data_of<T>(out);
    parallel_for(out.numel(), [&](std::int64_t, std::int64_t b, std::int64_t e) {
        simd::unary(k, px + b, po + b, e - b, lo, hi);
    });
    return out;
}

}  // namespace xgrad::kernels
