// Comparisons and logic give bool masks (never differentiable); where() selects with a mask.
#include <cmath>

#include "kernels/broadcast_loop.hpp"
#include "kernels/elementwise.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {
// out[i] = f(a[i], b[i]) with broadcasting, for bool results (a plain loop: xsimd has no
// bool batches).
template <class T, class F>
Tensor bool_binary(const char* op, const Tensor& a, const Tensor& b, F&& f) {
    const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
    Tensor out = make_tensor(shape, Dtype::b8);
    bool* o = out.data_ptr<bool>();
    const T* pa = a.data_ptr<T>();
    const T* pb = b.data_ptr<T>();
    if (a.shape() == b.shape()) {
        for (std::int64_t i = 0; i < out.numel(); ++i) o[i] = f(pa[i], pb[i]);
    } else {
        kernels::for_each_broadcast<2>(shape, {&a.shape(), &b.shape()},
                                       [&](std::int64_t i, const std::array<std::int64_t, 2>& p) {
                                           o[i] = f(pa[p[0]], pb[p[1]]);
                                       });
    }
    return out;
}

template <class F>
Tensor compare(const char* op, const Tensor& a, const Tensor& b, F&& f) {
    check_same_dtype(op, a, b);
    return kernels::dispatch_all(a.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        return bool_binary<T>(op, a, b, f);
    });
}

void check_bool(const char* op, const Tensor& t) {
    check_defined(op, t);
    if (t.dtype() != Dtype::b8) raise<DtypeError>(op, "expected a bool mask, got ", describe(t));
}
}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) {
    return compare("eq", a, b, [](auto x, auto y) { return x == y; });
}
Tensor ne(const Tensor& a, const Tensor& b) {
    return compare("ne", a, b, [](auto x, auto y) { return x != y; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
    return compare("lt", a, b, [](auto x, auto y) { return x < y; });
}
Tensor le(const Tensor& a, const Tensor& b) {
    return compare("le", a, b, [](auto x, auto y) { return x <= y; });
}
Tensor gt(const Tensor& a, const Tensor& b) {
    return compare("gt", a, b, [](auto x, auto y) { return x > y; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
    return compare("ge", a, b, [](auto x, auto y) { return x >= y; });
}

Tensor logical_and(const Tensor& a, const Tensor& b) {
    check_bool("logical_and", a);
    check_bool("logical_and", b);
    return bool_binary<bool>("logical_and", a, b, [](bool x, bool y) { return x && y; });
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
    check_bool("logical_or", a);
    check_bool("logical_or", b);
    return bool_binary<bool>("logical_or", a, b, [](bool x, bool y) { return x || y; });
}
Tensor logical_not(const Tensor& m) {
    check_bool("logical_not", m);
    Tensor out = make_tensor(m.shape(), Dtype::b8);
    const bool* p = m.data_ptr<bool>();
    bool* o = out.data_ptr<bool>();
    for (std::int64_t i = 0; i < m.numel(); ++i) o[i] = !p[i];
    return out;
}

namespace {
template <class Pred>
Tensor classify(const char* op, const Tensor& x, Pred pred) {
    check_defined(op, x);
    Tensor out = make_tensor(x.shape(), Dtype::b8);
    bool* o = out.data_ptr<bool>();
    kernels::dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* p = x.data_ptr<T>();
        for (std::int64_t i = 0; i < x.numel(); ++i) o[i] = pred(p[i]);
    });
    return out;
}
}  // namespace

Tensor isnan(const Tensor& x) {
    return classify("isnan", x, [](auto v) {
        if constexpr (std::is_floating_point_v<decltype(v)>) return std::isnan(v);
        return false;
    });
}
Tensor isinf(const Tensor& x) {
    return classify("isinf", x, [](auto v) {
        if constexpr (std::is_floating_point_v<decltype(v)>) return std::isinf(v);
        return false;
    });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    check_bool("where", cond);
    check_same_dtype("where", a, b);
    const Shape shape =
        broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
    Tensor out = make_tensor(shape, a.dtype());
    kernels::dispatch_all(a.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const bool* c = cond.data_ptr<bool>();
        const T* pa = a.data_ptr<T>();
        const T* pb = b.data_ptr<T>();
        T* o = out.data_ptr<T>();
        if (cond.shape() == shape && a.shape() == shape && b.shape() == shape) {
            for (std::int64_t i = 0; i < out.numel(); ++i) o[i] = c[i] ? pa[i] : pb[i];
        } else {
            kernels::for_each_broadcast<3>(
                shape, {&cond.shape(), &a.shape(), &b.shape()},
                [&](std::int64_t i, const std::array<std::int64_t, 3>& p) {
                    o[i] = c[p[0]] ? pa[p[1]] : pb[p[2]];
                });
        }
    });
    if (should_record({&a, &b}))
        record("WhereBackward", out, {a, b}, {cond}, [](Node& n, const Tensor& g) -> TensorList {
            const Tensor& c = n.saved(0);
            Tensor zero = scalar_like(0, g, "where");
            return {n.needs_input_grad(0) ? where(c, g, zero) : Tensor(),
                    n.needs_input_grad(1) ? where(c, zero, g) : Tensor()};
        });
    return out;
}

Tensor operator==(const Tensor& a, const Tensor& b) {
    return eq(a, b);
}
Tensor operator!=(const Tensor& a, const Tensor& b) {
    return ne(a, b);
}
Tensor operator<(const Tensor& a, const Tensor& b) {
    return lt(a, b);
}
Tensor operator<=(const Tensor& a, const Tensor& b) {
    return le(a, b);
}
Tensor operator>(const Tensor& a, const Tensor& b) {
    return gt(a, b);
}
Tensor operator>=(const Tensor& a, const Tensor& b) {
    return ge(a, b);
}
Tensor operator<(const Tensor& a, double b) {
    return lt(a, scalar_like(b, a, "lt"));
}
Tensor operator<=(const Tensor& a, double b) {
    return le(a, scalar_like(b, a, "le"));
}
Tensor operator>(const Tensor& a, double b) {
    return gt(a, scalar_like(b, a, "gt"));
}
Tensor operator>=(const Tensor& a, double b) {
    return ge(a, scalar_like(b, a, "ge"));
}

// Method forms (torch.Tensor.eq(other) and with a scalar, taking the tensor's dtype).
Tensor Tensor::eq(const Tensor& o) const {
    return xgrad::eq(*this, o);
}
Tensor Tensor::eq(double o) const {
    return xgrad::eq(*this, scalar_like(o, *this, "eq"));
}
Tensor Tensor::ne(const Tensor& o) const {
    return xgrad::ne(*this, o);
}
Tensor Tensor::ne(double o) const {
    return xgrad::ne(*this, scalar_like(o, *this, "ne"));
}
Tensor Tensor::lt(const Tensor& o) const {
    return xgrad::lt(*this, o);
}
Tensor Tensor::lt(double o) const {
    return *this < o;
}
Tensor Tensor::le(const Tensor& o) const {
    return xgrad::le(*this, o);
}
Tensor Tensor::le(double o) const {
    return *this <= o;
}
Tensor Tensor::gt(const Tensor& o) const {
    return xgrad::gt(*this, o);
}
Tensor Tensor::gt(double o) const {
    return *this > o;
}
Tensor Tensor::ge(const Tensor& o) const {
    return xgrad::ge(*this, o);
}
Tensor Tensor::ge(double o) const {
    return *this >= o;
}

}  // namespace xgrad
