// 2-D convolution on oneDNN (float32). The only translation unit that includes oneDNN's
// convolution API.
//
// - xgrad's tensors are plain NCHW (activations) and OIHW / GOIHW (weights). oneDNN picks its
//   own (blocked, e.g. nChw16c) layouts (format_tag::any) and each call reorders into and out of
//   them through per-thread buffers: on the LeNet-style step that is about twice as fast as
//   primitives on plain layouts (which fall back to oneDNN's im2col + gemm). XGRAD_CONV_PLAIN=1
//   forces plain layouts, for measurements.
// - Primitives are built once per (kind, geometry) and kept in a small cache guarded by a mutex
//   (a primitive descriptor costs tens of microseconds to create; a cached call costs a map
//   lookup). oneDNN primitives are stateless, so one primitive may run on several threads at
//   once.
// - Scratchpads are user-managed: each calling thread owns a growing, 64-byte aligned buffer, so
//   concurrent calls never share one (oneDNN's library-managed scratchpad would be shared).
// - One CPU engine for the process; one stream per calling thread.
// - The batch runs in chunks of whole images on xgrad's pool (conv_chunks, for_each_chunk), each
//   chunk one oneDNN call on one thread: on the LeNet step with 2 threads this took the step from
//   5.6-6.5 ms to 3.5-4.2 ms (bench cnn64, alternating runs, 2026-12-03). The chunks depend on
//   the geometry only, so results are the same bits with any thread count.
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <xgrad/core/check.hpp>

#include "kernels/conv.hpp"
#include "kernels/isa.hpp"
#include "kernels/parallel.hpp"
#include "threads_internal.hpp"

namespace xgrad::kernels {

namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

enum class Kind : std::int64_t { forward, forward_bias, backward_data, backward_weights };

using Key = std::array<std::int64_t, 17>;

Key make_key(Kind kind, const ConvGeometry& g) {
    return {static_cast<std::int64_t>(kind),
            g.n,
            g.c,
            g.h,
            g.w,
            g.o,
            g.kh,
            g.kw,
            g.oh,
            g.ow,
            g.sh,
            g.sw,
            g.ph,
            g.pw,
            g.dh,
            g.dw,
            g.groups};
}

// One argument of a primitive: its plain (xgrad) layout, and when oneDNN chose another, the
// reorder between the two.
struct Arg {
    int id = 0;
    bool output = false;
    memory::desc plain, inner;
    dnnl::primitive reorder;  // plain -> inner for inputs, inner -> plain for the output
    bool reordered = false;
};

struct Entry {
    dnnl::primitive prim;
    std::size_t scratchpad_bytes = 0;
    std::vector<Arg> args;  // 0, 1: inputs; 2: the output; 3: the bias (forward_bias)
};

// Past this many primitives the cache starts afresh (a training run uses a handful).
constexpr std::size_t kCacheCapacity = 512;

std::mutex cache_mutex;
std::map<Key, std::shared_ptr<const Entry>>& cache() {
    static std::map<Key, std::shared_ptr<const Entry>> c;
    return c;
}

const dnnl::engine& engine() {
    static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
}

dnnl::stream& stream() {
    thread_local dnnl::stream s(engine());
    return s;
}

// The calling thread's buffer number `slot`, at least `bytes` long and 64-byte aligned: the
// scratchpad (slot 0) and the blocked copies of the arguments (slots 1-3).
void* thread_buffer(int slot, std::size_t bytes) {
    struct Free {
        void operator()(void* p) const { std::free(p); }
    };
    thread_local std::unique_ptr<void, Free> bufs[4];
    thread_local std::size_t sizes[4] = {0, 0, 0, 0};
    if (bytes > sizes[slot]) {
        const std::size_t rounded = (bytes + 63) / 64 * 64;
        bufs[slot].reset(std::aligned_alloc(64, rounded));
        if (!bufs[slot]) {
            sizes[slot] = 0;
            raise<OutOfMemoryError>("conv2d", "cannot allocate a oneDNN buffer of ",
                                    std::to_string(rounded), " bytes");
        }
        sizes[slot] = rounded;
    }
    return bufs[slot].get();
}

struct Descs {
    memory::desc src, weights, bias, dst;
    memory::dims strides, dilates, padding_l, padding_r;
};

// The layouts a primitive works in: xgrad's plain NCHW / OIHW, oneDNN's choice (format_tag::any:
// blocked, e.g. nChw16c), or channels-last activations with weights of oneDNN's choice.
enum class Layout { plain, any, nhwc };

Descs make_descs(const ConvGeometry& g, Layout layout) {
    const bool any = layout != Layout::plain;
    const tag act = layout == Layout::plain ? tag::nchw
                    : layout == Layout::any ? tag::any
                                            : tag::nhwc;
    Descs d;
    d.src = memory::desc({g.n, g.c, g.h, g.w}, dt::f32, act);
    if (g.groups == 1)
        d.weights = memory::desc({g.o, g.c, g.kh, g.kw}, dt::f32, any ? tag::any : tag::oihw);
    else
        d.weights = memory::desc({g.groups, g.o / g.groups, g.c / g.groups, g.kh, g.kw}, dt::f32,
                                 any ? tag::any : tag::goihw);
    d.bias = memory::desc({g.o}, dt::f32, tag::x);
    d.dst = memory::desc({g.n, g.o, g.oh, g.ow}, dt::f32, act);
    d.strides = {g.sh, g.sw};
    d.dilates = {g.dh - 1, g.dw - 1};  // oneDNN counts the gaps: 0 is a dense kernel
    d.padding_l = {g.ph, g.pw};
    d.padding_r = {g.ph, g.pw};  // rows past the last full window are ignored, as in PyTorch
    return d;
}

// Blocked layouts chosen by oneDNN (with reorders from and to xgrad's plain ones) unless
// XGRAD_CONV_PLAIN=1 asks for plain NCHW / OIHW primitives (for measurements).
bool use_blocked() {
    static const bool blocked = [] {
        const char* v = std::getenv("XGRAD_CONV_PLAIN");
        return !(v && v[0] == '1');
    }();
    return blocked;
}

// Whether a primitive (by its implementation name, e.g. "jit:avx512_core") runs AVX-512 code,
// and whether oneDNN may use AVX-512 on this CPU.
bool on_avx512(const std::string& impl) {
    return impl.find("avx512") != std::string::npos;
}
bool cpu_has_avx512() {
    return detected_isa() == Isa::avx512;
}

dnnl::primitive_attr scratchpad_attr() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, bool with_bias) {
    using F = dnnl::convolution_forward;
    const auto desc =
        with_bias
            ? F::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, d.src,
                      d.weights, d.bias, d.dst, d.strides, d.dilates, d.padding_l, d.padding_r)
            : F::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, d.src,
                      d.weights, d.dst, d.strides, d.dilates, d.padding_l, d.padding_r);
    return F::primitive_desc(desc, scratchpad_attr(), engine());
}

// A backward primitive (data or weights) over the same descriptors, hinted by the forward one.
template <class B>
typename B::primitive_desc backward_pd(const Descs& d) {
    const typename B::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst,
                                d.strides, d.dilates, d.padding_l, d.padding_r);
    return typename B::primitive_desc(desc, scratchpad_attr(), engine(), forward_pd(d, false));
}

Arg make_arg(int id, bool output, const memory::desc& plain, const memory::desc& inner) {
    Arg a;
    a.id = id;
    a.output = output;
    a.plain = plain;
    a.inner = inner;
    if (plain != inner) {
        a.reordered = true;
        a.reorder =
            output ? dnnl::reorder(dnnl::reorder::primitive_desc(engine(), inner, engine(), plain))
                   : dnnl::reorder(dnnl::reorder::primitive_desc(engine(), plain, engine(), inner));
    }
    return a;
}

std::shared_ptr<const Entry> build(Kind kind, const ConvGeometry& g) {
    const Descs p = make_descs(g, Layout::plain);
    const Descs d = make_descs(g, use_blocked() ? Layout::any : Layout::plain);
    auto e = std::make_shared<Entry>();
    switch (kind) {
        case Kind::forward:
        case Kind::forward_bias: {
            const auto pd = forward_pd(d, kind == Kind::forward_bias);
            e->prim = dnnl::convolution_forward(pd);
            e->scratchpad_bytes = pd.scratchpad_desc().get_size();
            e->args = {make_arg(DNNL_ARG_SRC, false, p.src, pd.src_desc()),
                       make_arg(DNNL_ARG_WEIGHTS, false, p.weights, pd.weights_desc()),
                       make_arg(DNNL_ARG_DST, true, p.dst, pd.dst_desc())};
            if (kind == Kind::forward_bias)
                e->args.push_back(make_arg(DNNL_ARG_BIAS, false, p.bias, p.bias));
            break;
        }
        case Kind::backward_data: {
            using B = dnnl::convolution_backward_data;
            const auto pd = backward_pd<B>(d);
            e->prim = B(pd);
            e->scratchpad_bytes = pd.scratchpad_desc().get_size();
            e->args = {make_arg(DNNL_ARG_DIFF_DST, false, p.dst, pd.diff_dst_desc()),
                       make_arg(DNNL_ARG_WEIGHTS, false, p.weights, pd.weights_desc()),
                       make_arg(DNNL_ARG_DIFF_SRC, true, p.src, pd.diff_src_desc())};
            break;
        }
        case Kind::backward_weights: {
            using B = dnnl::convolution_backward_weights;
            auto pd = backward_pd<B>(d);
            // oneDNN 2.6 has no AVX-512 kernel for the blocked weight gradient of some shapes
            // (LeNet's second convolution, 6 -> 16 channels, falls back to its AVX2 one) but has
            // one on channels-last activations: take the widest instruction set on offer.
            // Measured on that convolution (batch 64, Xeon AVX-512): 0.63 ms blocked (AVX2),
            // 0.39 ms channels-last (AVX-512), reorders aside.
            if (use_blocked() && !on_avx512(pd.impl_info_str()) && cpu_has_avx512()) {
                auto alt = backward_pd<B>(make_descs(g, Layout::nhwc));
                if (on_avx512(alt.impl_info_str())) pd = alt;
            }
            e->prim = B(pd);
            e->scratchpad_bytes = pd.scratchpad_desc().get_size();
            e->args = {make_arg(DNNL_ARG_DIFF_DST, false, p.dst, pd.diff_dst_desc()),
                       make_arg(DNNL_ARG_SRC, false, p.src, pd.src_desc()),
                       make_arg(DNNL_ARG_DIFF_WEIGHTS, true, p.weights, pd.diff_weights_desc())};
            break;
        }
    }
    return e;
}

std::shared_ptr<const Entry> lookup(Kind kind, const ConvGeometry& g) {
    const Key key = make_key(kind, g);
    {
        std::lock_guard<std::mutex> lock(cache_mutex);
        auto it = cache().find(key);
        if (it != cache().end()) return it->second;
    }
    // Built outside the lock: two threads may build the same primitive once each, harmlessly.
    std::shared_ptr<const Entry> entry = build(kind, g);
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (cache().size() >= kCacheCapacity) cache().clear();
    return cache().emplace(key, std::move(entry)).first->second;
}

// Runs the primitive on xgrad's buffers `ptrs` (in the order of Entry::args): arguments in a
// layout of oneDNN's choosing are reordered into per-thread buffers first (inputs) or back
// afterwards (the output).
void run(Kind kind, const ConvGeometry& g, std::initializer_list<const float*> ptrs) {
    // One OpenMP thread per calling thread, as for the products (threads.cpp, gemm.cpp): an
    // OpenMP team would spin against xgrad's pool on a small machine.
    detail::sync_openmp_threads();
    try {
        const std::shared_ptr<const Entry> e = lookup(kind, g);
        std::unordered_map<int, memory> args;
        std::vector<std::pair<const Arg*, memory>> outputs;
        dnnl::stream& s = stream();
        int slot = 1;
        auto ptr = ptrs.begin();
        for (const Arg& a : e->args) {
            memory user(a.plain, engine(), const_cast<float*>(*ptr++));
            if (!a.reordered) {
                args.emplace(a.id, user);
                continue;
            }
            memory inner(a.inner, engine(), thread_buffer(slot++, a.inner.get_size()));
            if (a.output)
                outputs.emplace_back(&a, user);
            else
                a.reorder.execute(s, {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, inner}});
            args.emplace(a.id, inner);
        }
        if (e->scratchpad_bytes > 0) {
            const memory::desc pad_md({static_cast<memory::dim>(e->scratchpad_bytes)}, dt::u8,
                                      tag::x);
            args.emplace(DNNL_ARG_SCRATCHPAD,
                         memory(pad_md, engine(), thread_buffer(0, e->scratchpad_bytes)));
        }
        e->prim.execute(s, args);
        for (auto& [a, user] : outputs)
            a->reorder.execute(s, {{DNNL_ARG_FROM, args.at(a->id)}, {DNNL_ARG_TO, user}});
        s.wait();
    } catch (const dnnl::error& err) {
        raise<Error>("conv2d", "oneDNN failed (", err.what(), ", status ",
                     std::to_string(static_cast<int>(err.status)), ") on input [",
                     std::to_string(g.n), ", ", std::to_string(g.c), ", ", std::to_string(g.h),
                     ", ", std::to_string(g.w), "]");
    }
}

// The batch in chunks of whole images, run in parallel on xgrad's pool (oneDNN itself runs each
// call on one OpenMP thread, see run()). The chunks depend on the geometry alone, never on the
// thread count, so 1 and 2 threads give the same bits: a power of two of them, about
// kConvGrain multiply-adds each or more (some 20 us), at most kMaxConvChunks. On the LeNet step
// (batch 64: 4 and 8 chunks) chunks of 2^19, 2^20 and 2^21 multiply-adds timed the same on one
// thread and on two; the finer ones leave less for the caller to wait on when the host
// deschedules a worker.
constexpr std::int64_t kConvGrain = std::int64_t(1) << 20;
constexpr std::int64_t kMaxConvChunks = 16;
// The weight gradient of chunk i > 0 goes to a buffer of its own, added to the first in chunk
// order afterwards: at most this many floats of such buffers per call.
constexpr std::int64_t kMaxPartialFloats = std::int64_t(1) << 22;

std::int64_t conv_chunks(const ConvGeometry& g) {
    const std::int64_t per_image = g.o * g.oh * g.ow * (g.c / g.groups) * g.kh * g.kw;
    const std::int64_t limit = std::min(g.n, kMaxConvChunks);
    std::int64_t k = 1;
    while (2 * k <= limit && double(per_image) * double(g.n) / double(2 * k) >= double(kConvGrain))
        k *= 2;
    return k;
}

// The geometry of a run of `n` images of the batch.
ConvGeometry images(const ConvGeometry& g, std::int64_t n) {
    ConvGeometry part = g;
    part.n = n;
    return part;
}

// fn(chunk, first image, end image) for each of k runs of images of near-equal length (the
// first n % k one image longer).
template <class F>
void for_each_chunk(std::int64_t n, std::int64_t k, F&& fn) {
    if (k == 1) {
        fn(std::int64_t(0), std::int64_t(0), n);
        return;
    }
    auto bounds = [n, k](std::int64_t c) { return c * (n / k) + std::min(c, n % k); };
    parallel_for(k, 1, [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
        for (std::int64_t c = lo; c < hi; ++c) fn(c, bounds(c), bounds(c + 1));
    });
}

}  // namespace

bool conv_dnnl_supported(const ConvGeometry& g) {
    // oneDNN indexes with int in places: keep every extent and buffer well inside it.
    constexpr std::int64_t lim = std::int64_t(1) << 30;
    auto fits = [](std::initializer_list<std::int64_t> dims) {
        std::int64_t p = 1;
        for (std::int64_t v : dims) {
            if (v < 1 || v >= lim) return false;
            p *= v;  // both factors below 2^30: no overflow
            if (p >= lim) return false;
        }
        return true;
    };
    return g.groups >= 1 && fits({g.n, g.c, g.h, g.w}) && fits({g.n, g.o, g.oh, g.ow}) &&
           fits({g.o, g.c / g.groups, g.kh, g.kw}) && fits({g.sh, g.sw, g.dh, g.dw}) &&
           g.ph < lim && g.pw < lim;
}

void conv2d_forward_dnnl(const ConvGeometry& g, const float* x, const float* w, const float* b,
                         float* y) {
    const std::int64_t in = g.c * g.h * g.w, out = g.o * g.oh * g.ow;
    for_each_chunk(g.n, conv_chunks(g), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
        const ConvGeometry part = images(g, hi - lo);
        if (b)
            run(Kind::forward_bias, part, {x + lo * in, w, y + lo * out, b});
        else
            run(Kind::forward, part, {x + lo * in, w, y + lo * out});
    });
}

void conv2d_backward_data_dnnl(const ConvGeometry& g, const float* gy, const float* w, float* gx) {
    const std::int64_t in = g.c * g.h * g.w, out = g.o * g.oh * g.ow;
    for_each_chunk(g.n, conv_chunks(g), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
        run(Kind::backward_data, images(g, hi - lo), {gy + lo * out, w, gx + lo * in});
    });
}

void conv2d_backward_weights_dnnl(const ConvGeometry& g, const float* gy, const float* x,
                                  float* gw) {
    const std::int64_t in = g.c * g.h * g.w, out = g.o * g.oh * g.ow;
    const std::int64_t wsize = g.o * (g.c / g.groups) * g.kh * g.kw;
    const std::int64_t k =
        std::min(conv_chunks(g), std::max<std::int64_t>(1, 1 + kMaxPartialFloats / wsize));
    std::vector<float> partial(static_cast<std::size_t>((k - 1) * wsize));
    for_each_chunk(g.n, k, [&](std::int64_t c, std::int64_t lo, std::int64_t hi) {
        float* dst = c == 0 ? gw : partial.data() + (c - 1) * wsize;
        run(Kind::backward_weights, images(g, hi - lo), {gy + lo * out, x + lo * in, dst});
    });
    for (std::int64_t c = 1; c < k; ++c) {  // in chunk order: the same bits on any thread count
        const float* p = partial.data() + (c - 1) * wsize;
        for (std::int64_t i = 0; i < wsize; ++i) gw[i] += p[i];
    }
}

std::int64_t conv_dnnl_cache_size() {
    std::lock_guard<std::mutex> lock(cache_mutex);
    return static_cast<std::int64_t>(cache().size());
}

}  // namespace xgrad::kernels
