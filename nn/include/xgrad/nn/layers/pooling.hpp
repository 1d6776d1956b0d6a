// 2-D pooling, composed from autograd ops (pad, unfold, max / sum, matmul), so gradients come
// from the tape. Inputs are [N, C, H, W] or unbatched [C, H, W] (as PyTorch); the output has
// the same number of dims. Output size per spatial dim (floor mode; ceil_mode is not offered):
// (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1.
//
//   nn::MaxPool2d pool(2);                                   // 2x2 windows, stride 2
//   nn::AvgPool2d avg(3, {.stride = 2, .padding = 1, .count_include_pad = false});
//   nn::AdaptiveAvgPool2d gap(1);                            // global average pooling
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <xgrad/nn/layers/conv.hpp>  // Size2d
#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

// stride = 0 (the default, PyTorch's None) means stride = kernel_size. (A plain Size2d rather
// than std::optional<Size2d>, so that `.stride = {2, 1}` compiles.)
struct MaxPool2dOptions {
    Size2d stride = 0;   // 0: kernel_size
    Size2d padding = 0;  // implicit -inf padding; at most half the kernel size
    Size2d dilation = 1;
};

// The largest value of each window. Windows are taken by padding with -inf, unfold (im2col)
// and max over the window axis.
//
// Gradient at ties: our max() shares the gradient evenly among the tied maxima of a window,
// whereas PyTorch's MaxPool2d routes all of it to one of them (the first it finds). Values
// agree always; gradients agree whenever each window's maximum is unique.
class MaxPool2d : public Module {
  public:
    explicit MaxPool2d(Size2d kernel_size, MaxPool2dOptions options = {});
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    Size2d kernel_size, stride, padding, dilation;
};

struct AvgPool2dOptions {
    Size2d stride = 0;   // 0: kernel_size
    Size2d padding = 0;  // implicit zero padding; at most half the kernel size
    // Whether the padded zeros count in the divisor (true, PyTorch's default) or only the
    // window's elements inside the image do.
    bool count_include_pad = true;
    // When set, every window sum is divided by this instead.
    std::optional<std::int64_t> divisor_override{};
};

// The mean of each window: unfold (im2col), sum over the window axis, divide.
class AvgPool2d : public Module {
  public:
    explicit AvgPool2d(Size2d kernel_size, AvgPool2dOptions options = {});
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    Size2d kernel_size, stride, padding;
    bool count_include_pad;
    std::optional<std::int64_t> divisor_override;
};

// Averages over a grid of output_size cells whatever the input size. Output cell i along a
// dim of input size `in` and output size `out` covers input indices
// [floor(i * in / out), ceil((i + 1) * in / out)), as PyTorch (cells may overlap when `in` is
// not divisible by `out`, and out > in repeats inputs). Computed as A_h x A_w^T with two
// averaging matrices on BLAS, which is exact because a box mean is separable.
class AdaptiveAvgPool2d : public Module {
  public:
    explicit AdaptiveAvgPool2d(Size2d output_size);
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    Size2d output_size;
};

}  // namespace xgrad::nn
