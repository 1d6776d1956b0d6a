// index_select / gather / scatter_add / index_add, with PyTorch semantics. The four are each
// other's adjoints (index_select <-> index_add, gather <-> scatter_add), so every backward rule
// is one of these ops and second derivatives pass through them.
//
// As in PyTorch, a 0-d tensor is treated as a 1-d tensor of one element for the shape rules
// (dim must then be 0 or -1), and the result keeps the 0-d shape where PyTorch keeps it.
// The loops are core's kernels (kernels/gather_scatter.hpp).
#include "kernels/gather_scatter.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

// The shape used for the shape rules: a 0-d tensor counts as [1].
Shape nonempty(const Shape& s) {
    return s.empty() ? Shape{1} : s;
}

// Checks shared by gather and scatter_add: same number of dimensions (0-d counting as 1-d), and
// index no larger than `x` in every dimension but d. Returns the normalised dim.
std::int64_t check_gather_shapes(const char* op, const Tensor& x, const Tensor& index,
                                 std::int64_t dim) {
    const Shape xs = nonempty(x.shape());
    const Shape is = nonempty(index.shape());
    if (xs.size() != is.size())
        raise<ShapeError>(op, "index must have as many dimensions as the input, got index ",
                          describe(index), " and input ", describe(x));
    const std::int64_t d = normalize_axis(dim, static_cast<std::int64_t>(xs.size()), op);
    for (std::size_t k = 0; k < xs.size(); ++k)
        if (static_cast<std::int64_t>(k) != d && is[k] > xs[k])
            raise<ShapeError>(op, "index ", shape_str(index.shape()), " is larger than the input ",
                              shape_str(x.shape()), " in dimension ", std::to_string(k),
                              " (only dimension ", std::to_string(d), " may be larger)");
    return d;
}

// The gradient of scatter_add's src: gather(g) has index's shape; the elements of src beyond
// index's extent are not used, so their gradient is zero.
Tensor fit_to_src(const Tensor& gs, const Shape& src_shape) {
    if (gs.shape() == src_shape) return gs;
    const Shape is = nonempty(gs.shape());
    const Shape ss = nonempty(src_shape);
    std::vector<std::int64_t> pads;
    for (std::size_t k = is.size(); k-- > 0;) {
        pads.push_back(0);
        pads.push_back(ss[k] - is[k]);
    }
    return reshape(pad(reshape(gs, is), pads, 0.0), src_shape);
}

}  // namespace

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
    const char* op = "index_select";
    check_defined(op, x);
    check_index_dtype(op, index);
    if (index.dim() > 1) raise<IndexError>(op, "index must be 0-d or 1-d, got ", describe(index));
    const Shape xs = nonempty(x.shape());
    const std::int64_t d = normalize_axis(dim, static_cast<std::int64_t>(xs.size()), op);
    const std::int64_t n = index.numel();
    if (x.dim() == 0 && n != 1)
        raise<ShapeError>(op, "a 0-d input needs exactly one index, got ", describe(index));
    kernels::check_index_bounds(op, index, xs[d], d);

    Shape out_shape = x.shape();
    if (x.dim() > 0) out_shape[d] = n;
    Tensor out = make_tensor(out_shape, x.dtype());
    kernels::index_select(x, kernels::split3(xs, d), index, out);

    if (should_record({&x})) {
        Shape in_shape = x.shape();
        record("IndexSelectBackward", out, {x}, {index},
               [in_shape, d](Node& node, const Tensor& grad) -> TensorList {
                   return {index_add(zeros(in_shape, TensorOptions{grad.dtype()}), d, node.saved(0),
                                     grad)};
               });
    }
    return out;
}

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
    const char* op = "gather";
    check_defined(op, x);
    check_index_dtype(op, index);
    const std::int64_t d = check_gather_shapes(op, x, index, dim);
    const Shape xs = nonempty(x.shape());
    kernels::check_index_bounds(op, index, xs[d], d);

    Tensor out = make_tensor(index.shape(), x.dtype());
    kernels::gather(x, xs, d, index, nonempty(index.shape()), out);

    if (should_record({&x})) {
        Shape in_shape = x.shape();
        record("GatherBackward", out, {x}, {index},
               [in_shape, d](Node& node, const Tensor& grad) -> TensorList {
                   return {scatter_add(zeros(in_shape, TensorOptions{grad.dtype()}), d,
                                       node.saved(0), grad)};
               });
    }
    return out;
}

Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
    const char* op = "scatter_add";
    check_defined(op, x);
    check_index_dtype(op, index);
    check_same_dtype(op, x, src);
    const std::int64_t d = check_gather_shapes(op, x, index, dim);
    const Shape xs = nonempty(x.shape());
    const Shape is = nonempty(index.shape());
    const Shape ss = nonempty(src.shape());
    if (ss.size() != is.size())
        raise<ShapeError>(op, "src must have as many dimensions as index, got src ", describe(src),
                          " and index ", describe(index));
    for (std::size_t k = 0; k < is.size(); ++k)
        if (is[k] > ss[k])
            raise<ShapeError>(op, "index ", shape_str(index.shape()), " is larger than src ",
                              shape_str(src.shape()), " in dimension ", std::to_string(k));
    kernels::check_index_bounds(op, index, xs[d], d);

    Tensor out = kernels::copy_of(x);
    kernels::scatter_add(op, out, xs, d, index, is, src, ss);

    if (should_record({&x, &src})) {
        Shape src_shape = src.shape();
        record("ScatterAddBackward", out, {x, src}, {index},
               [src_shape, d](Node& node, const Tensor& grad) -> TensorList {
                   Tensor gs;
                   if (node.needs_input_grad(1))
                       gs = fit_to_src(gather(grad, d, node.saved(0)), src_shape);
                   return {node.needs_input_grad(0) ? grad : Tensor(), gs};
               });
    }
    return out;
}

Tensor index_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
    const char* op = "index_add";
    check_defined(op, x);
    check_index_dtype(op, index);
    check_same_dtype(op, x, src);
    if (index.dim() > 1) raise<IndexError>(op, "index must be 0-d or 1-d, got ", describe(index));
    const Shape xs = nonempty(x.shape());
    const Shape ss = nonempty(src.shape());
    const std::int64_t d = normalize_axis(dim, static_cast<std::int64_t>(xs.size()), op);
    const std::int64_t n = index.numel();
    if (ss.size() != xs.size())
        raise<ShapeError>(op, "src must have as many dimensions as the input, got src ",
                          describe(src), " and input ", describe(x));
    if (ss[d] != n)
        raise<ShapeError>(op, "src ", shape_str(src.shape()), " has size ", std::to_string(ss[d]),
                          " in dimension ", std::to_string(d), " but index has ", std::to_string(n),
                          " elements");
    for (std::size_t k = 0; k < xs.size(); ++k)
        if (static_cast<std::int64_t>(k) != d && ss[k] != xs[k])
            raise<ShapeError>(op, "src ", shape_str(src.shape()), " must match the input ",
                              shape_str(x.shape()), " in every dimension but ", std::to_string(d),
                              " (they differ in dimension ", std::to_string(k), ")");
    kernels::check_index_bounds(op, index, xs[d], d);

    Tensor out = kernels::copy_of(x);
    kernels::index_add(op, out, kernels::split3(xs, d), index, src);

    if (should_record({&x, &src})) {
        Shape src_shape = src.shape();
        const bool scalar_input = x.dim() == 0;
        record("IndexAddBackward", out, {x, src}, {index},
               [src_shape, d, scalar_input](Node& node, const Tensor& grad) -> TensorList {
                   Tensor gs;
                   if (node.needs_input_grad(1)) {
                       const Tensor g1 = scalar_input ? reshape(grad, {1}) : grad;
                       gs = index_select(g1, d, node.saved(0));
                       if (gs.shape() != src_shape) gs = reshape(gs, src_shape);
                   }
                   return {node.needs_input_grad(0) ? grad : Tensor(), gs};
               });
    }
    return out;
}

Tensor Tensor::index_select(std::int64_t dim, const Tensor& index) const {
    return xgrad::index_select(*this, dim, index);
}
Tensor Tensor::gather(std::int64_t dim, const Tensor& index) const {
    return xgrad::gather(*this, dim, index);
}

}  // namespace xgrad
