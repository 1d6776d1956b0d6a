// Opt-in bridge between xgrad tensors and xtensor, for users who write their own kernels. The
// only public header that includes xtensor: <xgrad/xgrad.hpp> does not include it, so programs
// that do not ask for it never see xtensor.
//
//   #include <xgrad/xtensor.hpp>
//   Tensor y = empty_like(x);
//   auto xv = xgrad::as_xtensor<float>(std::as_const(x));  // read-only view, no copy
//   auto yv = xgrad::as_xtensor<float>(y);                  // writable view, no copy
//   yv = 0.5f * xv * (1.f + xt::tanh(xv));                  // one pass, one expression
//   Tensor z = xgrad::from_xtensor(xt::linspace<double>(0., 1., 5));  // evaluated, owned
//
// - A view is an xtensor adaptor of the tensor's storage with the tensor's shape (row-major). It
//   shares ownership of the storage (as a tensor does), so it stays valid after the tensor is
//   gone, a view of a temporary included: `as_xtensor<float>(x * 2.f)` is safe.
// - Writes through a view are in-place writes. as_xtensor on a non-const tensor counts as one:
//   it bumps the tensor's version at once, so autograd refuses to backward through any use of
//   the tensor saved before (instead of silently reading the new values). Read through
//   as_xtensor(std::as_const(t)) to leave the version alone.
// - Element types: float (float32), double (float64), std::int64_t (int64), bool (bool). Asking
//   for another type than the tensor's dtype throws DtypeError naming both.
// - Debian's xtensor 0.24.3 does not compile its reducers (xt::sum, xt::mean...) as C++20 under
//   g++ 12: a translation unit that includes this header should be built as C++17 there (the
//   rest of a program may be C++20). CMake: find_package(xtensor) and link `xtensor` next to
//   xgrad::xgrad.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>

#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

namespace detail {

// The dtype that stores C++ type T.
template <class T>
constexpr Dtype dtype_of() {
    if constexpr (std::is_same_v<T, float>)
        return Dtype::f32;
    else if constexpr (std::is_same_v<T, double>)
        return Dtype::f64;
    else if constexpr (std::is_same_v<T, std::int64_t>)
        return Dtype::i64;
    else {
        static_assert(std::is_same_v<T, bool>,
                      "xgrad tensors hold float, double, std::int64_t or bool elements");
        return Dtype::b8;
    }
}

// The dtype an evaluated xtensor expression of value type V becomes: float -> float32, other
// floating types -> float64, bool -> bool, other integers -> int64.
template <class V>
constexpr Dtype dtype_for_value() {
    if constexpr (std::is_same_v<V, bool>)
        return Dtype::b8;
    else if constexpr (std::is_same_v<V, float>)
        return Dtype::f32;
    else if constexpr (std::is_floating_point_v<V>)
        return Dtype::f64;
    else {
        static_assert(std::is_integral_v<V>, "from_xtensor needs an arithmetic value type");
        return Dtype::i64;
    }
}

template <class T>
void check_view_dtype(const Tensor& t) {
    if (!t.defined()) raise<ValueError>("as_xtensor", "the tensor is undefined");
    if (t.dtype() != dtype_of<T>())
        raise<DtypeError>("as_xtensor", "the tensor is ", dtype_name(t.dtype()),
                          ", the view asks for ", dtype_name(dtype_of<T>()));
}

inline std::vector<std::size_t> view_shape(const Tensor& t) {
    std::vector<std::size_t> s;
    for (std::int64_t d : t.shape()) s.push_back(static_cast<std::size_t>(d));
    return s;
}

// An adaptor of p with t's shape that holds a reference to t's storage.
template <class P>
auto shared_view(P p, const Tensor& t) {
    return xt::adapt_smart_ptr(p, view_shape(t), t.impl()->storage);
}

}  // namespace detail

// A writable xtensor view of t's data (no copy), with t's shape. Bumps t's version (see above).
template <class T>
auto as_xtensor(Tensor& t) {
    detail::check_view_dtype<T>(t);
    t.bump_version();
    return detail::shared_view(t.data_ptr<T>(), t);
}

// A read-only xtensor view of t's data (no copy), with t's shape.
template <class T>
auto as_xtensor(const Tensor& t) {
    detail::check_view_dtype<T>(t);
    return detail::shared_view(t.data_ptr<T>(), t);
}

// An xtensor expression evaluated into a new tensor that owns its data, with the expression's
// shape; its dtype follows the value type (see dtype_for_value) unless options.dtype is set, in
// which case the values are converted.
template <class E>
Tensor from_xtensor(const xt::xexpression<E>& expression, TensorOptions options = {}) {
    const E& e = expression.derived_cast();
    using V = typename E::value_type;
    Shape shape;
    for (auto d : e.shape()) shape.push_back(static_cast<std::int64_t>(d));
    const Dtype dtype = options.dtype.value_or(detail::dtype_for_value<V>());
    TensorOptions out_options;
    out_options.dtype = dtype;
    Tensor out = empty(shape, out_options);
    auto fill = [&](auto tag) {
        using T = decltype(tag);
        auto view = xt::adapt(out.data_ptr<T>(), static_cast<std::size_t>(out.numel()),
                              xt::no_ownership(), detail::view_shape(out));
        view = xt::cast<T>(e);
    };
    switch (dtype) {
        case Dtype::f32:
            fill(float{});
            break;
        case Dtype::f64:
            fill(double{});
            break;
        case Dtype::i64:
            fill(std::int64_t{});
            break;
        case Dtype::b8:
            fill(bool{});
            break;
    }
    if (options.requires_grad) out.requires_grad_();
    return out;
}

}  // namespace xgrad
