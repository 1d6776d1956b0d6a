// 2-D convolution on oneDNN (float32). The only translation unit that includes oneDNN's
// convolution API.
//
// - Memory is plain NCHW for activations and OIHW (GOIHW with groups) for weights, the layout of
//   xgrad's tensors, so no reorder is needed around a call.
// - Primitives are built once per (kind, geometry) and kept in a small cache guarded by a mutex
//   (a primitive descriptor costs tens of microseconds to create; a cached call costs a map
//   lookup). oneDNN primitives are stateless, so one primitive may run on several threads at
//   once.
// - Scratchpads are user-managed: each calling thread owns a growing, 64-byte aligned buffer, so
//   concurrent calls never share one (oneDNN's library-managed scratchpad would be shared).
// - One CPU engine for the process; one stream per calling thread.
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <xgrad/core/check.hpp>

#include "kernels/conv.hpp"

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

struct Entry {
    dnnl::primitive prim;
    std::size_t scratchpad_bytes = 0;
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

// The calling thread's scratchpad, at least `bytes` long.
void* scratchpad(std::size_t bytes) {
    struct Free {
        void operator()(void* p) const { std::free(p); }
    };
    thread_local std::unique_ptr<void, Free> buf;
    thread_local std::size_t size = 0;
    if (bytes > size) {
        const std::size_t rounded = (bytes + 63) / 64 * 64;
        buf.reset(std::aligned_alloc(64, rounded));
        if (!buf) {
            size = 0;
            raise<OutOfMemoryError>("conv2d", "cannot allocate a oneDNN scratchpad of ",
                                    std::to_string(rounded), " bytes");
        }
        size = rounded;
    }
    return buf.get();
}

struct Descs {
    memory::desc src, weights, bias, dst;
    memory::dims strides, dilates, padding_l, padding_r;
};

Descs make_descs(const ConvGeometry& g) {
    Descs d;
    d.src = memory::desc({g.n, g.c, g.h, g.w}, dt::f32, tag::nchw);
    if (g.groups == 1)
        d.weights = memory::desc({g.o, g.c, g.kh, g.kw}, dt::f32, tag::oihw);
    else
        d.weights = memory::desc({g.groups, g.o / g.groups, g.c / g.groups, g.kh, g.kw}, dt::f32,
                                 tag::goihw);
    d.bias = memory::desc({g.o}, dt::f32, tag::x);
    d.dst = memory::desc({g.n, g.o, g.oh, g.ow}, dt::f32, tag::nchw);
    d.strides = {g.sh, g.sw};
    d.dilates = {g.dh - 1, g.dw - 1};  // oneDNN counts the gaps: 0 is a dense kernel
    d.padding_l = {g.ph, g.pw};
    d.padding_r = {g.ph, g.pw};  // rows past the last full window are ignored, as in PyTorch
    return d;
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

std::shared_ptr<const Entry> build(Kind kind, const ConvGeometry& g) {
    const Descs d = make_descs(g);
    auto entry = std::make_shared<Entry>();
    switch (kind) {
        case Kind::forward:
        case Kind::forward_bias: {
            const auto pd = forward_pd(d, kind == Kind::forward_bias);
            entry->prim = dnnl::convolution_forward(pd);
            entry->scratchpad_bytes = pd.scratchpad_desc().get_size();
            break;
        }
        case Kind::backward_data: {
            using B = dnnl::convolution_backward_data;
            const B::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst,
                               d.strides, d.dilates, d.padding_l, d.padding_r);
            const B::primitive_desc pd(desc, scratchpad_attr(), engine(), forward_pd(d, false));
            entry->prim = B(pd);
            entry->scratchpad_bytes = pd.scratchpad_desc().get_size();
            break;
        }
        case Kind::backward_weights: {
            using B = dnnl::convolution_backward_weights;
            const B::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst,
                               d.strides, d.dilates, d.padding_l, d.padding_r);
            const B::primitive_desc pd(desc, scratchpad_attr(), engine(), forward_pd(d, false));
            entry->prim = B(pd);
            entry->scratchpad_bytes = pd.scratchpad_desc().get_size();
            break;
        }
    }
    return entry;
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

memory make_memory(const memory::desc& md, const float* p) {
    return memory(md, engine(), const_cast<float*>(p));
}

void run(Kind kind, const ConvGeometry& g, std::unordered_map<int, memory> args) {
    try {
        const std::shared_ptr<const Entry> e = lookup(kind, g);
        const memory::desc pad_md({static_cast<memory::dim>(e->scratchpad_bytes)}, dt::u8, tag::x);
        if (e->scratchpad_bytes > 0)
            args.emplace(DNNL_ARG_SCRATCHPAD,
                         memory(pad_md, engine(), scratchpad(e->scratchpad_bytes)));
        e->prim.execute(stream(), args);
        stream().wait();
    } catch (const dnnl::error& err) {
        raise<Error>("conv2d", "oneDNN failed (", err.what(), ", status ",
                     std::to_string(static_cast<int>(err.status)), ") on input [",
                     std::to_string(g.n), ", ", std::to_string(g.c), ", ", std::to_string(g.h),
                     ", ", std::to_string(g.w), "]");
    }
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
    const Descs d = make_descs(g);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, make_memory(d.src, x)},
                                         {DNNL_ARG_WEIGHTS, make_memory(d.weights, w)},
                                         {DNNL_ARG_DST, make_memory(d.dst, y)}};
    if (b) args.emplace(DNNL_ARG_BIAS, make_memory(d.bias, b));
    run(b ? Kind::forward_bias : Kind::forward, g, std::move(args));
}

void conv2d_backward_data_dnnl(const ConvGeometry& g, const float* gy, const float* w, float* gx) {
    const Descs d = make_descs(g);
    run(Kind::backward_data, g,
        {{DNNL_ARG_DIFF_DST, make_memory(d.dst, gy)},
         {DNNL_ARG_WEIGHTS, make_memory(d.weights, w)},
         {DNNL_ARG_DIFF_SRC, make_memory(d.src, gx)}});
}

void conv2d_backward_weights_dnnl(const ConvGeometry& g, const float* gy, const float* x,
                                  float* gw) {
    const Descs d = make_descs(g);
    run(Kind::backward_weights, g,
        {{DNNL_ARG_DIFF_DST, make_memory(d.dst, gy)},
         {DNNL_ARG_SRC, make_memory(d.src, x)},
         {DNNL_ARG_DIFF_WEIGHTS, make_memory(d.weights, gw)}});
}

std::int64_t conv_dnnl_cache_size() {
    std::lock_guard<std::mutex> lock(cache_mutex);
    return static_cast<std::int64_t>(cache().size());
}

}  // namespace xgrad::kernels
