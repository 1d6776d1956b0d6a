// Indexing kernels (kernels/gather_scatter.hpp).
#include "kernels/gather_scatter.hpp"

#include <cstring>
#include <string>
#include <vector>

#include <xgrad/core/check.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor_impl.hpp>

#include "kernels/dispatch.hpp"

namespace xgrad::kernels {

namespace {

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

}  // namespace

// Every index must lie in [0, size) (negative indices are rejected, as PyTorch does).
void check_index_bounds(const char* op, const Tensor& index, std::int64_t size, std::int64_t d) {
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    const std::int64_t n = index.numel();
    for (std::int64_t i = 0; i < n; ++i)
        if (idx[i] < 0 || idx[i] >= size)
            raise<IndexError>(op, "index ", std::to_string(idx[i]),
                              " is out of bounds for dimension ", std::to_string(d), " with size ",
                              std::to_string(size));
}

Split3 split3(const Shape& s, std::int64_t d) {
    Split3 r;
    for (std::int64_t k = 0; k < d; ++k) r.outer *= s[k];
    r.size = s[d];
    for (std::size_t k = static_cast<std::size_t>(d) + 1; k < s.size(); ++k) r.inner *= s[k];
    return r;
}

void index_select(const Tensor& x, const Split3& g, const Tensor& index, Tensor& out) {
    const std::int64_t n = index.numel();
    const std::size_t row = static_cast<std::size_t>(g.inner) * dtype_size(x.dtype());
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    const char* src = static_cast<const char*>(x.impl()->data());
    char* dst = static_cast<char*>(out.impl()->data());
    for (std::int64_t o = 0; o < g.outer; ++o)
        for (std::int64_t i = 0; i < n; ++i)
            std::memcpy(dst + (o * n + i) * row, src + (o * g.size + idx[i]) * row, row);
}

void gather(const Tensor& x, const Shape& x_shape, std::int64_t d, const Tensor& index,
            const Shape& index_shape, Tensor& out) {
    Shape x_strides = contiguous_strides(x_shape);
    const std::int64_t step = x_strides[static_cast<std::size_t>(d)];
    x_strides[static_cast<std::size_t>(d)] = 0;  // the index supplies the position along d
    const Shape none(x_shape.size(), 0);
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* xp = x.data_ptr<T>();
        T* o = out.data_ptr<T>();
        walk(index_shape, x_strides, none,
             [&](std::int64_t i, std::int64_t a, std::int64_t) { o[i] = xp[a + idx[i] * step]; });
    });
}

void scatter_add(const char* op, Tensor& out, const Shape& out_shape, std::int64_t d,
                 const Tensor& index, const Shape& index_shape, const Tensor& src,
                 const Shape& src_shape) {
    Shape x_strides = contiguous_strides(out_shape);
    const std::int64_t step = x_strides[static_cast<std::size_t>(d)];
    x_strides[static_cast<std::size_t>(d)] = 0;
    const Shape s_strides = contiguous_strides(src_shape);
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    dispatch_numeric(out.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* sp = src.data_ptr<T>();
        T* o = out.data_ptr<T>();
        walk(
            index_shape, x_strides, s_strides,
            [&](std::int64_t i, std::int64_t a, std::int64_t b) { o[a + idx[i] * step] += sp[b]; });
    });
}

void index_add(const char* op, Tensor& out, const Split3& g, const Tensor& index,
               const Tensor& src) {
    const std::int64_t n = index.numel();
    const std::int64_t* idx = index.data_ptr<std::int64_t>();
    dispatch_numeric(out.dtype(), op, [&](auto tag) {
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
}

Tensor copy_of(const Tensor& x) {
    Tensor out = make_tensor(x.shape(), x.dtype());
    std::memcpy(out.impl()->data(), x.impl()->data(),
                static_cast<std::size_t>(x.numel()) * dtype_size(x.dtype()));
    return out;
}

}  // namespace xgrad::kernels
