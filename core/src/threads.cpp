// xgrad::set_num_threads: one thread count for xgrad's worker pool (parallel.cpp), which also
// splits oneDNN's float32 products (each piece on one OpenMP thread), and OpenBLAS's pool
// (float64 products), so that they never ask for more cores than the user gave.
//
// oneDNN is built with OpenMP (Debian: libgomp, loaded as libdnnl.so's dependency). Its
// omp_set_num_threads is looked up in the process at run time rather than linked: a clang build
// linking OpenMP itself would bring clang's libomp, a second runtime that oneDNN does not use.
#include <cblas.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>

#include <xgrad/core/threads.hpp>
#include "kernels/parallel.hpp"
#include "threads_internal.hpp"

namespace xgrad {

namespace {

std::atomic<int> g_threads{0};          // 0: not set yet, OpenBLAS's default applies
thread_local int t_openmp_threads = 0;  // what this thread's OpenMP count was last set to

struct OpenMP {
    void (*set_num_threads)(int) = nullptr;
    int (*get_max_threads)() = nullptr;
};

const OpenMP& openmp() {
    static const OpenMP api = [] {
        OpenMP o;
        o.set_num_threads =
            reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
        o.get_max_threads = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
        return o;
    }();
    return api;
}

}  // namespace

void set_num_threads(int n) {
    n = std::max(1, n);
    g_threads.store(n, std::memory_order_relaxed);
    openblas_set_num_threads(n);
    detail::sync_openmp_threads();
}

int get_num_threads() {
    int n = g_threads.load(std::memory_order_relaxed);
    if (n > 0) return n;
    // Not set: OpenBLAS's default (OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else the cores).
    int expected = 0;
    g_threads.compare_exchange_strong(expected, std::max(1, openblas_get_num_threads()),
                                      std::memory_order_relaxed);
    return g_threads.load(std::memory_order_relaxed);
}

namespace detail {

void sync_openmp_threads() {
    // oneDNN's products run on one OpenMP thread; kernels::gemm splits large ones across xgrad's
    // pool instead (gemm.cpp says why).
    const int want = 1;
    if (t_openmp_threads == want) return;
    if (openmp().set_num_threads) openmp().set_num_threads(want);
    t_openmp_threads = want;
}

int openmp_max_threads() {
    return openmp().get_max_threads ? openmp().get_max_threads() : 0;
}

const char* openmp_runtime() {
    if (!openmp().get_max_threads) return "none";
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(openmp().get_max_threads), &info) && info.dli_fname) {
        const char* name = info.dli_fname;
        for (const char* p = name; *p; ++p)
            if (*p == '/') name = p + 1;
        return name;
    }
    return "unknown";
}

}  // namespace detail

}  // namespace xgrad
