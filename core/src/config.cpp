// xgrad::config(): the libraries under xgrad and their settings, as reported by themselves.
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

#include <sstream>

#include <xgrad/core/check.hpp>
#include <xgrad/core/config.hpp>
#include <xgrad/core/threads.hpp>
#include "kernels/isa.hpp"
#include "threads_internal.hpp"

#ifndef XGRAD_VERSION
#define XGRAD_VERSION "unknown"
#endif
#ifndef XGRAD_BUILD_ARCH
#define XGRAD_BUILD_ARCH ""
#endif

namespace xgrad {

namespace {

const char* isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
        case dnnl_cpu_isa_all:
            return "all";
        case dnnl_cpu_isa_sse41:
            return "sse41";
        case dnnl_cpu_isa_avx:
            return "avx";
        case dnnl_cpu_isa_avx2:
            return "avx2";
        case dnnl_cpu_isa_avx512_mic:
            return "avx512_mic";
        case dnnl_cpu_isa_avx512_mic_4ops:
            return "avx512_mic_4ops";
        case dnnl_cpu_isa_avx512_core:
            return "avx512_core";
        case dnnl_cpu_isa_avx512_core_vnni:
            return "avx512_core_vnni";
        case dnnl_cpu_isa_avx512_core_bf16:
            return "avx512_core_bf16";
        case dnnl_cpu_isa_avx512_core_amx:
            return "avx512_core_amx";
        case dnnl_cpu_isa_avx2_vnni:
            return "avx2_vnni";
    }
    return "unknown";
}

const char* runtime_name(unsigned runtime) {
    switch (runtime) {
        case DNNL_RUNTIME_NONE:
            return "none";
        case DNNL_RUNTIME_SEQ:
            return "sequential";
        case DNNL_RUNTIME_OMP:
            return "OpenMP";
        case DNNL_RUNTIME_TBB:
            return "TBB";
        case DNNL_RUNTIME_THREADPOOL:
            return "threadpool";
        case DNNL_RUNTIME_OCL:
            return "OpenCL";
        case DNNL_RUNTIME_SYCL:
            return "SYCL";
    }
    return "unknown";
}

}  // namespace

std::string config() {
    std::ostringstream os;
    os << "xgrad: " << XGRAD_VERSION << "\n";
    const dnnl_version_t* v = dnnl_version();
    os << "oneDNN: " << v->major << "." << v->minor << "." << v->patch;
    if (v->hash && *v->hash && std::string(v->hash) != "N/A") os << " (" << v->hash << ")";
    os << ", CPU runtime " << runtime_name(v->cpu_runtime) << "\n";
    os << "oneDNN ISA: " << isa_name(dnnl_get_effective_cpu_isa())
       << " (float32 matrix products: dnnl_sgemm)\n";
    const char* blas_config = openblas_get_config();
    const char* blas_core = openblas_get_corename();
    os << "OpenBLAS: " << (blas_config ? blas_config : "?")
       << " (float64 matrix products: cblas_dgemm)\n";
    os << "OpenBLAS core: " << (blas_core ? blas_core : "?") << "\n";
    const std::string arch = XGRAD_BUILD_ARCH;
    os << "elementwise kernels: " << kernel_isa() << " (runtime dispatch; CPU supports "
       << kernels::isa_name(kernels::detected_isa()) << "; library built for "
       << (arch.empty() ? std::string("any x86-64") : "-march=" + arch) << ")\n";
    os << "threads: xgrad " << get_num_threads() << ", OpenBLAS " << openblas_get_num_threads()
       << ", OpenMP " << detail::openmp_max_threads() << " (" << detail::openmp_runtime()
       << "; float32 products split by xgrad's pool)\n";
    return os.str();
}

std::string kernel_isa() {
    return kernels::isa_name(kernels::active_isa());
}

std::string set_kernel_isa(const std::string& isa) {
    kernels::Isa want;
    if (isa == "baseline")
        want = kernels::Isa::baseline;
    else if (isa == "avx2")
        want = kernels::Isa::avx2;
    else if (isa == "avx512" || isa == "auto")
        want = kernels::Isa::avx512;
    else
        raise<ValueError>("set_kernel_isa", "unknown instruction set '", isa,
                          "' (expected baseline, avx2, avx512 or auto)");
    return kernels::isa_name(kernels::set_isa(want));
}

}  // namespace xgrad
