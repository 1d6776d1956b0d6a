// Reductions over all elements (dims = {}), the given dims, or one dim (`sum(x, 1)`,
// `mean(x, -1, true)`), optionally keeping them as size 1. Negative dims count from the end.
#pragma once
#include <optional>

#include <xgrad/autograd/ops/elementwise.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// sum of a bool tensor counts the trues (int64), as PyTorch; int64 sums stay int64.
Tensor sum(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
// Floating tensors only (a bool or int64 mean is a DtypeError, as in PyTorch).
Tensor mean(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
// Largest / smallest values (torch.amax / amin): the gradient is shared evenly among ties.
Tensor amax(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
// max(x) / min(x): the largest / smallest element (a 0-d tensor). With dims, the same as amax /
// amin (kept for existing callers; prefer amax / amin).
Tensor max(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
Tensor min(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
// torch.max(x, dim, keepdim): the largest values along dim and the int64 index of the first
// one (of the first NaN, if any: NaN propagates). The gradient flows to that index only.
ValuesIndices max_dim(const Tensor& x, std::int64_t dim, bool keepdim = false);
ValuesIndices min_dim(const Tensor& x, std::int64_t dim, bool keepdim = false);
// torch.max(a, b) / torch.min(a, b): elementwise, the same as maximum / minimum. (Templates, so
// that a braced list such as `min(x, {0})` always means dims.)
template <class T, std::enable_if_t<std::is_same_v<T, Tensor>, int> = 0>
Tensor max(const Tensor& a, const T& b) {
    return maximum(a, b);
}
template <class T, std::enable_if_t<std::is_same_v<T, Tensor>, int> = 0>
Tensor min(const Tensor& a, const T& b) {
    return minimum(a, b);
}
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
// Whether any / every element is non-zero (NaN counts as non-zero), as a bool tensor; any
// dtype. Over no elements: any is false, all is true.
Tensor any(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
Tensor all(const Tensor& x, const Axes& dims = {}, bool keepdim = false);
// Running sum along dim (torch.cumsum); bool and int64 inputs give int64.
Tensor cumsum(const Tensor& x, std::int64_t dim);
// softmax / log_softmax along dim (floating tensors), shifted by the detached maximum so that
// large logits neither overflow nor lose precision. nn::functional::softmax is this op.
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);

// The single-dim forms: sum(x, 1), mean(x, -1, true), max(x, 1) (values and indices)...
// Braced lists (`sum(x, {0, 1})`) always mean the dims forms above.
#define XGRAD_SINGLE_DIM_REDUCTION(name)                               \
    template <class I, detail::if_dim<I> = 0>                          \
    Tensor name(const Tensor& x, I dim, bool keepdim = false) {        \
        return name(x, Axes{static_cast<std::int64_t>(dim)}, keepdim); \
    }
XGRAD_SINGLE_DIM_REDUCTION(sum)
XGRAD_SINGLE_DIM_REDUCTION(mean)
XGRAD_SINGLE_DIM_REDUCTION(amax)
XGRAD_SINGLE_DIM_REDUCTION(amin)
XGRAD_SINGLE_DIM_REDUCTION(logsumexp)
XGRAD_SINGLE_DIM_REDUCTION(any)
XGRAD_SINGLE_DIM_REDUCTION(all)
#undef XGRAD_SINGLE_DIM_REDUCTION
template <class I, detail::if_dim<I> = 0>
Tensor var(const Tensor& x, I dim, bool keepdim = false, std::int64_t correction = 1) {
    return var(x, Axes{static_cast<std::int64_t>(dim)}, keepdim, correction);
}
template <class I, detail::if_dim<I> = 0>
Tensor std(const Tensor& x, I dim, bool keepdim = false, std::int64_t correction = 1) {
    return std(x, Axes{static_cast<std::int64_t>(dim)}, keepdim, correction);
}
template <class I, detail::if_dim<I> = 0>
ValuesIndices max(const Tensor& x, I dim, bool keepdim = false) {
    return max_dim(x, static_cast<std::int64_t>(dim), keepdim);
}
template <class I, detail::if_dim<I> = 0>
ValuesIndices min(const Tensor& x, I dim, bool keepdim = false) {
    return min_dim(x, static_cast<std::int64_t>(dim), keepdim);
}

}  // namespace xgrad
