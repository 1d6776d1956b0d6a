// Constant padding (and cropping) of an n-d tensor of any dtype: the kernel of pad.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::kernels {

// out = x with p[k] = {left, right} elements added (or removed, when negative) on each side of
// dim k, the added ones set to `value`. out has the padded shape and x's dtype, allocated by the
// caller; p has one pair per dim of x.
void pad_constant(const Tensor& x, const std::vector<std::pair<std::int64_t, std::int64_t>>& p,
                  double value, Tensor& out);

}  // namespace xgrad::kernels
