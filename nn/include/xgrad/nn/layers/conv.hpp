// 2-D convolution: the differentiable op conv2d (xgrad/autograd/ops/conv.hpp; oneDNN for
// float32, unfold + matmul for float64), so its gradients, of any order, come from the tape.
//
//   nn::Conv2d conv(3, 16, 3, {.stride = 2, .padding = 1});        // 3x3 kernel
//   nn::Conv2d dw(16, 16, {3, 5}, {.padding = {1, 2}, .groups = 16, .bias = false});
//   Tensor y = conv(x);                                            // [N, 3, H, W] -> [N, 16, H',
//   W']
//
// Output size per spatial dim: (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1.
#pragma once
#include <cstdint>
#include <string>

#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

// A (height, width) pair given as one number for both, or as {height, width}:
// `.stride = 2` and `.stride = {2, 1}` both work.
struct Size2d {
    std::int64_t h = 0, w = 0;
    constexpr Size2d() = default;
    constexpr Size2d(std::int64_t both) : h(both), w(both) {}  // NOLINT: implicit on purpose
    constexpr Size2d(std::int64_t height, std::int64_t width) : h(height), w(width) {}
    friend constexpr bool operator==(const Size2d& a, const Size2d& b) {
        return a.h == b.h && a.w == b.w;
    }
    friend constexpr bool operator!=(const Size2d& a, const Size2d& b) { return !(a == b); }
};
// "(3, 3)", as PyTorch prints sizes.
std::string size2d_str(const Size2d& s);

struct Conv2dOptions {
    Size2d stride = 1;
    Size2d padding = 0;  // zeros on both sides of each spatial dim
    Size2d dilation = 1;
    // Channels are split into `groups` independent convolutions; in_channels and out_channels
    // must both be divisible by it (groups = in_channels is a depthwise convolution).
    std::int64_t groups = 1;
    bool bias = true;
};

// Input [N, in_channels, H, W] (4-D only: an unbatched [C, H, W] input is an error, add the
// batch dim with unsqueeze(0)) -> [N, out_channels, H', W'].
// weight [out_channels, in_channels / groups, kh, kw], bias [out_channels]; initialised as
// PyTorch: kaiming_uniform(a = sqrt(5)) for the weight (U(-1/sqrt(fan_in), 1/sqrt(fan_in))) and
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, fan_in = in_channels / groups * kh * kw.
class Conv2d : public Module {
  public:
    Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2d kernel_size,
           Conv2dOptions options = {});
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    std::int64_t in_channels, out_channels;
    Size2d kernel_size;
    Conv2dOptions options;
    Tensor weight, bias;  // bias undefined when options.bias is false
};

}  // namespace xgrad::nn
