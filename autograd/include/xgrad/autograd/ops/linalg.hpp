// Matrix products on BLAS.
#pragma once
#include <xgrad/core/tensor.hpp>

namespace xgrad {

struct MatmulOptions {
    bool transpose_a = false;  // use a's last two dims transposed (a BLAS flag, no copy)
    bool transpose_b = false;
};

// torch.matmul semantics: 1-D x 1-D is a dot product, 1-D operands are promoted to matrices and
// the added dim removed again, and leading (batch) dims broadcast. Transposes (for operands of
// at least 2 dims) are passed to BLAS instead of being copied.
Tensor matmul(const Tensor& a, const Tensor& b, MatmulOptions options = {});

}  // namespace xgrad
