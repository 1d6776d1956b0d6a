// Shape ops. reshape/view/flatten/squeeze/unsqueeze share storage (no copy); the others copy.
#pragma once
#include <optional>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// One entry of `shape` may be -1 (inferred).
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor view(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
// Removes dim (if it has size 1), or every size-1 dim when none is given.
Tensor squeeze(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt);
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1);
Tensor t(const Tensor& x);  // transpose of a matrix (0-d and 1-d tensors unchanged)
Tensor permute(const Tensor& x, const Axes& dims);
// Broadcasts to `shape` (-1 keeps a dim); the gradient is summed back.
Tensor expand(const Tensor& x, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
// Sums `x` down to `shape` (the reverse of broadcasting); the gradient is expanded back.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace xgrad
