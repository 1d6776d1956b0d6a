// amax / amin (and max / min over all elements or dims, the same op), max / min over one dim
// with indices (torch.max(x, dim)), and argmax / argmin.
//
// Semantics:
// - max/min reduce over all elements (dims = {}) or the given dims; reducing over a dimension
//   of size 0 is a ValueError (there is no identity to return). A dimension of size 0 that is
//   kept just gives an empty result.
// - NaN propagates: the max (or min) of a slice that holds a NaN is NaN, and argmax/argmin
//   return the index of the first NaN, as PyTorch does.
// - The gradient is shared evenly among the elements equal to the result (ties), as
//   torch.amax: grad_in = g * mask / count(mask). The mask is a constant, so the backward rule
//   is linear in g and differentiable again. In a slice whose result is NaN, the NaN elements
//   form the mask (PyTorch instead gives NaN gradients to the whole slice).
// - argmax/argmin give int64 indices of the first extreme value, along `dim`, or into the
//   flattened tensor when dim is nullopt (then keepdim keeps every dim as size 1).
//
// The loops are core's kernels (kernels/extrema.hpp).
#include <optional>
#include <string>

#include "kernels/extrema.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

std::string dims_str(const Axes& dims) {
    return dims.empty() ? std::string("all") : shape_str(dims);
}

Tensor extremum(const char* op, const char* node_name, bool is_max, const Tensor& x,
                const Axes& dims, bool keepdim) {
    check_defined(op, x);
    const Axes axes = normalize_axes(dims, x.dim(), op);
    for (std::int64_t a : axes)
        if (x.shape()[static_cast<std::size_t>(a)] == 0)
            raise<ValueError>(op, "cannot reduce over an empty dimension ", "(input ", describe(x),
                              ", dims ", dims_str(dims), ")");
    const kernels::ExtremaPlan plan = kernels::make_extrema_plan(x.shape(), axes);
    Tensor out = make_tensor(reduced_shape(x.shape(), axes, keepdim), x.dtype());
    kernels::extremum(is_max, x, plan, out);
    if (should_record({&x})) {
        // weight = mask / count(mask) per slice, with mask = (x == result), or x and result both
        // NaN. A constant: the backward rule g * weight is linear in g.
        Tensor weight = make_tensor(x.shape(), x.dtype());
        kernels::extremum_tie_weights(op, x, plan, out, weight);
        const Shape kept = reduced_shape(x.shape(), axes, true);
        record(node_name, out, {x}, {weight}, [kept](Node& n, const Tensor& g) -> TensorList {
            return {reshape(g, kept) * n.saved(0)};
        });
    }
    return out;
}

Tensor arg_extremum(const char* op, bool is_max, const Tensor& x, std::optional<std::int64_t> dim,
                    bool keepdim) {
    check_defined(op, x);
    Axes axes;
    Shape out_shape;
    if (dim) {
        axes = normalize_axes({*dim}, x.dim(), op);
        out_shape = reduced_shape(x.shape(), axes, keepdim);
    } else {
        axes = normalize_axes({}, x.dim(), op);  // every dim: the flattened tensor
        out_shape = keepdim ? Shape(x.shape().size(), 1) : Shape{};
    }
    const kernels::ReductionPlan plan = kernels::make_reduction_plan(x.shape(), axes);
    if (plan.count == 0)
        raise<ValueError>(op, "cannot reduce over an empty ",
                          (dim ? "dimension " + std::to_string(*dim) : std::string("tensor")),
                          " (input ", describe(x), ")");
    Tensor out = make_tensor(out_shape, Dtype::i64);
    kernels::arg_extremum(is_max, x, plan, out);
    return out;
}

// torch.max(x, dim): the index of the first extreme value (argmax's kernel: NaN first), and
// the values gathered at it, so the gradient goes to that index only (gather's backward is a
// scatter_add) and is differentiable again.
ValuesIndices extremum_dim(const char* op, bool is_max, const Tensor& x, std::int64_t dim,
                           bool keepdim) {
    check_defined(op, x);
    if (x.dim() == 0) {
        normalize_axis(dim, 1, op);  // a 0-d tensor has dims 0 and -1, as in PyTorch
        return {x.clone(), zeros({}, TensorOptions{Dtype::i64})};
    }
    const std::int64_t d = normalize_axis(dim, x.dim(), op);
    if (x.shape()[static_cast<std::size_t>(d)] == 0)
        raise<ValueError>(op, "cannot reduce over the empty dimension ", d, " (input ", describe(x),
                          ")");
    Tensor indices = arg_extremum(op, is_max, x, d, true);
    Tensor values = gather(x, d, indices);
    if (!keepdim) return {squeeze(values, d), squeeze(indices, d)};
    return {values, indices};
}

}  // namespace

Tensor amax(const Tensor& x, const Axes& dims, bool keepdim) {
    return extremum("amax", "AmaxBackward", true, x, dims, keepdim);
}
Tensor amin(const Tensor& x, const Axes& dims, bool keepdim) {
    return extremum("amin", "AminBackward", false, x, dims, keepdim);
}
Tensor max(const Tensor& x, const Axes& dims, bool keepdim) {
    return extremum("max", "MaxBackward", true, x, dims, keepdim);
}
Tensor min(const Tensor& x, const Axes& dims, bool keepdim) {
    return extremum("min", "MinBackward", false, x, dims, keepdim);
}
ValuesIndices max_dim(const Tensor& x, std::int64_t dim, bool keepdim) {
    return extremum_dim("max", true, x, dim, keepdim);
}
ValuesIndices min_dim(const Tensor& x, std::int64_t dim, bool keepdim) {
    return extremum_dim("min", false, x, dim, keepdim);
}
Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
    return arg_extremum("argmax", true, x, dim, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
    return arg_extremum("argmin", false, x, dim, keepdim);
}

Tensor Tensor::max(const Axes& d, bool k) const {
    return xgrad::max(*this, d, k);
}
Tensor Tensor::min(const Axes& d, bool k) const {
    return xgrad::min(*this, d, k);
}
Tensor Tensor::amax(const Axes& d, bool k) const {
    return xgrad::amax(*this, d, k);
}
Tensor Tensor::amin(const Axes& d, bool k) const {
    return xgrad::amin(*this, d, k);
}
ValuesIndices Tensor::max_dim(std::int64_t d, bool k) const {
    return xgrad::max_dim(*this, d, k);
}
ValuesIndices Tensor::min_dim(std::int64_t d, bool k) const {
    return xgrad::min_dim(*this, d, k);
}
Tensor Tensor::maximum(const Tensor& other) const {
    return xgrad::maximum(*this, other);
}
Tensor Tensor::minimum(const Tensor& other) const {
    return xgrad::minimum(*this, other);
}
Tensor Tensor::argmax(std::optional<std::int64_t> dim, bool k) const {
    return xgrad::argmax(*this, dim, k);
}
Tensor Tensor::argmin(std::optional<std::int64_t> dim, bool k) const {
    return xgrad::argmin(*this, dim, k);
}

}  // namespace xgrad
