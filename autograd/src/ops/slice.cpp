// slice / narrow / select, and their adjoint (placing a gradient back into zeros), which is an
// op of its own so that second derivatives pass through it.
#include <cstring>

#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

struct SliceGeometry {
    std::int64_t outer = 1, size = 0, inner = 1;  // x viewed as [outer, size, inner]
    std::int64_t start = 0, step = 1, length = 0;
};

SliceGeometry geometry(const Shape& s, std::int64_t d, std::int64_t start, std::int64_t step,
                       std::int64_t length) {
    SliceGeometry g;
    for (std::int64_t i = 0; i < d; ++i) g.outer *= s[i];
    g.size = s[d];
    for (std::size_t i = d + 1; i < s.size(); ++i) g.inner *= s[i];
    g.start = start;
    g.step = step;
    g.length = length;
    return g;
}

// Copies the selected rows of src ([outer, size, inner]) into dst ([outer, length, inner]), or
// the reverse when `scatter` is set.
void copy_rows(const SliceGeometry& g, std::size_t elem, const char* src, char* dst, bool scatter) {
    const std::size_t row = static_cast<std::size_t>(g.inner) * elem;
    for (std::int64_t o = 0; o < g.outer; ++o)
        for (std::int64_t i = 0; i < g.length; ++i) {
            const std::int64_t full = (o * g.size + g.start + i * g.step);
            const std::int64_t part = (o * g.length + i);
            if (scatter)
                std::memcpy(dst + full * row, src + part * row, row);
            else
                std::memcpy(dst + part * row, src + full * row, row);
        }
}

// The adjoint of slice: a tensor of `full_shape` that is zero except for `g` at the slice.
Tensor unslice(const Tensor& g, const Shape& full_shape, std::int64_t d, std::int64_t start,
               std::int64_t step) {
    Tensor out = zeros(full_shape, TensorOptions{g.dtype()});
    const SliceGeometry geo = geometry(full_shape, d, start, step, g.shape()[d]);
    copy_rows(geo, dtype_size(g.dtype()), static_cast<const char*>(g.impl()->data()),
              static_cast<char*>(out.impl()->data()), true);
    if (should_record({&g})) {
        // One past the last selected index (start + length * step could pass INT64_MAX).
        const std::int64_t end = geo.length > 0 ? start + (geo.length - 1) * step + 1 : start;
        record("UnsliceBackward", out, {g}, {}, [d, start, end, step](Node&, const Tensor& gg) {
            return TensorList{slice(gg, d, start, end, step)};
        });
    }
    return out;
}

}  // namespace

Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step) {
    check_defined("slice", x);
    if (x.dim() == 0) raise<IndexError>("slice", "cannot slice a 0-d tensor");
    if (step < 1) raise<ValueError>("slice", "step must be positive, got ", std::to_string(step));
    const std::int64_t d = normalize_axis(dim, x.dim(), "slice");
    const std::int64_t size = x.shape()[d];
    auto clip = [size](std::int64_t v) {
        if (v < 0) v += size;
        return v < 0 ? 0 : (v > size ? size : v);
    };
    start = clip(start);
    end = clip(end);
    // ceil((end - start) / step), written so a huge step cannot overflow.
    const std::int64_t length = end > start ? (end - start - 1) / step + 1 : 0;
    Shape out_shape = x.shape();
    out_shape[d] = length;
    Tensor out = make_tensor(out_shape, x.dtype());
    copy_rows(geometry(x.shape(), d, start, step, length), dtype_size(x.dtype()),
              static_cast<const char*>(x.impl()->data()), static_cast<char*>(out.impl()->data()),
              false);
    if (should_record({&x})) {
        Shape in_shape = x.shape();
        record("SliceBackward", out, {x}, {}, [in_shape, d, start, step](Node&, const Tensor& g) {
            return TensorList{unslice(g, in_shape, d, start, step)};
        });
    }
    return out;
}

Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
    check_defined("narrow", x);
    if (x.dim() == 0) raise<IndexError>("narrow", "cannot narrow a 0-d tensor");
    const std::int64_t d = normalize_axis(dim, x.dim(), "narrow");
    const std::int64_t size = x.shape()[d];
    if (start < 0) start += size;
    if (start < 0 || start > size || length < 0 || length > size - start)
        raise<IndexError>("narrow", "start ", std::to_string(start), " and length ",
                          std::to_string(length), " do not fit dimension ", std::to_string(d),
                          " of shape ", shape_str(x.shape()));
    return slice(x, d, start, start + length, 1);
}

Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index) {
    check_defined("select", x);
    if (x.dim() == 0) raise<IndexError>("select", "cannot select from a 0-d tensor");
    const std::int64_t d = normalize_axis(dim, x.dim(), "select");
    const std::int64_t size = x.shape()[d];
    if (index < -size || index >= size)
        raise<IndexError>("select", "index ", std::to_string(index),
                          " is out of range for dimension ", std::to_string(d), " of shape ",
                          shape_str(x.shape()));
    if (index < 0) index += size;
    return squeeze(slice(x, d, index, index + 1, 1), d);
}

Tensor Tensor::narrow(std::int64_t d, std::int64_t s, std::int64_t l) const {
    return xgrad::narrow(*this, d, s, l);
}
Tensor Tensor::select(std::int64_t d, std::int64_t i) const {
    return xgrad::select(*this, d, i);
}

}  // namespace xgrad
