// sum and mean. Floating sums accumulate in double so float32 results stay accurate.
#include <xtensor/xreducer.hpp>

#include "kernels/elementwise.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {
// Eight independent partial sums: the compiler vectorises them (a single accumulator is one
// long dependency chain), and they keep float32 sums accurate by accumulating in double.
template <class Acc, class T>
Acc sum_all(const T* p, std::int64_t n) {
    Acc part[8] = {};
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) part[k] += static_cast<Acc>(p[i + k]);
    Acc acc = 0;
    for (; i < n; ++i) acc += static_cast<Acc>(p[i]);
    for (int k = 0; k < 8; ++k) acc += part[k];
    return acc;
}
}  // namespace

Tensor sum(const Tensor& x, const Axes& dims, bool keepdim) {
    check_defined("sum", x);
    const Axes axes = normalize_axes(dims, x.dim(), "sum");
    const Shape out_shape = reduced_shape(x.shape(), axes, keepdim);
    Tensor out = make_tensor(out_shape, x.dtype());
    kernels::dispatch_numeric(x.dtype(), "sum", [&](auto tag) {
        using T = typename decltype(tag)::type;
        using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
        T* o = out.data_ptr<T>();
        if (static_cast<std::int64_t>(axes.size()) == x.dim()) {
            *o = static_cast<T>(sum_all<Acc>(x.data_ptr<T>(), x.numel()));
        } else if (x.numel() == 0) {  // xtensor's reducer writes nothing for an empty axis
            std::fill(o, o + out.numel(), T(0));
        } else if (axes.empty()) {
            std::copy(x.data_ptr<T>(), x.data_ptr<T>() + x.numel(), o);
        } else {
            std::vector<std::size_t> ax(axes.begin(), axes.end());
            auto r = xt::sum<Acc>(kernels::nd<T>(x), ax, xt::evaluation_strategy::immediate);
            std::transform(r.begin(), r.end(), o, [](Acc v) { return static_cast<T>(v); });
        }
    });
    if (should_record({&x})) {
        Shape in_shape = x.shape();
        Shape kept = reduced_shape(in_shape, axes, true);
        record("SumBackward", out, {x}, {}, [in_shape, kept](Node&, const Tensor& g) -> TensorList {
            return {expand(reshape(g, kept), in_shape)};
        });
    }
    return out;
}

Tensor mean(const Tensor& x, const Axes& dims, bool keepdim) {
    check_defined("mean", x);
    if (!is_floating(x.dtype()))
        throw DtypeError("xgrad::mean: needs a floating tensor, got " + describe(x));
    const Axes axes = normalize_axes(dims, x.dim(), "mean");
    std::int64_t count = 1;
    for (auto a : axes) count *= x.shape()[a];
    if (count == 0)
        throw ValueError("xgrad::mean: mean over an empty set of elements (shape " +
                         shape_str(x.shape()) + ")");
    return sum(x, dims, keepdim) / static_cast<double>(count);
}

Tensor Tensor::sum(const Axes& d, bool k) const {
    return xgrad::sum(*this, d, k);
}
Tensor Tensor::mean(const Axes& d, bool k) const {
    return xgrad::mean(*this, d, k);
}

}  // namespace xgrad
