// im2col / col2im: plane-parallel copy loops (kernels/im2col.hpp).
#include "kernels/im2col.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/dispatch.hpp"
#include "kernels/parallel.hpp"

namespace xgrad::kernels {

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
void im2col_typed(const Geometry& g, const T* x, T* cols) {
    const std::vector<KernelOffset> offsets = kernel_offsets(g);
    parallel_for_items(g.n * g.c, g.kh * g.kw * g.blocks(),
                       [&](std::int64_t, std::int64_t first, std::int64_t last) {
                           im2col_planes(g, offsets, x, cols, first, last);
                       });
}

template <class T>
void col2im_typed(const Geometry& g, const T* cols, T* x) {
    const std::vector<KernelOffset> offsets = kernel_offsets(g);
    parallel_for_items(g.n * g.c, g.kh * g.kw * g.blocks(),
                       [&](std::int64_t, std::int64_t first, std::int64_t last) {
                           col2im_planes(g, offsets, cols, x, first, last);
                       });
}

}  // namespace

void im2col(const Geometry& g, const Tensor& x, Tensor& cols) {
    dispatch_floating(x.dtype(), "unfold", [&](auto tag) {
        using T = typename decltype(tag)::type;
        im2col_typed<T>(g, x.data_ptr<T>(), cols.data_ptr<T>());
    });
}

void col2im(const Geometry& g, const Tensor& cols, Tensor& x) {
    dispatch_floating(cols.dtype(), "fold", [&](auto tag) {
        using T = typename decltype(tag)::type;
        col2im_typed<T>(g, cols.data_ptr<T>(), x.data_ptr<T>());
    });
}

}  // namespace xgrad::kernels
