// The only translation unit that includes OpenBLAS's cblas.h (it clashes with xtensor-blas).
#include <cblas.h>

#include <xgrad/core/threads.hpp>
#include "kernels/gemm.hpp"

namespace xgrad {

namespace kernels {

void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const double* a,
          std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
          std::int64_t ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                int(m), int(n), int(k), 1.0, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

}  // namespace kernels

void set_num_threads(int n) {
    openblas_set_num_threads(n < 1 ? 1 : n);
}
int get_num_threads() {
    return openblas_get_num_threads();
}

}  // namespace xgrad
