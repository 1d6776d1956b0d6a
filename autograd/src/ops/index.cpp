// Python-style indexing (x.index({Slice(0, 2), 1, None, Ellipsis}) is x[0:2, 1, None, ...]),
// index_put_, masked_fill and tril / triu. Every differentiable result is composed from
// differentiable ops (slice, select, unsqueeze, reshape, index_select, where), so gradients of
// any order come from those ops' rules.
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/dispatch.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

std::int64_t dims_consumed(const TensorIndex& i) {
    switch (i.kind()) {
        case TensorIndex::Kind::integer:
        case TensorIndex::Kind::slice:
            return 1;
        case TensorIndex::Kind::tensor:
            return i.tensor().dtype() == Dtype::b8 ? i.tensor().dim() : 1;
        default:
            return 0;
    }
}

// y indexed along dim p by the int64 tensor idx (negative entries count from the end): the dim
// is replaced by idx's dims, as PyTorch's advanced indexing with one index tensor.
Tensor take_along(const char* op, const Tensor& y, std::int64_t p, const Tensor& idx,
                  std::int64_t src_dim) {
    const std::int64_t size = y.shape()[static_cast<std::size_t>(p)];
    std::vector<std::int64_t> flat = idx.to_vector<std::int64_t>();
    for (std::int64_t& v : flat) {
        if (v < -size || v >= size)
            raise<IndexError>(op, "index ", v, " is out of range for dimension ", src_dim,
                              " with size ", size);
        if (v < 0) v += size;
    }
    const Tensor picked = index_select(y, p, tensor(flat, Shape{idx.numel()}));
    Shape shape(y.shape().begin(), y.shape().begin() + p);
    shape.insert(shape.end(), idx.shape().begin(), idx.shape().end());
    shape.insert(shape.end(), y.shape().begin() + p + 1, y.shape().end());
    return reshape(picked, shape);
}

// y's dims p .. p + mask.dim() - 1 replaced by one dim holding the elements where mask is true
// (in row-major order).
Tensor take_masked(const char* op, const Tensor& y, std::int64_t p, const Tensor& mask,
                   std::int64_t src_dim) {
    const Shape& ys = y.shape();
    const auto m = static_cast<std::size_t>(mask.dim());
    const auto q = static_cast<std::size_t>(p);
    if (!std::equal(mask.shape().begin(), mask.shape().end(), ys.begin() + p))
        raise<IndexError>(op, "the shape of the mask ", shape_str(mask.shape()),
                          " does not match the shape ",
                          shape_str(Shape(ys.begin() + p, ys.begin() + p + m)),
                          " of the indexed tensor at dimension ", src_dim);
    const std::vector<bool> keep = mask.to_vector<bool>();
    std::vector<std::int64_t> positions;
    for (std::size_t i = 0; i < keep.size(); ++i)
        if (keep[i]) positions.push_back(static_cast<std::int64_t>(i));
    Shape flat(ys.begin(), ys.begin() + p);
    flat.push_back(mask.numel());
    flat.insert(flat.end(), ys.begin() + q + m, ys.end());
    const Tensor yf = m == 0 ? unsqueeze(y, p) : reshape(y, flat);
    const auto n = static_cast<std::int64_t>(positions.size());
    return index_select(yf, p, tensor(positions, Shape{n}, TensorOptions{Dtype::i64}));
}

Tensor index_impl(const char* op, const Tensor& x, const std::vector<TensorIndex>& indices) {
    check_defined(op, x);
    std::int64_t consumed = 0, ellipses = 0, tensors = 0;
    for (const TensorIndex& i : indices) {
        consumed += dims_consumed(i);
        if (i.kind() == TensorIndex::Kind::ellipsis) ++ellipses;
        if (i.kind() == TensorIndex::Kind::tensor) {
            ++tensors;
            check_defined(op, i.tensor());
            if (i.tensor().dtype() != Dtype::i64 && i.tensor().dtype() != Dtype::b8)
                raise<DtypeError>(op, "tensors used as indices must be int64 or bool, got ",
                                  describe(i.tensor()));
        }
    }
    if (ellipses > 1) raise<IndexError>(op, "an index can only have a single ellipsis (...)");
    if (tensors > 1)
        raise<IndexError>(op, "only one index tensor or mask per call is supported, got ", tensors,
                          " (index in two steps)");
    if (consumed > x.dim())
        raise<IndexError>(op, "too many indices for a tensor of dimension ", x.dim(), " (",
                          consumed, " dims indexed, input ", describe(x), ")");
    Tensor y = x;
    std::int64_t p = 0;        // the dim of y the next entry applies to
    std::int64_t src_dim = 0;  // the dim of x it came from (for messages)
    for (const TensorIndex& i : indices) {
        switch (i.kind()) {
            case TensorIndex::Kind::integer: {
                const std::int64_t size = y.shape()[static_cast<std::size_t>(p)];
                const std::int64_t k = i.integer();
                if (k < -size || k >= size)
                    raise<IndexError>(op, "index ", k, " is out of range for dimension ", src_dim,
                                      " with size ", size, " (input ", describe(x), ")");
                y = select(y, p, k);
                ++src_dim;
                break;
            }
            case TensorIndex::Kind::slice: {
                const indexing::Slice& s = i.slice();
                const std::int64_t step = s.step.value_or(1);
                if (step <= 0)
                    raise<ValueError>(op, "slice step must be positive, got ", step, " (dimension ",
                                      src_dim, " of ", describe(x), ")");
                y = slice(y, p, s.start.value_or(0),
                          s.stop.value_or(std::numeric_limits<std::int64_t>::max()), step);
                ++p;
                ++src_dim;
                break;
            }
            case TensorIndex::Kind::none:
                y = unsqueeze(y, p);
                ++p;
                break;
            case TensorIndex::Kind::ellipsis: {
                const std::int64_t skip = x.dim() - consumed;
                p += skip;
                src_dim += skip;
                break;
            }
            case TensorIndex::Kind::tensor: {
                const Tensor& t = i.tensor();
                if (t.dtype() == Dtype::b8) {
                    y = take_masked(op, y, p, t, src_dim);
                    ++p;
                    src_dim += t.dim();
                } else {
                    y = take_along(op, y, p, t, src_dim);
                    p += t.dim();
                    ++src_dim;
                }
                break;
            }
        }
    }
    return y;
}

void check_mask(const char* op, const Tensor& x, const Tensor& mask) {
    check_defined(op, x);
    check_defined(op, mask);
    if (mask.dtype() != Dtype::b8)
        raise<DtypeError>(op, "mask must be a bool tensor, got ", describe(mask));
    if (broadcast_shapes(x.shape(), mask.shape(), op) != x.shape())
        raise<ShapeError>(op, "mask ", shape_str(mask.shape()),
                          " must broadcast to the input's shape ", shape_str(x.shape()));
}

Tensor triangle(const char* op, const Tensor& x, std::int64_t diagonal, bool lower) {
    check_defined(op, x);
    if (x.dim() < 2)
        raise<ShapeError>(op, "needs a tensor of at least 2 dimensions, got ", describe(x));
    const std::int64_t rows = x.shape()[x.shape().size() - 2], cols = x.shape().back();
    std::vector<bool> keep(static_cast<std::size_t>(rows * cols));
    for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t j = 0; j < cols; ++j)
            keep[static_cast<std::size_t>(i * cols + j)] =
                lower ? j - i <= diagonal : j - i >= diagonal;
    Tensor mask = make_tensor({rows, cols}, Dtype::b8);
    std::copy(keep.begin(), keep.end(), mask.data_ptr<bool>());
    return where(mask, x, scalar_like(0.0, x, op));
}

}  // namespace

Tensor index(const Tensor& x, const std::vector<TensorIndex>& indices) {
    return index_impl("index", x, indices);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
    check_mask("masked_fill", x, mask);
    return where(mask, scalar_like(value, x, "masked_fill"), x);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
    check_mask("masked_fill", x, mask);
    check_same_dtype("masked_fill", x, value);
    if (value.dim() != 0)
        raise<ShapeError>("masked_fill", "the value must be a 0-d tensor, got ", describe(value));
    return where(mask, value, x);
}

Tensor tril(const Tensor& x, std::int64_t diagonal) {
    return triangle("tril", x, diagonal, true);
}
Tensor triu(const Tensor& x, std::int64_t diagonal) {
    return triangle("triu", x, diagonal, false);
}

Tensor Tensor::index(const std::vector<TensorIndex>& indices) const {
    return xgrad::index(*this, indices);
}

Tensor& Tensor::index_put_(const std::vector<TensorIndex>& indices, const Tensor& values) {
    const char* op = "index_put_";
    check_defined(op, *this);
    check_defined(op, values);
    if (GradMode::is_enabled() && requires_grad())
        raise<AutogradError>(op, "in-place write to a tensor that requires grad (shape ",
                             shape_str(shape()),
                             "); wrap it in NoGradGuard (e.g. for a parameter update)");
    check_same_dtype(op, *this, values);
    NoGradGuard no_grad;
    // The flat position of every indexed element: the same indexing applied to 0, 1, 2, ...
    const Tensor positions = index_impl(op, arange(numel()).reshape(shape()), indices);
    if (broadcast_shapes(values.shape(), positions.shape(), op) != positions.shape())
        raise<ShapeError>(op, "values of shape ", shape_str(values.shape()),
                          " cannot be broadcast to the indexed shape ",
                          shape_str(positions.shape()));
    // A fresh contiguous copy: also safe when values share this tensor's storage.
    const Tensor v = xgrad::expand(values, positions.shape()).clone();
    const std::int64_t* pos = positions.data_ptr<std::int64_t>();
    kernels::dispatch_all(dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* out = data_ptr<T>();
        const T* in = v.data_ptr<T>();
        for (std::int64_t k = 0; k < positions.numel(); ++k) out[pos[k]] = in[k];
    });
    bump_version();
    return *this;
}

Tensor& Tensor::index_put_(const std::vector<TensorIndex>& indices, double value) {
    check_defined("index_put_", *this);
    return index_put_(indices, scalar_like(value, *this, "index_put_"));
}

Tensor Tensor::masked_fill(const Tensor& mask, double value) const {
    return xgrad::masked_fill(*this, mask, value);
}
Tensor Tensor::masked_fill(const Tensor& mask, const Tensor& value) const {
    return xgrad::masked_fill(*this, mask, value);
}
Tensor Tensor::tril(std::int64_t diagonal) const {
    return xgrad::tril(*this, diagonal);
}
Tensor Tensor::triu(std::int64_t diagonal) const {
    return xgrad::triu(*this, diagonal);
}

}  // namespace xgrad
