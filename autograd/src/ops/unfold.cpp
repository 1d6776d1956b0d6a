// unfold (im2col) and fold (col2im), exactly torch.nn.functional.unfold / fold for batched
// [N, C, H, W] images. They are each other's adjoint, so each one's backward is the other and
// gradients of any order flow through them.
//
// Layout: column row c*kh*kw + i*kw + j holds channel c at kernel offset (i, j); column
// l = oy*out_w + ox is the block whose top-left corner is (oy*sh - ph, ox*sw - pw). Reads
// outside the image are zero (padding); fold drops writes there and sums overlapping blocks.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/dispatch.hpp"
#include "kernels/parallel.hpp"
#include "op_common.hpp"
#include "sliding_window.hpp"

namespace xgrad {

using namespace ops;

namespace {

// Copies n values. Rows here are a few dozen values (an output row of a feature map), so blocks
// of 8 are moved as fixed-size copies (one vector load and store each) rather than by a loop
// whose setup costs as much as the copy.
template <class T>
void copy_short_row(const T* __restrict src, T* __restrict dst, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) std::memcpy(dst + i, src + i, 8 * sizeof(T));
    for (; i < n; ++i) dst[i] = src[i];
}

// dst[i] += src[i] for n values, in fixed blocks of 8 for the same reason.
template <class T>
void add_short_row(const T* __restrict src, T* __restrict dst, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) dst[i + k] += src[i + k];
    for (; i < n; ++i) dst[i] += src[i];
}

// cols[n, c*kh*kw + i*kw + j, oy*ow + ox] = x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw], zero
// where that lies in the padding, for the image planes nc in [first, last). Output rows are
// short (often under 32 values), so the loops are plain ones with their bounds computed up
// front: no call or bounds check per row.
template <class T>
__attribute__((noinline)) void im2col_planes(const Geometry& g,
                                             const std::vector<KernelOffset>& offsets,
                                             const T* __restrict x, T* __restrict cols,
                                             std::int64_t first, std::int64_t last) {
    const std::int64_t L = g.blocks(), ow = g.ow, sw = g.sw, row_step = g.sh * g.w;
    for (std::int64_t nc = first; nc < last; ++nc) {
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
                    if (hi > lo) copy_short_row(img + (base + lo), row + lo, hi - lo);
                } else {
                    for (std::int64_t ox = lo; ox < hi; ++ox) row[ox] = img[base + ox * sw];
                }
            }
        }
    }
}

// The adjoint of im2col: each plane of x is zeroed, then accumulates every block entry at its
// image position.
template <class T>
__attribute__((noinline)) void col2im_planes(const Geometry& g,
                                             const std::vector<KernelOffset>& offsets,
                                             const T* __restrict cols, T* __restrict x,
                                             std::int64_t first, std::int64_t last) {
    const std::int64_t L = g.blocks(), ow = g.ow, sw = g.sw, row_step = g.sh * g.w;
    for (std::int64_t nc = first; nc < last; ++nc) {
        T* img = x + nc * g.h * g.w;
        std::fill(img, img + g.h * g.w, T(0));
        for (const KernelOffset& k : offsets) {
            const T* src = cols + (nc * g.kh * g.kw + k.row) * L;
            const std::int64_t lo = k.cols.lo, hi = k.cols.hi;
            for (std::int64_t oy = k.rows.lo; oy < k.rows.hi; ++oy) {
                const T* row = src + oy * ow;
                const std::int64_t base = k.img_off + oy * row_step;
                if (sw == 1) {
                    if (hi > lo) add_short_row(row + lo, img + (base + lo), hi - lo);
                } else {
                    for (std::int64_t ox = lo; ox < hi; ++ox) img[base + ox * sw] += row[ox];
                }
            }
        }
    }
}

// Image planes are independent: chunks of them run in parallel (kernels/parallel.hpp). The
// kernels take the plane range as arguments, so their loops compile as in a plain function.
template <class T>
void im2col(const Geometry& g, const T* x, T* cols) {
    const std::vector<KernelOffset> offsets = kernel_offsets(g);
    kernels::parallel_for_items(g.n * g.c, g.kh * g.kw * g.blocks(),
                                [&](std::int64_t, std::int64_t first, std::int64_t last) {
                                    im2col_planes(g, offsets, x, cols, first, last);
                                });
}

template <class T>
void col2im(const Geometry& g, const T* cols, T* x) {
    const std::vector<KernelOffset> offsets = kernel_offsets(g);
    kernels::parallel_for_items(g.n * g.c, g.kh * g.kw * g.blocks(),
                                [&](std::int64_t, std::int64_t first, std::int64_t last) {
                                    col2im_planes(g, offsets, cols, x, first, last);
                                });
}

}  // namespace

Tensor unfold(const Tensor& x, const UnfoldOptions& options) {
    check_defined("unfold", x);
    kernels::dispatch_floating(x.dtype(), "unfold", [](auto) {});  // f32 / f64 only
    if (x.dim() != 4)
        raise<ShapeError>("unfold", "expected a 4-D input [N, C, H, W], got shape ",
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
        raise<ShapeError>("fold", "expected a 3-D input [N, C*kh*kw, L], got shape ",
                          shape_str(cols.shape()));
    check_options("fold", options);
    if (output_size[0] < 1 || output_size[1] < 1)
        raise<ValueError>("fold", "output_size must be positive, got ", pair_str(output_size));
    const Shape& s = cols.shape();
    const std::int64_t kk =
        checked_mul(options.kernel_size[0], options.kernel_size[1], "fold", "kernel_size");
    if (s[1] % kk != 0)
        raise<ShapeError>("fold", "input shape ", shape_str(s), " has ", std::to_string(s[1]),
                          " rows, not a multiple of the kernel_size product ", std::to_string(kk),
                          " (kernel_size ", pair_str(options.kernel_size), ")");
    const Geometry g = make_geometry("fold", s[0], s[1] / kk, output_size[0], output_size[1],
                                     options, "output_size " + pair_str(output_size));
    if (s[2] != g.blocks())
        raise<ShapeError>("fold", "input shape ", shape_str(s), " has ", std::to_string(s[2]),
                          " blocks, but output_size ", pair_str(output_size), " with ",
                          options_str(options), " gives ", std::to_string(g.blocks()), " (",
                          std::to_string(g.oh), " x ", std::to_string(g.ow), ")");
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
