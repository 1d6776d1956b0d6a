// Sliding-window geometry shared by unfold/fold and max_pool2d: the options' checks, the grid of
// blocks over an [N, C, H, W] image, and for each kernel offset the blocks that read inside the
// image (so that kernels loop without bounds checks).
#pragma once
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <xgrad/autograd/ops/conv.hpp>
#include <xgrad/core/check.hpp>

namespace xgrad::ops {

inline std::string pair_str(const std::array<std::int64_t, 2>& p) {
    return "[" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + "]";
}

inline std::string options_str(const UnfoldOptions& o) {
    return "kernel_size " + pair_str(o.kernel_size) + ", dilation " + pair_str(o.dilation) +
           ", padding " + pair_str(o.padding) + ", stride " + pair_str(o.stride);
}

inline void check_options(const char* op, const UnfoldOptions& o) {
    auto positive = [op](const std::array<std::int64_t, 2>& p, const char* what) {
        if (p[0] < 1 || p[1] < 1)
            raise<ValueError>(op, what, " must be positive, got ", pair_str(p));
    };
    positive(o.kernel_size, "kernel_size");
    positive(o.dilation, "dilation");
    positive(o.stride, "stride");
    if (o.padding[0] < 0 || o.padding[1] < 0)
        raise<ValueError>(op, "padding must be non-negative, got ", pair_str(o.padding));
}

// Everything the kernels need: image [n, c, h, w] and the grid of oh x ow blocks.
struct Geometry {
    std::int64_t n = 0, c = 0, h = 0, w = 0;
    std::int64_t kh = 1, kw = 1, dh = 1, dw = 1, ph = 0, pw = 0, sh = 1, sw = 1;
    std::int64_t oh = 0, ow = 0;
    std::int64_t rows() const { return c * kh * kw; }
    std::int64_t blocks() const { return oh * ow; }
};

// Block counts along H and W; throws ShapeError naming `op` and `what` when there are none.
inline Geometry make_geometry(const char* op, std::int64_t n, std::int64_t c, std::int64_t h,
                              std::int64_t w, const UnfoldOptions& o, const std::string& what) {
    Geometry g;
    g.n = n;
    g.c = c;
    g.h = h;
    g.w = w;
    g.kh = o.kernel_size[0];
    g.kw = o.kernel_size[1];
    g.dh = o.dilation[0];
    g.dw = o.dilation[1];
    g.ph = o.padding[0];
    g.pw = o.padding[1];
    g.sh = o.stride[0];
    g.sw = o.stride[1];
    // Span of the padded image left after placing the first (dilated) kernel. Checked: a dilation
    // or padding near 2^62 must be an error, not a span that wraps into a plausible number.
    const std::int64_t padded_h =
        checked_add(h, checked_mul(2, g.ph, op, "padding"), op, "padding");
    const std::int64_t padded_w =
        checked_add(w, checked_mul(2, g.pw, op, "padding"), op, "padding");
    const std::int64_t kernel_h =
        checked_add(checked_mul(g.dh, g.kh - 1, op, "dilated kernel"), 1, op, "dilated kernel");
    const std::int64_t kernel_w =
        checked_add(checked_mul(g.dw, g.kw - 1, op, "dilated kernel"), 1, op, "dilated kernel");
    // The column matrix has c * kh * kw rows; the kernels index them in int64.
    checked_mul(checked_mul(c, g.kh, op, "channels * kernel"), g.kw, op, "channels * kernel");
    const std::int64_t span_h = padded_h - kernel_h;
    const std::int64_t span_w = padded_w - kernel_w;
    if (span_h < 0 || span_w < 0)
        raise<ShapeError>(op, what, " gives no sliding blocks (", options_str(o),
                          "): the dilated kernel does not fit the padded size [",
                          std::to_string(padded_h), ", ", std::to_string(padded_w), "]");
    g.oh = span_h / g.sh + 1;
    g.ow = span_w / g.sw + 1;
    // With one block along a dim its stride is never used; 1 keeps the index arithmetic small.
    if (g.oh == 1) g.sh = 1;
    if (g.ow == 1) g.sw = 1;
    // The kernels compute image indices (i*dh - ph)*w and oy*sh*w in int64: bound them.
    checked_mul(padded_h, w, op, "padded image index");
    checked_mul(g.sh, w, op, "stride * width");
    return g;
}

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

}  // namespace xgrad::ops
