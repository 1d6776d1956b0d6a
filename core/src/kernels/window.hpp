// Sliding-window geometry shared by the im2col/col2im and max-pool kernels: the grid of blocks
// over an [N, C, H, W] image, and for each kernel offset the blocks that read inside the image
// (so that kernels loop without bounds checks). The ops build a Geometry from their options
// and check it (autograd/src/ops/sliding_window.hpp); the kernels only read it.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace xgrad::kernels {

// Everything the kernels need: image [n, c, h, w] and the grid of oh x ow blocks.
struct Geometry {
    std::int64_t n = 0, c = 0, h = 0, w = 0;
    std::int64_t kh = 1, kw = 1, dh = 1, dw = 1, ph = 0, pw = 0, sh = 1, sw = 1;
    std::int64_t oh = 0, ow = 0;
    std::int64_t rows() const { return c * kh * kw; }
    std::int64_t blocks() const { return oh * ow; }
};

// The outputs o along one dim whose input index o*stride + off lies inside [0, size): [lo, hi).
// Computed once per kernel offset, so that the copy loops carry no bounds checks.
struct ValidRange {
    std::int64_t lo = 0, hi = 0;
};

inline ValidRange valid_range(std::int64_t off, std::int64_t stride, std::int64_t size,
                              std::int64_t out) {
    // o*stride + off >= 0  <=>  o >= ceil(-off / stride)
    // o*stride + off < size  <=>  o < ceil((size - off) / stride)
    auto ceil_div = [](std::int64_t a, std::int64_t b) {
        return a <= 0 ? -((-a) / b) : (a - 1) / b + 1;  // a + b - 1 could overflow
    };
    ValidRange r;
    r.lo = std::clamp<std::int64_t>(ceil_div(-off, stride), 0, out);
    r.hi = std::clamp<std::int64_t>(ceil_div(size - off, stride), r.lo, out);
    return r;
}

// One kernel offset (i, j) and the blocks whose entry at that offset lies inside the image: the
// rows oy in rows and columns ox in cols read image index img_off + oy*sh*w + ox*sw.
struct KernelOffset {
    std::int64_t row = 0;      // c-relative column row i*kw + j
    std::int64_t img_off = 0;  // image index of block (0, 0): (i*dh - ph)*w + j*dw - pw
    ValidRange rows, cols;     // blocks that read inside the image
};

inline std::vector<KernelOffset> kernel_offsets(const Geometry& g) {
    std::vector<KernelOffset> out;
    out.reserve(static_cast<std::size_t>(g.kh * g.kw));
    for (std::int64_t i = 0; i < g.kh; ++i)
        for (std::int64_t j = 0; j < g.kw; ++j) {
            KernelOffset k;
            k.row = i * g.kw + j;
            k.img_off = (i * g.dh - g.ph) * g.w + j * g.dw - g.pw;
            k.rows = valid_range(i * g.dh - g.ph, g.sh, g.h, g.oh);
            k.cols = valid_range(j * g.dw - g.pw, g.sw, g.w, g.ow);
            out.push_back(k);
        }
    return out;
}

}  // namespace xgrad::kernels
