// The CPU check behind kernels/isa.hpp.
#include "kernels/isa.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace xgrad::kernels {

namespace {

Isa detect() {
    // libgcc's (and compiler-rt's) cpu model also checks that the OS saves the AVX and AVX-512
    // registers (XGETBV), not only the CPUID bits.
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return Isa::avx512;
    return avx2 ? Isa::avx2 : Isa::baseline;
}

Isa min_isa(Isa a, Isa b) {
    return static_cast<int>(a) < static_cast<int>(b) ? a : b;
}

// XGRAD_ISA=baseline|avx2|avx512 caps the choice (unknown values are ignored).
Isa initial() {
    Isa isa = detected_isa();
    if (const char* env = std::getenv("XGRAD_ISA")) {
        if (std::strcmp(env, "baseline") == 0) isa = Isa::baseline;
        if (std::strcmp(env, "avx2") == 0) isa = min_isa(isa, Isa::avx2);
    }
    return isa;
}

std::atomic<int> g_active{-1};

}  // namespace

Isa detected_isa() {
    static const Isa isa = detect();
    return isa;
}

Isa active_isa() {
    int v = g_active.load(std::memory_order_relaxed);
    if (v < 0) {
        v = static_cast<int>(initial());
        g_active.store(v, std::memory_order_relaxed);
    }
    return static_cast<Isa>(v);
}

Isa set_isa(Isa requested) {
    const Isa isa = min_isa(requested, detected_isa());
    g_active.store(static_cast<int>(isa), std::memory_order_relaxed);
    return isa;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::avx512:
            return "avx512";
        case Isa::avx2:
            return "avx2";
        case Isa::baseline:
            return "baseline";
    }
    return "baseline";
}

}  // namespace xgrad::kernels
