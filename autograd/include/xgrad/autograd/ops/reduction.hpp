// Reductions over all elements (dims = {}) or the given dims, optionally keeping them as size 1.
#pragma once
#include <optional>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

Tensor sum(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
// Largest / smallest values (torch.amax / amin): the gradient is shared evenly among ties.
Tensor max(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
Tensor min(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
// Index (int64) of the first largest / smallest value; over the flattened tensor when no dim.
Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt,
              bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt,
              bool keepdim = false);
// Variance with Bessel's correction by default (correction = 1), as torch.var.
Tensor var(const Tensor& x, const Axes& dims = {}, bool keepdim = false,
           std::int64_t correction = 1);
Tensor std(const Tensor& x, const Axes& dims = {}, bool keepdim = false,
           std::int64_t correction = 1);
// log(sum(exp(x))) computed without overflow.
Tensor logsumexp(const Tensor& x, const Axes& dims = {}, bool keepdim = false);

}  // namespace xgrad
