// softmax and log_softmax along one dim, composed from differentiable ops (amax of the detached
// input, sub, logsumexp, exp), so every derivative comes from the tape.
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

std::int64_t softmax_dim(const char* op, const Tensor& x, std::int64_t dim) {
    check_defined(op, x);
    if (!is_floating(x.dtype()))
        raise<DtypeError>(op, "needs a floating tensor, got ", describe(x),
                          "; convert it with .to(kFloat) first");
    // A 0-d tensor has dims 0 and -1, as in PyTorch.
    return normalize_axis(dim, x.dim() == 0 ? 1 : x.dim(), op);
}

// x minus its (constant, detached) maximum along d, as PyTorch's softmax kernels do: the
// largest logit becomes exactly 0 and the others keep every bit that matters, which is what
// makes float32 softmax of logits like -1000 accurate. An infinite maximum shifts by 0.
Tensor shift_by_max(const Tensor& x, std::int64_t d) {
    if (x.numel() == 0 || x.dim() == 0) return x;
    Tensor m = amax(x.detach(), {d}, true);
    m = where(isinf(m), scalar_like(0.0, m, "softmax"), m);
    return x - m;
}

}  // namespace

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
    const std::int64_t d = softmax_dim("log_softmax", x, dim);
    if (x.dim() == 0) return x - logsumexp(x, {}, false);
    const Tensor z = shift_by_max(x, d);
    return z - logsumexp(z, {d}, true);
}

Tensor softmax(const Tensor& x, std::int64_t dim) {
    const std::int64_t d = softmax_dim("softmax", x, dim);
    if (x.dim() == 0) return exp(x - logsumexp(x, {}, false));
    const Tensor z = shift_by_max(x, d);
    return exp(z - logsumexp(z, {d}, true));
}

Tensor Tensor::softmax(std::int64_t dim) const {
    return xgrad::softmax(*this, dim);
}
Tensor Tensor::log_softmax(std::int64_t dim) const {
    return xgrad::log_softmax(*this, dim);
}

}  // namespace xgrad
