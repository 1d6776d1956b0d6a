// 2-D convolution on oneDNN (float32): forward, backward-data and backward-weights primitives on
// plain NCHW / OIHW buffers. Private to the library: oneDNN stays out of every public header.
#pragma once
#include <cstdint>

namespace xgrad::kernels {

// One convolution: input [n, c, h, w], weight [o, c / groups, kh, kw], output [n, o, oh, ow],
// with PyTorch's stride, padding (both sides) and dilation. The caller has checked it.
struct ConvGeometry {
    std::int64_t n = 0, c = 0, h = 0, w = 0;
    std::int64_t o = 0, kh = 0, kw = 0, oh = 0, ow = 0;
    std::int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
    std::int64_t groups = 1;
};

// True when the oneDNN kernels below take this geometry (every size non-zero and within
// oneDNN's int limits); otherwise the caller uses its own path.
bool conv_dnnl_supported(const ConvGeometry& g);

// y = conv(x, w) + b (b may be null).
void conv2d_forward_dnnl(const ConvGeometry& g, const float* x, const float* w, const float* b,
                         float* y);
// gx = the gradient of conv(x, w) with respect to x, given gy (the adjoint in x).
void conv2d_backward_data_dnnl(const ConvGeometry& g, const float* gy, const float* w, float* gx);
// gw = the gradient of conv(x, w) with respect to w, given gy (the adjoint in w).
void conv2d_backward_weights_dnnl(const ConvGeometry& g, const float* gy, const float* x,
                                  float* gw);

// Primitives currently held by the cache (tests and benchmarks).
std::int64_t conv_dnnl_cache_size();

}  // namespace xgrad::kernels
