// var, std and logsumexp: composites of differentiable ops (sum, mul, div, exp, log, sqrt), so
// their first and higher derivatives come from the ops they are built from.
//
// var/std semantics follow torch.var/std:
// - the divisor is max(0, N - correction), with N the number of reduced elements; correction 1
//   (the default) is Bessel's correction, 0 gives the population variance, and a negative
//   correction is allowed (divisor N + |correction|).
// - when N - correction <= 0 there is no error: the division by zero gives NaN (0/0, e.g. the
//   sample variance of a single element, or any reduction over zero elements) or +inf (a
//   non-zero sum of squares over 0), exactly the values PyTorch returns. PyTorch also prints a
//   warning; xgrad has no warning channel, so callers that care check isnan/isinf.
// logsumexp: log(sum(exp(x - m))) + m with m the (constant) max of each slice, and m replaced by
// 0 where it is infinite, so that large values do not overflow, a slice of all -inf gives -inf,
// a slice holding +inf gives +inf, and a NaN gives NaN. Over zero elements it is log(0) = -inf,
// as in PyTorch.
#include <algorithm>

#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

void check_floating(const char* op, const Tensor& x) {
    check_defined(op, x);
    if (!is_floating(x.dtype()))
        raise<DtypeError>(op, "needs a floating tensor, got ", describe(x),
                          "; convert it with .to(kFloat32) first");
}

// Number of elements reduced into each output element (axes normalised).
std::int64_t reduced_count(const Tensor& x, const Axes& axes) {
    std::int64_t count = 1;
    for (auto a : axes) count *= x.shape()[static_cast<std::size_t>(a)];
    return count;
}

}  // namespace

Tensor var(const Tensor& x, const Axes& dims, bool keepdim, std::int64_t correction) {
    check_floating("var", x);
    const Axes axes = normalize_axes(dims, x.dim(), "var");
    const std::int64_t count = reduced_count(x, axes);
    // Two passes (mean, then squared deviations); sum accumulates in double, so float32 stays
    // accurate. count == 0 gives a NaN mean rather than mean()'s error, as PyTorch.
    const Tensor mu = sum(x, axes, true) / static_cast<double>(count);
    const Tensor d = x - mu;
    // In 128 bits: count - correction wraps int64 for a correction near INT64_MIN.
    const __int128 dof = __int128(count) - correction;
    const double divisor = dof > 0 ? static_cast<double>(dof) : 0.0;
    return sum(d * d, axes, keepdim) / divisor;
}

Tensor std(const Tensor& x, const Axes& dims, bool keepdim, std::int64_t correction) {
    check_floating("std", x);
    // Validate the dims under this op's name before delegating.
    normalize_axes(dims, x.dim(), "std");
    return sqrt(var(x, dims, keepdim, correction));
}

Tensor logsumexp(const Tensor& x, const Axes& dims, bool keepdim) {
    check_floating("logsumexp", x);
    const Axes axes = normalize_axes(dims, x.dim(), "logsumexp");
    if (reduced_count(x, axes) == 0) return log(sum(exp(x), axes, keepdim));
    // The shift is a constant (computed from detached data): its gradient cancels exactly.
    Tensor m = max(x.detach(), axes, true);
    m = where(isinf(m), scalar_like(0, m, "logsumexp"), m);
    const Tensor s = log(sum(exp(x - m), axes, keepdim));
    return s + (keepdim ? m : reshape(m, reduced_shape(x.shape(), axes, false)));
}

Tensor Tensor::var(const Axes& d, bool k, std::int64_t c) const {
    return xgrad::var(*this, d, k, c);
}
Tensor Tensor::std(const Axes& d, bool k, std::int64_t c) const {
    return xgrad::std(*this, d, k, c);
}
Tensor Tensor::logsumexp(const Axes& d, bool k) const {
    return xgrad::logsumexp(*this, d, k);
}

}  // namespace xgrad
