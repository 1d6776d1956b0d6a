// im2col / col2im as differentiable ops: the building blocks of convolution.
#pragma once
#include <array>

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

}  // namespace xgrad
