// Run-time instruction-set dispatch for the hot plain-loop kernels (elementwise maps, sums,
// optimizer updates).
//
// The library is built for baseline x86-64 (no -march: SSE2 only), so it runs on every x86-64
// CPU. A hot kernel is written once as plain C++ loops in an always-inline body, and compiled
// three times in the same translation unit: as a baseline function and as two functions with
// GCC/Clang `__attribute__((target(...)))` (AVX2+FMA, and AVX-512). active_isa() picks one at
// run time from the CPU (checked once, cached). Why this and not per-ISA translation units
// compiled with different -m flags: templates and inline functions (xtensor, xsimd, the
// standard library) instantiated in two TUs with different -m flags are merged by the linker
// into ONE copy picked arbitrarily (the ODR), so AVX-512 code could end up on the baseline path.
// With target attributes every TU is compiled with the same flags; only the attributed
// functions use wider instructions, and what they call without inlining is baseline code.
// Why not `target_clones`: its "arch=" clones are resolved with __builtin_cpu_is (a CPU model,
// not features), it cannot name "avx2 and fma" as one clone, and an explicit choice lets
// config() report the ISA and tests force each path (set_kernel_isa, XGRAD_ISA).
//
// Rules for a dispatched kernel (see kernels/simd.cpp, optim/src/sgd.cpp, adam.cpp):
// - the three variants and their body live in an anonymous namespace (internal linkage);
// - the body and any helper it calls are XGRAD_ALWAYS_INLINE, so they are compiled into each
//   variant with its instruction set (a helper left out of line is baseline code: correct,
//   just not vectorised for the wider ISA);
// - no xtensor/xsimd calls in the body (they would be out-of-line baseline templates).
// Within one process the ISA is fixed, so results do not depend on the thread count.
#pragma once
#include <string>

namespace xgrad::kernels {

enum class Isa : int { baseline = 0, avx2 = 1, avx512 = 2 };

// The ISA the dispatched kernels run with: the best the CPU (and OS) supports, capped by the
// environment variable XGRAD_ISA (baseline, avx2 or avx512) and by set_isa().
Isa active_isa();
// The best ISA the CPU supports.
Isa detected_isa();
// Caps the ISA (at most the detected one); returns the one in effect. For tests and
// benchmarks: call it while no op runs.
Isa set_isa(Isa requested);
const char* isa_name(Isa isa);

}  // namespace xgrad::kernels

#define XGRAD_ALWAYS_INLINE __attribute__((always_inline)) inline
// The two wider instruction sets: x86-64-v3's AVX2+FMA (what XGRAD_ARCH=x86-64-v3 used to give
// the whole library) and AVX-512 (F, VL, BW, DQ: Skylake-SP and later).
#define XGRAD_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define XGRAD_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

// Defines NAME##_baseline, NAME##_avx2 and NAME##_avx512, each `RET (PARAMS)` returning
// BODY ARGS (BODY: an XGRAD_ALWAYS_INLINE function or a template-id without commas), and
// `RET NAME PARAMS` that calls the one for active_isa(). Use inside an anonymous namespace.
#define XGRAD_DISPATCHED(RET, NAME, BODY, PARAMS, ARGS) \
    RET NAME##_baseline PARAMS {                        \
        return BODY ARGS;                               \
    }                                                   \
    XGRAD_TARGET_AVX2 RET NAME##_avx2 PARAMS {          \
        return BODY ARGS;                               \
    }                                                   \
    XGRAD_TARGET_AVX512 RET NAME##_avx512 PARAMS {      \
        return BODY ARGS;                               \
    }                                                   \
    RET NAME PARAMS {                                   \
        switch (::xgrad::kernels::active_isa()) {       \
            case ::xgrad::kernels::Isa::avx512:         \
                return NAME##_avx512 ARGS;              \
            case ::xgrad::kernels::Isa::avx2:           \
                return NAME##_avx2 ARGS;                \
            default:                                    \
                return NAME##_baseline ARGS;            \
        }                                               \
    }
