// Convolution as differentiable ops, and im2col / col2im (its building blocks before oneDNN).
#pragma once
#include <array>
#include <cstdint>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

struct UnfoldOptions {
    std::array<std::int64_t, 2> kernel_size{1, 1};
    std::array<std::int64_t, 2> dilation{1, 1};
    std::array<std::int64_t, 2> padding{0, 0};
    std::array<std::int64_t, 2> stride{1, 1};
};

// [N, C, H, W] -> [N, C*kh*kw, L] sliding blocks, as torch.nn.functional.unfold.
Tensor unfold(const Tensor& x, const UnfoldOptions& options);
// [N, C*kh*kw, L] -> [N, C, H, W] summing overlapping blocks, as torch.nn.functional.fold.
Tensor fold(const Tensor& cols, std::array<std::int64_t, 2> output_size,
            const UnfoldOptions& options);
// [N, C, H, W] -> [N, C, oh, ow]: the max of each sliding block (padding never wins), the
// blocks being those of unfold. Ties share the gradient evenly, as max does; a NaN in a block
// gives NaN. nn::MaxPool2d is this op.
Tensor max_pool2d(const Tensor& x, const UnfoldOptions& options);

// ---- 2-D convolution ------------------------------------------------------------------------
//
// Options as torch.nn.functional.conv2d's, as (height, width) pairs. Channels are split into
// `groups` independent convolutions: input channels and weight.size(0) must both be divisible by
// it. Output extent per spatial dim: (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1.
struct Conv2dOptions {
    std::array<std::int64_t, 2> stride{1, 1};
    std::array<std::int64_t, 2> padding{0, 0};  // zeros on both sides
    std::array<std::int64_t, 2> dilation{1, 1};
    std::int64_t groups = 1;
};

// input [N, C, H, W], weight [O, C / groups, kh, kw], bias [O] or undefined -> [N, O, oh, ow],
// as torch.nn.functional.conv2d. float32 runs on oneDNN; float64 (and shapes oneDNN does not
// take) on unfold + matmul, with the same semantics. Differentiable to any order: the gradients
// are conv2d_backward_input, conv2d_backward_weight and a sum over N, H, W for the bias.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              const Conv2dOptions& options = {});
// The gradient of conv2d with respect to its input, given the output gradient grad_output
// [N, O, oh, ow]: the adjoint of x -> conv2d(x, weight) (a transposed convolution), of shape
// input_shape. Differentiable in grad_output and weight.
Tensor conv2d_backward_input(const Tensor& grad_output, const Tensor& weight,
                             const Shape& input_shape, const Conv2dOptions& options = {});
// The gradient of conv2d with respect to its weight: the adjoint of w -> conv2d(input, w), of
// shape weight_shape. Differentiable in grad_output and input.
Tensor conv2d_backward_weight(const Tensor& grad_output, const Tensor& input,
                              const Shape& weight_shape, const Conv2dOptions& options = {});

}  // namespace xgrad
