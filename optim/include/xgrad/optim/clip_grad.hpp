// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch 1.13).
#pragma once
#include <limits>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::optim {

// Scales the gradients of `params` in place so that their total norm (all gradients seen as
// one vector) is at most max_norm: every gradient is multiplied by min(1, max_norm / (total +
// 1e-6)). norm_type is p > 0 or infinity (the largest |g|). Returns the total norm before
// clipping. Parameters without a gradient are skipped (no gradient at all gives 0). With
// error_if_nonfinite, a NaN or infinite total norm throws ValueError and leaves the gradients
// unchanged; otherwise they are scaled by the (NaN) coefficient as in PyTorch.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient of `params` in place to [-clip_value, clip_value] (clip_value >= 0).
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

inline constexpr double inf_norm = std::numeric_limits<double>::infinity();

}  // namespace xgrad::optim
