// max-pool kernels over batched [N, C, H, W] images, float32 and float64, with the semantics of
// a max over the unfolded blocks (autograd/src/ops/max_pool.cpp has the op):
// - padding never wins (it counts as -inf; a block that lies wholly in the padding gives -inf);
// - a NaN in a block makes its result NaN, and its ties are its NaNs;
// - `ties` counts the entries of each block equal to its result, so that the gradient can be
//   shared evenly among them.
#pragma once
#include <xgrad/core/tensor.hpp>

#include "kernels/window.hpp"

namespace xgrad::kernels {

// out [N, C, oh, ow] = the max of each block of x; and, when `ties` is not null, ties (same
// shape, x's dtype) = the number of block entries that tie with it. Outputs allocated by the
// caller.
void max_pool2d(const Geometry& g, const Tensor& x, Tensor& out, Tensor* ties);

// gx [N, C, H, W] = for each entry of x, the sum over the blocks where it ties of
// grad / ties (grad, out and ties [N, C, oh, ow]). Linear in grad.
void max_pool2d_grad(const Geometry& g, const Tensor& grad, const Tensor& x, const Tensor& out,
                     const Tensor& ties, Tensor& gx);

// w [N, C, kh*kw, L] (unfold's layout) = 1 / ties where the block entry ties with the block's
// result, else 0 (also for entries in the padding): the adjoint of max_pool2d_grad is the
// w-weighted sum of each block's entries.
void max_pool2d_tie_weights(const Geometry& g, const Tensor& x, const Tensor& out,
                            const Tensor& ties, Tensor& w);

}  // namespace xgrad::kernels
