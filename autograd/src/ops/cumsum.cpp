// cumsum: the running sum along one dim. Its adjoint is the reversed running sum (each input
// element reaches every output at or after it), so the backward rule is this same kernel with
// the direction flipped: linear, and differentiable to any order.
#include <type_traits>

#include "kernels/dispatch.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

// Running sums of x viewed as [outer, size, inner] along the middle axis, forwards or (reverse)
// from the end. Floating sums accumulate in double, as sum does.
Tensor running_sum(const Tensor& x, std::int64_t d, bool reverse) {
    Tensor out = make_tensor(x.shape(), x.dtype());
    std::int64_t outer = 1, size = x.dim() == 0 ? 1 : x.shape()[static_cast<std::size_t>(d)],
                 inner = 1;
    for (std::int64_t i = 0; i < d; ++i) outer *= x.shape()[static_cast<std::size_t>(i)];
    for (std::int64_t i = d + 1; i < x.dim(); ++i) inner *= x.shape()[static_cast<std::size_t>(i)];
    kernels::dispatch_numeric(x.dtype(), "cumsum", [&](auto tag) {
        using T = typename decltype(tag)::type;
        using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
        const T* in = x.data_ptr<T>();
        T* o = out.data_ptr<T>();
        for (std::int64_t a = 0; a < outer; ++a)
            for (std::int64_t c = 0; c < inner; ++c) {
                Acc acc = 0;
                for (std::int64_t k = 0; k < size; ++k) {
                    const std::int64_t r = reverse ? size - 1 - k : k;
                    const std::int64_t at = (a * size + r) * inner + c;
                    acc += static_cast<Acc>(in[at]);
                    o[at] = static_cast<T>(acc);
                }
            }
    });
    if (should_record({&x}))
        record(reverse ? "CumsumReverseBackward" : "CumsumBackward", out, {x}, {},
               [d, reverse](Node&, const Tensor& g) -> TensorList {
                   return {running_sum(g, d, !reverse)};
               });
    return out;
}

}  // namespace

Tensor cumsum(const Tensor& x, std::int64_t dim) {
    check_defined("cumsum", x);
    const std::int64_t d = normalize_axis(dim, x.dim() == 0 ? 1 : x.dim(), "cumsum");
    if (x.dtype() == Dtype::b8) return running_sum(x.to(Dtype::i64), d, false);
    return running_sum(x, d, false);
}

Tensor Tensor::cumsum(std::int64_t dim) const {
    return xgrad::cumsum(*this, dim);
}

}  // namespace xgrad
