// Matrix products on OpenBLAS. Row-major; transposes are passed as BLAS flags, never copied.
#pragma once
#include <cstdint>

namespace xgrad::kernels {

// C[M,N] = op(A)[M,K] * op(B)[K,N] + beta * C
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc);
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
          double* c, std::int64_t ldc);

}  // namespace xgrad::kernels
