// Special functions: forward kernel and backward rule side by side, as in unary.cpp.
#include <xgrad/autograd/ops/special.hpp>

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
}  // namespace

Tensor erf(const Tensor& x) {
    Tensor out = floating_unary("erf", x, [](auto&& v) { return xt::erf(v); });
    if (should_record({&x}))
        record("ErfBackward", out, {x}, {x}, [](Node& n, const Tensor& g) -> TensorList {
            const Tensor& x = n.saved(0);
            const double two_over_sqrt_pi = 1.1283791670955125739;  // 2 / sqrt(pi)
            return {g * exp(-(x * x)) * two_over_sqrt_pi};
        });
    return out;
}

Tensor log1p(const Tensor& x) {
    Tensor out = floating_unary("log1p", x, [](auto&& v) { return xt::log1p(v); });
    if (should_record({&x}))
        record("Log1pBackward", out, {x}, {x},
               [](Node& n, const Tensor& g) -> TensorList { return {g / (n.saved(0) + 1.0)}; });
    return out;
}

Tensor expm1(const Tensor& x) {
    Tensor out = floating_unary("expm1", x, [](auto&& v) { return xt::expm1(v); });
    if (should_record({&x}))
        record(
            "Expm1Backward", out, {x}, {},
            [](Node& n, const Tensor& g) -> TensorList { return {g * (n.saved_output() + 1.0)}; },
            true);
    return out;
}

}  // namespace xgrad
