// index_select / gather / scatter_add / index_add, with PyTorch semantics. The four are each
// other's adjoints (index_select <-> index_add, gather <-> scatter_add), so every backward rule
// is one of these ops and second derivatives pass through them.
//
// As in PyTorch, a 0-d tensor is treated as a 1-d tensor of one element for the shape rules
// (dim must then be 0 or -1), and the result keeps the 0-d shape where PyTorch keeps it.
#include <cstring>

#include "kernels/dispatch.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

// The shape used for the shape rules: a 0-d tensor counts as [1].
Shape nonempty(const Shape& s) {
    return s.empty() ? Shape{1} : s;
}

// Every index must lie in [0, size) (negative indices are rejected, as PyTorch does).
void check_bounds(const char* op, const Tensor& index, std::int64_t size, std::int64_t d) {
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    const std::int64_t n = index.numel();
    for (std::int64_t i = 0; i < n; ++i)
        if (idx[i] < 0 || idx[i] >= size)
            raise<IndexError>(op, "index ", std::to_string(idx[i]),
                              " is out of bounds for dimension ", std::to_string(d), " with size ",
                              std::to_string(size));
}

// x viewed as [outer, size, inner] around dimension d.
struct Split3 {
    std::int64_t outer = 1, size = 1, inner = 1;
};

Split3 split3(const Shape& s, std::int64_t d) {
    Split3 r;
    for (std::int64_t k = 0; k < d; ++k) r.outer *= s[k];
    r.size = s[d];
    for (std::size_t k = static_cast<std::size_t>(d) + 1; k < s.size(); ++k) r.inner *= s[k];
    return r;
}

// Visits every element of a tensor of `shape` in row-major order, calling f(i, a, b) with its
// linear position i and its offsets a and b under the strides sa and sb.
template <class F>
void walk(const Shape& shape, const Shape& sa, const Shape& sb, F&& f) {
    const std::int64_t n = shape_numel(shape);
    std::vector<std::int64_t> coord(shape.size(), 0);
    std::int64_t a = 0, b = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        f(i, a, b);
        for (std::size_t k = shape.size(); k-- > 0;) {
            if (++coord[k] < shape[k]) {
                a += sa[k];
                b += sb[k];
                break;
            }
            a -= (shape[k] - 1) * sa[k];
            b -= (shape[k] - 1) * sb[k];
            coord[k] = 0;
        }
    }
}

// A copy of x's data (the starting point of the additive ops).
Tensor copy_of(const Tensor& x) {
    Tensor out = make_tensor(x.shape(), x.dtype());
    std::memcpy(out.impl()->data(), x.impl()->data(),
                static_cast<std::size_t>(x.numel()) * dtype_size(x.dtype()));
    return out;
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
    check_bounds(op, index, xs[d], d);

    Shape out_shape = x.shape();
    if (x.dim() > 0) out_shape[d] = n;
    Tensor out = make_tensor(out_shape, x.dtype());
    const Split3 g = split3(xs, d);
    const std::size_t row = static_cast<std::size_t>(g.inner) * dtype_size(x.dtype());
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    const char* src = static_cast<const char*>(x.impl()->data());
    char* dst = static_cast<char*>(out.impl()->data());
    for (std::int64_t o = 0; o < g.outer; ++o)
        for (std::int64_t i = 0; i < n; ++i)
            std::memcpy(dst + (o * n + i) * row, src + (o * g.size + idx[i]) * row, row);

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
    check_bounds(op, index, xs[d], d);

    Tensor out = make_tensor(index.shape(), x.dtype());
    Shape x_strides = contiguous_strides(xs);
    const std::int64_t step = x_strides[d];
    x_strides[d] = 0;  // the index supplies the position along d
    const Shape none(xs.size(), 0);
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    kernels::dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* xp = x.data_ptr<T>();
        T* o = out.data_ptr<T>();
        walk(nonempty(index.shape()), x_strides, none,
             [&](std::int64_t i, std::int64_t a, std::int64_t) { o[i] = xp[a + idx[i] * step]; });
    });

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
    check_bounds(op, index, xs[d], d);

    Tensor out = copy_of(x);
    Shape x_strides = contiguous_strides(xs);
    const std::int64_t step = x_strides[d];
    x_strides[d] = 0;
    const Shape s_strides = contiguous_strides(ss);
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    kernels::dispatch_numeric(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* sp = src.data_ptr<T>();
        T* o = out.data_ptr<T>();
        walk(is, x_strides, s_strides, [&](std::int64_t i, std::int64_t a, std::int64_t b) {
            o[a + idx[i] * step] += sp[b];
        });
    });

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
    check_bounds(op, index, xs[d], d);

    Tensor out = copy_of(x);
    const Split3 g = split3(xs, d);
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    kernels::dispatch_numeric(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* sp = src.data_ptr<T>();
        T* o = out.data_ptr<T>();
        for (std::int64_t a = 0; a < g.outer; ++a)
            for (std::int64_t i = 0; i < n; ++i) {
                T* orow = o + (a * g.size + idx[i]) * g.inner;
                const T* srow = sp + (a * n + i) * g.inner;
                for (std::int64_t j = 0; j < g.inner; ++j) orow[j] += srow[j];
            }
    });

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
