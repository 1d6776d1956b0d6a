// Matrix products on BLAS.
#pragma once
#include <string>

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
// torch.mm ([n, m] x [m, p]) and torch.bmm ([b, n, m] x [b, m, p]): matmul without promotion
// or broadcasting (other shapes are ShapeErrors).
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
// Einstein summation, as torch.einsum: "bij,bjk->bik", "bhqd,bhkd->bhqk", "ij->ji",
// "bi,bi->b", or without "->" (the output is the letters used once, in alphabetical order).
// One or more operands (contracted left to right); letters a-z and A-Z; a repeated letter
// within one operand (a diagonal) and "..." are not supported. Built on permute, reshape,
// sum and matmul, so it is differentiable to any order.
Tensor einsum(const std::string& equation, const TensorList& operands);

}  // namespace xgrad
