// The indexing kernels of index_select / gather / scatter_add / index_add (contiguous tensors;
// index int64). The ops check shapes and dtypes first; a 0-d tensor is passed as shape [1].
#pragma once
#include <cstdint>

#include <xgrad/core/shape.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::kernels {

// Throws IndexError naming `op` unless every index lies in [0, size) (size of dimension d).
void check_index_bounds(const char* op, const Tensor& index, std::int64_t size, std::int64_t d);

// A tensor viewed as [outer, size, inner] around one dimension.
struct Split3 {
    std::int64_t outer = 1, size = 1, inner = 1;
};
Split3 split3(const Shape& s, std::int64_t d);

// out[o, i, :] = x[o, index[i], :] with x viewed as g = [outer, size, inner]; out is
// [outer, index.numel(), inner]. Any dtype.
void index_select(const Tensor& x, const Split3& g, const Tensor& index, Tensor& out);

// out[..., k, ...] = x[..., index[..., k, ...], ...] along dim d; x_shape is x's shape, index
// and out have index_shape. Any dtype.
void gather(const Tensor& x, const Shape& x_shape, std::int64_t d, const Tensor& index,
            const Shape& index_shape, Tensor& out);

// out[..., index[..., k, ...], ...] += src[..., k, ...] along dim d, for every position of
// index; out (shape out_shape) already holds the input. src has src_shape, at least as large
// as index_shape. Numeric dtypes; others throw DtypeError naming `op`.
void scatter_add(const char* op, Tensor& out, const Shape& out_shape, std::int64_t d,
                 const Tensor& index, const Shape& index_shape, const Tensor& src,
                 const Shape& src_shape);

// out[o, index[i], :] += src[o, i, :] with out viewed as g = [outer, size, inner]; out already
// holds the input. Numeric dtypes; others throw DtypeError naming `op`.
void index_add(const char* op, Tensor& out, const Split3& g, const Tensor& index,
               const Tensor& src);

// A copy of x's data (the starting point of the additive ops).
Tensor copy_of(const Tensor& x);

}  // namespace xgrad::kernels
