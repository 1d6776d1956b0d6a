// Selecting, gathering, scattering, joining and padding.
#pragma once
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// Elements start, start+step, ... below end along dim (negative start/end count from the end,
// and are clamped to the size as in Python slicing). step >= 1.
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step = 1);
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length);
// Index `index` along dim, removing that dim.
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index);
// Rows (along dim) listed by a 1-D int64 index, in order, repeats allowed.
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
// out[i][j] = x[index[i][j]][j] for dim 0 (and so on), as torch.gather.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
// x with src added at the positions index names along dim, as torch.scatter_add.
Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);
// x with rows of src added at the rows index lists along dim, as torch.index_add.
Tensor index_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);
Tensor concat(const TensorList& tensors, std::int64_t dim = 0);
Tensor cat(const TensorList& tensors, std::int64_t dim = 0);
Tensor stack(const TensorList& tensors, std::int64_t dim = 0);
// Pieces of `size` along dim (the last may be smaller).
TensorList split(const Tensor& x, std::int64_t size, std::int64_t dim = 0);
// Constant padding as torch.nn.functional.pad: pads = {last_left, last_right, prev_left, ...}.
// Negative pads crop.
Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, double value = 0.0);

// x[indices] as in Python (see Tensor::index): integers, Slice, None, Ellipsis, int64 index
// tensors and bool masks. Differentiable (built on slice, select, unsqueeze, permute, reshape
// and index_select).
Tensor index(const Tensor& x, const std::vector<TensorIndex>& indices);
// value where mask (bool, broadcast to x's shape) is true, x elsewhere; the gradient reaches x
// where mask is false (and a tensor value, 0-d, where it is true).
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value);
// Lower / upper triangle of the last two dims: elements with j - i <= diagonal (tril) or
// j - i >= diagonal (triu) are kept, the others are zero.
Tensor tril(const Tensor& x, std::int64_t diagonal = 0);
Tensor triu(const Tensor& x, std::int64_t diagonal = 0);
// Sorted along dim, with the int64 positions the values came from. Always stable (equal values
// keep their order); NaN counts as larger than every number, as in PyTorch. `stable` is
// accepted for PyTorch's signature. Values are differentiable (a gather).
ValuesIndices sort(const Tensor& x, std::int64_t dim = -1, bool descending = false,
                   bool stable = false);
Tensor argsort(const Tensor& x, std::int64_t dim = -1, bool descending = false);
// The k largest (or smallest) values along dim and their indices; 0 <= k <= size. sorted =
// false is accepted and gives them sorted too.
ValuesIndices topk(const Tensor& x, std::int64_t k, std::int64_t dim = -1, bool largest = true,
                   bool sorted = true);

}  // namespace xgrad
