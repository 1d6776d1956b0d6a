// unfold (im2col) and fold (col2im), exactly torch.nn.functional.unfold / fold for batched
// [N, C, H, W] images. They are each other's adjoint, so each one's backward is the other and
// gradients of any order flow through them.
//
// Layout: column row c*kh*kw + i*kw + j holds channel c at kernel offset (i, j); column
// l = oy*out_w + ox is the block whose top-left corner is (oy*sh - ph, ox*sw - pw). Reads
// outside the image are zero (padding); fold drops writes there and sums overlapping blocks.
#include <algorithm>
#include <array>
#include <string>

#include "kernels/dispatch.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

std::string pair_str(const std::array<std::int64_t, 2>& p) {
    return "[" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + "]";
}

std::string options_str(const UnfoldOptions& o) {
    return "kernel_size " + pair_str(o.kernel_size) + ", dilation " + pair_str(o.dilation) +
           ", padding " + pair_str(o.padding) + ", stride " + pair_str(o.stride);
}

void check_options(const char* op, const UnfoldOptions& o) {
    auto positive = [op](const std::array<std::int64_t, 2>& p, const char* what) {
        if (p[0] < 1 || p[1] < 1)
            throw ValueError(std::string("xgrad::") + op + ": " + what + " must be positive, got " +
                             pair_str(p));
    };
    positive(o.kernel_size, "kernel_size");
    positive(o.dilation, "dilation");
    positive(o.stride, "stride");
    if (o.padding[0] < 0 || o.padding[1] < 0)
        throw ValueError(std::string("xgrad::") + op + ": padding must be non-negative, got " +
                         pair_str(o.padding));
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
Geometry make_geometry(const char* op, std::int64_t n, std::int64_t c, std::int64_t h,
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
    // Span of the padded image left after placing the first (dilated) kernel.
    const std::int64_t span_h = h + 2 * g.ph - g.dh * (g.kh - 1) - 1;
    const std::int64_t span_w = w + 2 * g.pw - g.dw * (g.kw - 1) - 1;
    if (span_h < 0 || span_w < 0)
        throw ShapeError(std::string("xgrad::") + op + ": " + what + " gives no sliding blocks (" +
                         options_str(o) + "): the dilated kernel does not fit the padded size [" +
                         std::to_string(h + 2 * g.ph) + ", " + std::to_string(w + 2 * g.pw) + "]");
    g.oh = span_h / g.sh + 1;
    g.ow = span_w / g.sw + 1;
    return g;
}

// cols[n, c*kh*kw + i*kw + j, oy*ow + ox] = x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw].
template <class T>
void im2col(const Geometry& g, const T* x, T* cols) {
    const std::int64_t L = g.blocks();
    for (std::int64_t nc = 0; nc < g.n * g.c; ++nc) {
        const T* img = x + nc * g.h * g.w;
        for (std::int64_t i = 0; i < g.kh; ++i)
            for (std::int64_t j = 0; j < g.kw; ++j) {
                T* dst = cols + (nc * g.kh * g.kw + i * g.kw + j) * L;
                for (std::int64_t oy = 0; oy < g.oh; ++oy) {
                    T* row = dst + oy * g.ow;
                    const std::int64_t iy = oy * g.sh - g.ph + i * g.dh;
                    if (iy < 0 || iy >= g.h) {
                        std::fill(row, row + g.ow, T(0));
                        continue;
                    }
                    const T* src = img + iy * g.w;
                    for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                        const std::int64_t ix = ox * g.sw - g.pw + j * g.dw;
                        row[ox] = (ix >= 0 && ix < g.w) ? src[ix] : T(0);
                    }
                }
            }
    }
}

// The adjoint of im2col: x (zeroed first) accumulates every block entry at its image position.
template <class T>
void col2im(const Geometry& g, const T* cols, T* x) {
    std::fill(x, x + g.n * g.c * g.h * g.w, T(0));
    const std::int64_t L = g.blocks();
    for (std::int64_t nc = 0; nc < g.n * g.c; ++nc) {
        T* img = x + nc * g.h * g.w;
        for (std::int64_t i = 0; i < g.kh; ++i)
            for (std::int64_t j = 0; j < g.kw; ++j) {
                const T* src = cols + (nc * g.kh * g.kw + i * g.kw + j) * L;
                for (std::int64_t oy = 0; oy < g.oh; ++oy) {
                    const std::int64_t iy = oy * g.sh - g.ph + i * g.dh;
                    if (iy < 0 || iy >= g.h) continue;
                    const T* row = src + oy * g.ow;
                    T* dst = img + iy * g.w;
                    for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                        const std::int64_t ix = ox * g.sw - g.pw + j * g.dw;
                        if (ix >= 0 && ix < g.w) dst[ix] += row[ox];
                    }
                }
            }
    }
}

}  // namespace

Tensor unfold(const Tensor& x, const UnfoldOptions& options) {
    check_defined("unfold", x);
    kernels::dispatch_floating(x.dtype(), "unfold", [](auto) {});  // f32 / f64 only
    if (x.dim() != 4)
        throw ShapeError("xgrad::unfold: expected a 4-D input [N, C, H, W], got shape " +
                         shape_str(x.shape()));
    check_options("unfold", options);
    const Shape& s = x.shape();
    const Geometry g =
        make_geometry("unfold", s[0], s[1], s[2], s[3], options, "input shape " + shape_str(s));
    Tensor out = make_tensor({g.n, g.rows(), g.blocks()}, x.dtype());
    kernels::dispatch_floating(x.dtype(), "unfold", [&](auto tag) {
        using T = typename decltype(tag)::type;
        im2col<T>(g, x.data_ptr<T>(), out.data_ptr<T>());
    });
    if (should_record({&x})) {
        const std::array<std::int64_t, 2> size{g.h, g.w};
        record("UnfoldBackward", out, {x}, {},
               [size, options](Node&, const Tensor& grad) -> TensorList {
                   return {fold(grad, size, options)};
               });
    }
    return out;
}

Tensor fold(const Tensor& cols, std::array<std::int64_t, 2> output_size,
            const UnfoldOptions& options) {
    check_defined("fold", cols);
    kernels::dispatch_floating(cols.dtype(), "fold", [](auto) {});  // f32 / f64 only
    if (cols.dim() != 3)
        throw ShapeError("xgrad::fold: expected a 3-D input [N, C*kh*kw, L], got shape " +
                         shape_str(cols.shape()));
    check_options("fold", options);
    if (output_size[0] < 1 || output_size[1] < 1)
        throw ValueError("xgrad::fold: output_size must be positive, got " + pair_str(output_size));
    const Shape& s = cols.shape();
    const std::int64_t kk = options.kernel_size[0] * options.kernel_size[1];
    if (s[1] % kk != 0)
        throw ShapeError("xgrad::fold: input shape " + shape_str(s) + " has " +
                         std::to_string(s[1]) +
                         " rows, not a multiple of the kernel_size product " + std::to_string(kk) +
                         " (kernel_size " + pair_str(options.kernel_size) + ")");
    const Geometry g = make_geometry("fold", s[0], s[1] / kk, output_size[0], output_size[1],
                                     options, "output_size " + pair_str(output_size));
    if (s[2] != g.blocks())
        throw ShapeError("xgrad::fold: input shape " + shape_str(s) + " has " +
                         std::to_string(s[2]) + " blocks, but output_size " +
                         pair_str(output_size) + " with " + options_str(options) + " gives " +
                         std::to_string(g.blocks()) + " (" + std::to_string(g.oh) + " x " +
                         std::to_string(g.ow) + ")");
    Tensor out = make_tensor({g.n, g.c, g.h, g.w}, cols.dtype());
    kernels::dispatch_floating(cols.dtype(), "fold", [&](auto tag) {
        using T = typename decltype(tag)::type;
        col2im<T>(g, cols.data_ptr<T>(), out.data_ptr<T>());
    });
    if (should_record({&cols}))
        record("FoldBackward", out, {cols}, {}, [options](Node&, const Tensor& grad) -> TensorList {
            return {unfold(grad, options)};
        });
    return out;
}

}  // namespace xgrad
