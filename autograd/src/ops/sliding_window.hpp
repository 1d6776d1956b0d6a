// Sliding-window shape rules shared by unfold/fold and max_pool2d: the options' checks and the
// grid of blocks over an [N, C, H, W] image (kernels/window.hpp's Geometry), with overflow and
// empty-grid errors naming the op.
#pragma once
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <xgrad/autograd/ops/conv.hpp>
#include <xgrad/core/check.hpp>

#include "kernels/window.hpp"

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

// The geometry itself and the kernel offsets live with the kernels (core/src/kernels/window.hpp).
using kernels::Geometry;
using kernels::kernel_offsets;
using kernels::KernelOffset;
using kernels::valid_range;
using kernels::ValidRange;

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

}  // namespace xgrad::ops
