// Matrix products: float32 on oneDNN's sgemm (it detects the CPU's instruction set and
// JIT-compiles its kernels, so it is fast on CPUs that OpenBLAS does not recognise), float64 on
// OpenBLAS's dgemm (oneDNN has no dgemm). The only translation unit besides threads.cpp and
// config.cpp that includes OpenBLAS's cblas.h (it clashes with xtensor-blas) or oneDNN's header.
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

#include <xgrad/core/check.hpp>
#include <xgrad/core/threads.hpp>
#include "kernels/gemm.hpp"
#include "kernels/parallel.hpp"
#include "threads_internal.hpp"

namespace xgrad::kernels {

namespace {

void sgemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
           std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
           std::int64_t ldc) {
    detail::sync_openmp_threads();  // also on the pool's workers, which run the pieces
    const dnnl_status_t status =
        dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
    if (status != dnnl_success)
        raise<Error>("matmul", "oneDNN's sgemm failed (status ", int(status), ") for M=", m,
                     " N=", n, " K=", k);
}

// A product of at least this many multiply-adds (about 20 us on one core) is split across
// xgrad's pool; smaller ones run on the calling thread.
constexpr std::int64_t kSplitGemm = std::int64_t(1) << 21;

// Rows (or columns) per piece: len / threads rounded down to a multiple of `align`, so that
// pieces start on whole kernel blocks; 0 when the dimension is too short to split.
std::int64_t piece(std::int64_t len, int threads, std::int64_t align) {
    return len / threads / align * align;
}

}  // namespace

// oneDNN runs every product on one OpenMP thread (detail::sync_openmp_threads); a large one is
// split here into blocks of rows of C (or of columns, when C is wider than tall), one per
// thread of xgrad's pool. Measured on the main job: letting oneDNN thread with OpenMP made
// libgomp's idle worker spin (it waits 300 000 pause iterations for the next region, and
// OMP_WAIT_POLICY cannot be set from inside the program, libgomp reads it before main) against
// our own threads, 4x slower on a loaded 2-core machine; one pool has nothing to spin against.
void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
    const int threads = in_parallel_region() ? 1 : get_num_threads();
    if (threads > 1 && m * n * k >= kSplitGemm) {
        const std::int64_t rows = piece(m, threads, 16), cols = piece(n, threads, 64);
        if (m >= n ? rows > 0 : cols == 0) {
            if (rows > 0) {
                parallel_for(m, rows, [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
                    sgemm(ta, tb, hi - lo, n, k, ta ? a + lo : a + lo * lda, lda, b, ldb, beta,
                          c + lo * ldc, ldc);
                });
                return;
            }
        } else if (cols > 0) {
            parallel_for(n, cols, [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
                sgemm(ta, tb, m, hi - lo, k, a, lda, tb ? b + lo * ldb : b + lo, ldb, beta, c + lo,
                      ldc);
            });
            return;
        }
    }
    sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const double* a,
          std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
          std::int64_t ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                int(m), int(n), int(k), 1.0, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

}  // namespace xgrad::kernels
