// max-pool kernels (kernels/pooling.hpp): plane-parallel loops straight over the image, no
// unfolded copy.
#include "kernels/pooling.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/dispatch.hpp"
#include "kernels/isa.hpp"
#include "kernels/parallel.hpp"

namespace xgrad::kernels {

namespace {

// How these loops are written (measured on LeNet's 2 x 2 pooling of [64, 6, 24, 24]): the max
// is std::max over plain compares, NaNs and ties are integer counts of comparisons, and the
// final choices (NaN or not) are bit-mask selects. GCC then vectorises the loops into masks
// and blends; float equality with NaN cases, or `?:` between two computed values, gave branchy
// or scalar code 5-30 times slower.
//
// Within a block the max m of the ordered values is >= every one of them, so "v ties with m" is
// v >= m; a block holding a NaN has result NaN and its ties are its NaNs.

template <class T>
using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

// c ? a : b, as bit masks.
template <class T>
XGRAD_ALWAYS_INLINE T select(bool c, T a, T b) {
    Bits<T> ba, bb;
    std::memcpy(&ba, &a, sizeof(T));
    std::memcpy(&bb, &b, sizeof(T));
    const Bits<T> mask = Bits<T>(0) - static_cast<Bits<T>>(c);
    const Bits<T> r = (ba & mask) | (bb & ~mask);
    T out;
    std::memcpy(&out, &r, sizeof(T));
    return out;
}

XGRAD_ALWAYS_INLINE std::int32_t select(bool c, std::int32_t a, std::int32_t b) {
    const std::int32_t mask = -static_cast<std::int32_t>(c);
    return (a & mask) | (b & ~mask);
}

// Entry v ties with its block's result m: equal, or both NaN. Written with `|` and `&`, not
// short-circuit operators, so that it compiles to compares.
template <class T>
XGRAD_ALWAYS_INLINE bool is_tie(T v, T m) {
    return (v == m) | ((v != v) & (m != m));
}

template <class T>
XGRAD_ALWAYS_INLINE constexpr T nan_value() {
    return std::numeric_limits<T>::quiet_NaN();
}

// Non-overlapping blocks (stride = kernel, no padding or dilation: LeNet's and VGG's pooling)
// are walked block by block along image rows; the general walk goes kernel offset by kernel
// offset, with inner loops one output row long.
bool non_overlapping(const Geometry& g) {
    return g.sh == g.kh && g.sw == g.kw && g.dh == 1 && g.dw == 1 && g.ph == 0 && g.pw == 0;
}

// One plane of 2 x 2 blocks: r = the max (NaN if the block holds one), t (if Ties) the ties.
template <bool Ties, class T>
XGRAD_ALWAYS_INLINE void blocks_max_2x2(const Geometry& g, const T* img, T* r, T* t) {
    const std::int64_t w = g.w, ow = g.ow;
    for (std::int64_t oy = 0; oy < g.oh; ++oy) {
        const T* __restrict r0 = img + 2 * oy * w;
        const T* __restrict r1 = r0 + w;
        T* __restrict ro = r + oy * ow;
        T* __restrict to = Ties ? t + oy * ow : nullptr;  // no arithmetic on a null t
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
        for (std::int64_t ox = 0; ox < ow; ++ox) {
            const T a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
            const std::int32_t nans = (a != a) + (b != b) + (c != c) + (d != d);
            const T m = std::max(std::max(a, b), std::max(c, d));
            ro[ox] = select(nans != 0, nan_value<T>(), m);
            if constexpr (Ties) {
                const std::int32_t ge = (a >= m) + (b >= m) + (c >= m) + (d >= m);
                to[ox] = static_cast<T>(select(nans != 0, nans, ge));
            }
        }
    }
}

// The 2 x 2 blocks of planes [first, last), compiled for baseline and AVX2 (kernels/isa.hpp):
// LeNet's and VGG's pooling, the one the CNN step spends its pooling time in.
template <bool Ties, class T>
XGRAD_ALWAYS_INLINE void planes_max_2x2(const Geometry& g, const T* x, T* out, T* ties,
                                        std::int64_t first, std::int64_t last) {
    const std::int64_t L = g.blocks(), plane = g.h * g.w;
    for (std::int64_t nc = first; nc < last; ++nc)
        blocks_max_2x2<Ties>(g, x + nc * plane, out + nc * L, Ties ? ties + nc * L : nullptr);
}
// The body compiled twice, baseline and AVX2 (also taken on AVX-512 CPUs: GCC's 512-bit code of
// these short stride-2 rows, 12 outputs in LeNet, ran 1.9x slower than its AVX2 code), as
// templates with the target attribute rather than XGRAD_DISPATCHED's per-type wrappers.
template <bool Ties, class T>
void max_2x2_baseline(const Geometry& g, const T* x, T* out, T* ties, std::int64_t first,
                      std::int64_t last) {
    planes_max_2x2<Ties>(g, x, out, ties, first, last);
}
template <bool Ties, class T>
XGRAD_TARGET_AVX2 void max_2x2_avx2(const Geometry& g, const T* x, T* out, T* ties,
                                    std::int64_t first, std::int64_t last) {
    planes_max_2x2<Ties>(g, x, out, ties, first, last);
}
template <bool Ties, class T>
void max_2x2(const Geometry& g, const T* x, T* out, T* ties, std::int64_t first,
             std::int64_t last) {
    if (active_isa() >= Isa::avx2)
        max_2x2_avx2<Ties>(g, x, out, ties, first, last);
    else
        max_2x2_baseline<Ties>(g, x, out, ties, first, last);
}

// The same for blocks of any size.
template <bool Ties, class T>
void blocks_max_any(const Geometry& g, const T* img, T* r, T* t) {
    const std::int64_t kh = g.kh, kw = g.kw, w = g.w, ow = g.ow;
    for (std::int64_t oy = 0; oy < g.oh; ++oy)
        for (std::int64_t ox = 0; ox < ow; ++ox) {
            const T* blk = img + oy * kh * w + ox * kw;
            T m = -std::numeric_limits<T>::infinity();
            std::int32_t nans = 0;
            for (std::int64_t i = 0; i < kh; ++i)
                for (std::int64_t j = 0; j < kw; ++j) {
                    const T v = blk[i * w + j];
                    nans += v != v;
                    m = std::max(m, v);
                }
            r[oy * ow + ox] = select(nans != 0, nan_value<T>(), m);
            if constexpr (Ties) {
                std::int32_t ge = 0;
                for (std::int64_t i = 0; i < kh; ++i)
                    for (std::int64_t j = 0; j < kw; ++j) ge += blk[i * w + j] >= m;
                t[oy * ow + ox] = static_cast<T>(select(nans != 0, nans, ge));
            }
        }
}

// The general walk, for overlapping, padded or dilated blocks: kernel offset by kernel offset,
// each inner loop one output row (the entries of that offset that lie inside the image).
template <bool Ties, class T>
void blocks_max_offsets(const Geometry& g, const std::vector<KernelOffset>& offsets, const T* img,
                        T* r, T* t, std::int32_t* nans, std::int32_t* count) {
    const std::int64_t L = g.blocks(), ow = g.ow, sw = g.sw, row_step = g.sh * g.w;
    for (std::int64_t o = 0; o < L; ++o) {
        r[o] = -std::numeric_limits<T>::infinity();
        nans[o] = 0;
        count[o] = 0;
    }
    for (const KernelOffset& k : offsets)
        for (std::int64_t oy = k.rows.lo; oy < k.rows.hi; ++oy) {
            const T* src = img + k.img_off + oy * row_step;  // inside the image for ox in cols
            T* ro = r + oy * ow;
            std::int32_t* no = nans + oy * ow;
            for (std::int64_t ox = k.cols.lo; ox < k.cols.hi; ++ox) {
                const T v = src[ox * sw];
                no[ox] += v != v;
                ro[ox] = std::max(ro[ox], v);
            }
        }
    if constexpr (Ties)
        for (const KernelOffset& k : offsets)
            for (std::int64_t oy = k.rows.lo; oy < k.rows.hi; ++oy) {
                const T* src = img + k.img_off + oy * row_step;
                const T* ro = r + oy * ow;
                std::int32_t* co = count + oy * ow;
                for (std::int64_t ox = k.cols.lo; ox < k.cols.hi; ++ox)
                    co[ox] += src[ox * sw] >= ro[ox];
            }
    for (std::int64_t o = 0; o < L; ++o) {
        if constexpr (Ties) t[o] = static_cast<T>(select(nans[o] != 0, nans[o], count[o]));
        r[o] = select(nans[o] != 0, nan_value<T>(), r[o]);
    }
}

// out[nc, o] = the max over the entries of block o inside the image (-inf if none, NaN if one
// is NaN); and, when `ties` is given, ties[nc, o] = the number of entries that tie with it; for
// the image planes nc in [first, last).
template <bool Ties, class T>
__attribute__((noinline)) void max_pool_planes(const Geometry& g,
                                               const std::vector<KernelOffset>& offsets, const T* x,
                                               T* out, T* ties, std::int64_t first,
                                               std::int64_t last) {
    const std::int64_t L = g.blocks(), plane = g.h * g.w;
    const bool blocks = non_overlapping(g), two = g.kh == 2 && g.kw == 2;
    if (blocks && two) {
        max_2x2<Ties>(g, x, out, ties, first, last);
        return;
    }
    std::vector<std::int32_t> scratch(blocks ? 0 : 2 * static_cast<std::size_t>(L));
    for (std::int64_t nc = first; nc < last; ++nc) {
        const T* img = x + nc * plane;
        T* r = out + nc * L;
        T* t = Ties ? ties + nc * L : nullptr;
        if (blocks)
            blocks_max_any<Ties>(g, img, r, t);
        else
            blocks_max_offsets<Ties>(g, offsets, img, r, t, scratch.data(), scratch.data() + L);
    }
}

// The gradient of 2 x 2 blocks for planes [first, last) (share: a buffer of g.blocks() + 4 * ow),
// compiled for each instruction set like max_2x2.
template <class T>
XGRAD_ALWAYS_INLINE void planes_grad_2x2(const Geometry& g, const T* grad, const T* x, const T* out,
                                         const T* ties, T* gx, T* __restrict share,
                                         std::int64_t first, std::int64_t last) {
    const std::int64_t L = g.blocks(), plane = g.h * g.w, ow = g.ow, w = g.w;
    T* __restrict m2 = share + L;  // scratch after the shares: 2 * ow each
    T* __restrict s2 = m2 + 2 * ow;
    const bool covered = g.oh * 2 == g.h && g.ow * 2 == g.w;  // else zero the rest first
    for (std::int64_t nc = first; nc < last; ++nc) {
        // Restrict: the buffers never overlap, and without it GCC keeps these loops scalar.
        const T* __restrict img = x + nc * plane;
        const T* __restrict r = out + nc * L;
        const T* __restrict t = ties + nc * L;
        const T* __restrict go = grad + nc * L;
        T* __restrict gi = gx + nc * plane;
        if (!covered)
            for (std::int64_t i = 0; i < plane; ++i) gi[i] = T(0);
        for (std::int64_t o = 0; o < L; ++o) share[o] = go[o] / (t[o] + T(t[o] == T(0)));
        for (std::int64_t oy = 0; oy < g.oh; ++oy) {
            const T* __restrict r0 = img + 2 * oy * w;
            const T* __restrict r1 = r0 + w;
            T* __restrict g0 = gi + 2 * oy * w;
            T* __restrict g1 = g0 + w;
            const T* __restrict ro = r + oy * ow;
            const T* __restrict so = share + oy * ow;
            // The row's results and shares widened to the input's width, so that the selects
            // below read every array contiguously: stride-2 reads kept GCC's code scalar-ish.
            for (std::int64_t ox = 0; ox < ow; ++ox) {
                m2[2 * ox] = m2[2 * ox + 1] = ro[ox];
                s2[2 * ox] = s2[2 * ox + 1] = so[ox];
            }
            for (std::int64_t i = 0; i < 2 * ow; ++i) {
                g0[i] = select(is_tie(r0[i], m2[i]), s2[i], T(0));
                g1[i] = select(is_tie(r1[i], m2[i]), s2[i], T(0));
            }
        }
    }
}
template <class T>
void grad_2x2_baseline(const Geometry& g, const T* grad, const T* x, const T* out, const T* ties,
                       T* gx, T* share, std::int64_t first, std::int64_t last) {
    planes_grad_2x2(g, grad, x, out, ties, gx, share, first, last);
}
template <class T>
XGRAD_TARGET_AVX2 void grad_2x2_avx2(const Geometry& g, const T* grad, const T* x, const T* out,
                                     const T* ties, T* gx, T* share, std::int64_t first,
                                     std::int64_t last) {
    planes_grad_2x2(g, grad, x, out, ties, gx, share, first, last);
}
template <class T>
void grad_2x2(const Geometry& g, const T* grad, const T* x, const T* out, const T* ties, T* gx,
              T* share, std::int64_t first, std::int64_t last) {
    if (active_isa() >= Isa::avx2)
        grad_2x2_avx2(g, grad, x, out, ties, gx, share, first, last);
    else
        grad_2x2_baseline(g, grad, x, out, ties, gx, share, first, last);
}

// grad_x[nc, i] = sum over the block entries (o, i) that tie: g[nc, o] / ties[nc, o], for the
// image planes nc in [first, last).
template <class T>
__attribute__((noinline)) void max_pool_grad_planes(const Geometry& g,
                                                    const std::vector<KernelOffset>& offsets,
                                                    const T* grad, const T* x, const T* out,
                                                    const T* ties, T* gx, std::int64_t first,
                                                    std::int64_t last) {
    const std::int64_t L = g.blocks(), plane = g.h * g.w, ow = g.ow, w = g.w;
    const bool blocks = non_overlapping(g), two = g.kh == 2 && g.kw == 2;
    // Blocks covering the whole plane write every entry; otherwise zero the rest first.
    const bool covered = blocks && g.oh * g.kh == g.h && g.ow * g.kw == g.w;
    std::vector<T> share_of(static_cast<std::size_t>(L + 4 * ow));
    T* __restrict share = share_of.data();
    if (blocks && two) {
        grad_2x2(g, grad, x, out, ties, gx, share, first, last);
        return;
    }
    for (std::int64_t nc = first; nc < last; ++nc) {
        // Restrict: the buffers never overlap, and without it GCC keeps these loops scalar.
        const T* __restrict img = x + nc * plane;
        const T* __restrict r = out + nc * L;
        const T* __restrict t = ties + nc * L;
        const T* __restrict go = grad + nc * L;
        T* __restrict gi = gx + nc * plane;
        if (!covered) std::fill(gi, gi + plane, T(0));
        // A block with no tie lies wholly in the padding: no entry reads its share.
        for (std::int64_t o = 0; o < L; ++o) share[o] = go[o] / (t[o] + T(t[o] == T(0)));
        if (blocks) {
            for (std::int64_t oy = 0; oy < g.oh; ++oy)
                for (std::int64_t ox = 0; ox < ow; ++ox) {
                    const std::int64_t o = oy * ow + ox, at = oy * g.kh * w + ox * g.kw;
                    for (std::int64_t i = 0; i < g.kh; ++i)
                        for (std::int64_t j = 0; j < g.kw; ++j) {
                            const std::int64_t e = at + i * w + j;
                            gi[e] = is_tie(img[e], r[o]) ? share[o] : T(0);
                        }
                }
        } else {
            const std::int64_t sw = g.sw, row_step = g.sh * w;
            for (const KernelOffset& k : offsets)
                for (std::int64_t oy = k.rows.lo; oy < k.rows.hi; ++oy) {
                    const std::int64_t base = k.img_off + oy * row_step;
                    const T* ro = r + oy * ow;
                    const T* so = share + oy * ow;
                    for (std::int64_t ox = k.cols.lo; ox < k.cols.hi; ++ox) {
                        const std::int64_t e = base + ox * sw;
                        gi[e] += is_tie(img[e], ro[ox]) ? so[ox] : T(0);
                    }
                }
        }
    }
}

// The weight of each block entry in unfold's layout [N, C, kh*kw, L]: 1 / ties where the entry
// ties with the result, else 0 (also for entries in the padding). For the double backward only.
template <class T>
void tie_weights_kernel(const Geometry& g, const std::vector<KernelOffset>& offsets, const T* x,
                        const T* out, const T* ties, T* w) {
    const std::int64_t L = g.blocks(), plane = g.h * g.w, kk = g.kh * g.kw;
    std::fill(w, w + g.n * g.c * kk * L, T(0));
    const std::int64_t row_step = g.sh * g.w;
    for (std::int64_t nc = 0; nc < g.n * g.c; ++nc) {
        const T* img = x + nc * plane;
        const T* r = out + nc * L;
        const T* t = ties + nc * L;
        T* wn = w + nc * kk * L;
        for (const KernelOffset& k : offsets)
            for (std::int64_t oy = k.rows.lo; oy < k.rows.hi; ++oy)
                for (std::int64_t ox = k.cols.lo; ox < k.cols.hi; ++ox) {
                    const std::int64_t o = oy * g.ow + ox;
                    if (is_tie(img[k.img_off + oy * row_step + ox * g.sw], r[o]))
                        wn[k.row * L + o] = T(1) / t[o];
                }
    }
}

}  // namespace

void max_pool2d(const Geometry& g, const Tensor& x, Tensor& out, Tensor* ties) {
    const bool recording = ties != nullptr;
    dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
        using T = typename decltype(tag)::type;
        const std::vector<KernelOffset> offsets = kernel_offsets(g);
        const T* px = x.data_ptr<T>();
        T* po = out.data_ptr<T>();
        T* pt = recording ? ties->data_ptr<T>() : nullptr;
        // Image planes are independent: chunks of them run in parallel.
        parallel_for_items(g.n * g.c, g.h * g.w,
                           [&](std::int64_t, std::int64_t first, std::int64_t last) {
                               if (recording)
                                   max_pool_planes<true>(g, offsets, px, po, pt, first, last);
                               else
                                   max_pool_planes<false>(g, offsets, px, po, pt, first, last);
                           });
    });
}

void max_pool2d_grad(const Geometry& g, const Tensor& grad, const Tensor& x, const Tensor& out,
                     const Tensor& ties, Tensor& gx) {
    dispatch_floating(grad.dtype(), "max_pool2d_grad", [&](auto tag) {
        using T = typename decltype(tag)::type;
        const std::vector<KernelOffset> offsets = kernel_offsets(g);
        const T *pg = grad.data_ptr<T>(), *px = x.data_ptr<T>();
        const T *po = out.data_ptr<T>(), *pt = ties.data_ptr<T>();
        T* pgx = gx.data_ptr<T>();
        parallel_for_items(g.n * g.c, g.h * g.w,
                           [&](std::int64_t, std::int64_t first, std::int64_t last) {
                               max_pool_grad_planes(g, offsets, pg, px, po, pt, pgx, first, last);
                           });
    });
}

void max_pool2d_tie_weights(const Geometry& g, const Tensor& x, const Tensor& out,
                            const Tensor& ties, Tensor& w) {
    dispatch_floating(x.dtype(), "max_pool2d_grad", [&](auto tag) {
        using T = typename decltype(tag)::type;
        tie_weights_kernel<T>(g, kernel_offsets(g), x.data_ptr<T>(), out.data_ptr<T>(),
                              ties.data_ptr<T>(), w.data_ptr<T>());
    });
}

}  // namespace xgrad::kernels
