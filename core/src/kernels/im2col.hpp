// im2col and col2im over batched [N, C, H, W] images (the kernels of unfold and fold), float32
// and float64.
//
// Layout: column row c*kh*kw + i*kw + j holds channel c at kernel offset (i, j); column
// l = oy*out_w + ox is the block whose top-left corner is (oy*sh - ph, ox*sw - pw). Reads
// outside the image are zero (padding); col2im drops writes there and sums overlapping blocks.
#pragma once
#include <xgrad/core/tensor.hpp>

#include "kernels/window.hpp"

namespace xgrad::kernels {

// cols [N, C*kh*kw, L] = the blocks of x [N, C, H, W]; both allocated by the caller.
void im2col(const Geometry& g, const Tensor& x, Tensor& cols);

// x [N, C, H, W] = the sum of the blocks of cols [N, C*kh*kw, L] at their image positions.
void col2im(const Geometry& g, const Tensor& cols, Tensor& x);

}  // namespace xgrad::kernels
