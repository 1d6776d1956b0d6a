// Python-style indexing (x.index({Slice(0, 2), 1, None, Ellipsis}) is x[0:2, 1, None, ...]),
// index_put_, masked_fill and tril / triu. Every differentiable result is composed from
// differentiable ops (slice, select, unsqueeze, reshape, index_select, where), so gradients of
// any order come from those ops' rules.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
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

// Basic entries (integers, slices, None, Ellipsis) are applied first, one dim at a time; each
// index tensor keeps its dim and is remembered. A bool mask of m dims stands for m int64
// tensors (the coordinates of its trues), a 0-d mask for a new dim indexed by [0] or [].
// Then, as PyTorch's advanced indexing: the index tensors broadcast together to a shape B,
// the indexed dims are moved to the front and flattened into one, index_select picks the
// elements at the linear positions, and B takes the place of the indexed dims (where the first
// of them was, if they were adjacent; at the front otherwise).
struct Advanced {
    std::int64_t pos;  // the dim of the intermediate result it indexes
    Tensor index;      // int64
    std::int64_t src_dim;
};

Tensor index_impl(const char* op, const Tensor& x, const std::vector<TensorIndex>& indices) {
    check_defined(op, x);
    std::int64_t consumed = 0, ellipses = 0;
    for (const TensorIndex& i : indices) {
        if (i.kind() == TensorIndex::Kind::tensor) {
            check_defined(op, i.tensor());
            if (i.tensor().dtype() != Dtype::i64 && i.tensor().dtype() != Dtype::b8)
                raise<DtypeError>(op, "tensors used as indices must be int64 or bool, got ",
                                  describe(i.tensor()));
        }
        consumed += dims_consumed(i);
        if (i.kind() == TensorIndex::Kind::ellipsis) ++ellipses;
    }
    if (ellipses > 1) raise<IndexError>(op, "an index can only have a single ellipsis (...)");
    if (consumed > x.dim())
        raise<IndexError>(op, "too many indices for a tensor of dimension ", x.dim(), " (",
                          consumed, " dims indexed, input ", describe(x), ")");
    Tensor y = x;
    std::int64_t p = 0;        // the dim of y the next entry applies to
    std::int64_t src_dim = 0;  // the dim of x it came from (for messages)
    std::vector<Advanced> adv;
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
                if (t.dtype() == Dtype::i64) {
                    adv.push_back({p++, t, src_dim++});
                    break;
                }
                const Shape& ys = y.shape();
                const auto m = static_cast<std::size_t>(t.dim());
                if (!std::equal(t.shape().begin(), t.shape().end(), ys.begin() + p))
                    raise<IndexError>(op, "the shape of the mask ", shape_str(t.shape()),
                                      " does not match the shape ",
                                      shape_str(Shape(ys.begin() + p, ys.begin() + p + m)),
                                      " of the indexed tensor at dimension ", src_dim, " (input ",
                                      describe(x), ")");
                // The coordinates of the trues, one int64 tensor per mask dim.
                const std::vector<bool> keep = t.to_vector<bool>();
                std::vector<std::vector<std::int64_t>> coords(std::max<std::size_t>(m, 1));
                const Shape strides = contiguous_strides(t.shape());
                for (std::size_t e = 0; e < keep.size(); ++e) {
                    if (!keep[e]) continue;
                    auto rest = static_cast<std::int64_t>(e);
                    for (std::size_t d = 0; d < m; ++d) {
                        coords[d].push_back(rest / strides[d]);
                        rest %= strides[d];
                    }
                    if (m == 0) coords[0].push_back(0);
                }
                if (m == 0) y = unsqueeze(y, p);  // a 0-d mask indexes a new dim of size 1
                for (std::size_t d = 0; d < coords.size(); ++d) {
                    const auto n = static_cast<std::int64_t>(coords[d].size());
                    adv.push_back(
                        {p++, tensor(coords[d], Shape{n}, TensorOptions{Dtype::i64}), src_dim});
                    if (m > 0) ++src_dim;
                }
                break;
            }
        }
    }
    if (adv.empty()) return y;

    // The index tensors broadcast together.
    Shape bshape = adv[0].index.shape();
    for (std::size_t k = 1; k < adv.size(); ++k) {
        try {
            bshape = broadcast_shapes(bshape, adv[k].index.shape(), op);
        } catch (const ShapeError&) {
            std::string shapes;
            for (const Advanced& a : adv)
                shapes += (shapes.empty() ? "" : ", ") + shape_str(a.index.shape());
            raise<IndexError>(op, "the index tensors cannot be broadcast together (shapes ", shapes,
                              ")");
        }
    }
    // Linear positions into the indexed dims (row-major over them), negative indices wrapped.
    const Shape& ys = y.shape();
    const std::int64_t count = shape_numel(bshape);
    std::vector<std::int64_t> linear(static_cast<std::size_t>(count), 0);
    std::int64_t flat = 1;
    for (std::size_t k = adv.size(); k-- > 0;) {
        const std::int64_t size = ys[static_cast<std::size_t>(adv[k].pos)];
        const std::vector<std::int64_t> v =
            adv[k].index.shape() == bshape ? adv[k].index.to_vector<std::int64_t>()
                                           : expand(adv[k].index, bshape).to_vector<std::int64_t>();
        for (std::size_t e = 0; e < v.size(); ++e) {
            std::int64_t i = v[e];
            if (i < -size || i >= size)
                raise<IndexError>(op, "index ", i, " is out of range for dimension ",
                                  adv[k].src_dim, " with size ", size, " (input ", describe(x),
                                  ")");
            if (i < 0) i += size;
            linear[e] += i * flat;
        }
        flat *= size;
    }
    // Indexed dims first, flattened into one; pick; B in their place.
    Axes perm, others;
    Shape rest;
    bool adjacent = true;
    for (std::size_t k = 0; k < adv.size(); ++k) {
        perm.push_back(adv[k].pos);
        if (k > 0 && adv[k].pos != adv[k - 1].pos + 1) adjacent = false;
    }
    for (std::int64_t d = 0; d < y.dim(); ++d)
        if (std::find(perm.begin(), perm.end(), d) == perm.end()) {
            perm.push_back(d);
            rest.push_back(ys[static_cast<std::size_t>(d)]);
        }
    Shape folded{flat};
    folded.insert(folded.end(), rest.begin(), rest.end());
    const Tensor picked =
        index_select(reshape(permute(y, perm), folded), 0, tensor(linear, Shape{count}));
    Shape out_shape = bshape;
    out_shape.insert(out_shape.end(), rest.begin(), rest.end());
    Tensor out = reshape(picked, out_shape);
    const std::int64_t first = adv[0].pos;
    if (!adjacent || first == 0) return out;
    // Adjacent indexed dims: B goes where the first of them was.
    const auto nb = static_cast<std::int64_t>(bshape.size());
    Axes back;
    for (std::int64_t d = 0; d < first; ++d) back.push_back(nb + d);
    for (std::int64_t d = 0; d < nb; ++d) back.push_back(d);
    for (std::int64_t d = nb + first; d < out.dim(); ++d) back.push_back(d);
    return permute(out, back);
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
