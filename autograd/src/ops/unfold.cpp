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
#include <vector>

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

// The outputs o along one dim whose input index o*stride + off lies inside [0, size): [lo, hi).
// Computed once per kernel offset, so that the copy loops carry no bounds checks.
struct ValidRange {
    std::int64_t lo = 0, hi = 0;
};

ValidRange valid_range(std::int64_t off, std::int64_t stride, std::int64_t size, std::int64_t out) {
    // o*stride + off >= 0  <=>  o >= ceil(-off / stride)
    // o*stride + off < size  <=>  o < ceil((size - off) / stride)
    auto ceil_div = [](std::int64_t a, std::int64_t b) {
        return a <= 0 ? -((-a) / b) : (a + b - 1) / b;
    };
    ValidRange r;
    r.lo = std::clamp<std::int64_t>(ceil_div(-off, stride), 0, out);
    r.hi = std::clamp<std::int64_t>(ceil_div(size - off, stride), r.lo, out);
    return r;
}

// Walks the (kernel offset, block) pairs of one image channel that read inside the image:
// visit(col_row, img_offset) for each output row of a column row, where col_row points at
// ow entries of cols (oy fixed) and img_offset is the image index of ox = 0 (the caller adds
// ox * sw for ox in [cols.lo, cols.hi)). Rows and columns outside are left to the caller.
struct KernelOffset {
    std::int64_t row = 0;      // c-relative column row i*kw + j
    std::int64_t img_off = 0;  // image index of block (0, 0): (i*dh - ph)*w + j*dw - pw
    ValidRange rows, cols;     // blocks that read inside the image
};

std::vector<KernelOffset> kernel_offsets(const Geometry& g) {
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

// cols[n, c*kh*kw + i*kw + j, oy*ow + ox] = x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw], zero
// where that lies in the padding. Output rows are short (often under 32 values), so the loops
// are plain ones with their bounds computed up front: no call or bounds check per row.
template <class T>
void im2col(const Geometry& g, const T* x, T* cols) {
    const std::int64_t L = g.blocks(), ow = g.ow, sw = g.sw, row_step = g.sh * g.w;
    const std::vector<KernelOffset> offsets = kernel_offsets(g);
    for (std::int64_t nc = 0; nc < g.n * g.c; ++nc) {
        const T* img = x + nc * g.h * g.w;
        for (const KernelOffset& k : offsets) {
            T* dst = cols + (nc * g.kh * g.kw + k.row) * L;
            const std::int64_t lo = k.cols.lo, hi = k.cols.hi;
            const bool padded = k.rows.lo > 0 || k.rows.hi < g.oh || lo > 0 || hi < ow;
            if (padded)
                for (std::int64_t e = 0; e < L; ++e) dst[e] = T(0);
            for (std::int64_t oy = k.rows.lo; oy < k.rows.hi; ++oy) {
                T* row = dst + oy * ow;
                // Index arithmetic, not pointers: img + img_off may lie before the image.
                const std::int64_t base = k.img_off + oy * row_step;
                if (sw == 1) {
                    for (std::int64_t ox = lo; ox < hi; ++ox) row[ox] = img[base + ox];
                } else {
                    for (std::int64_t ox = lo; ox < hi; ++ox) row[ox] = img[base + ox * sw];
                }
            }
        }
    }
}

// The adjoint of im2col: x (zeroed first) accumulates every block entry at its image position.
template <class T>
void col2im(const Geometry& g, const T* cols, T* x) {
    std::fill(x, x + g.n * g.c * g.h * g.w, T(0));
    const std::int64_t L = g.blocks(), ow = g.ow, sw = g.sw, row_step = g.sh * g.w;
    const std::vector<KernelOffset> offsets = kernel_offsets(g);
    for (std::int64_t nc = 0; nc < g.n * g.c; ++nc) {
        T* img = x + nc * g.h * g.w;
        for (const KernelOffset& k : offsets) {
            const T* src = cols + (nc * g.kh * g.kw + k.row) * L;
            const std::int64_t lo = k.cols.lo, hi = k.cols.hi;
            for (std::int64_t oy = k.rows.lo; oy < k.rows.hi; ++oy) {
                const T* row = src + oy * ow;
                const std::int64_t base = k.img_off + oy * row_step;
                if (sw == 1) {
                    for (std::int64_t ox = lo; ox < hi; ++ox) img[base + ox] += row[ox];
                } else {
                    for (std::int64_t ox = lo; ox < hi; ++ox) img[base + ox * sw] += row[ox];
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
