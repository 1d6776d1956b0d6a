// sort, argsort and topk. The positions come from a stable sort of each line along the dim (not
// differentiable: int64), and the values are gathered at them, so the gradient of the values
// is gather's (a scatter_add back to those positions) and differentiable again.
//
// Order as PyTorch: NaN is larger than every number (last ascending, first descending), and
// equal values keep their order (stable) in both directions.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/dispatch.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

template <class T>
bool is_nan(T v) {
    if constexpr (std::is_floating_point_v<T>)
        return std::isnan(v);
    else
        return false;
}

// The int64 positions that sort every line of x along d (x of at least one dim).
Tensor sort_positions(const Tensor& x, std::int64_t d, bool descending) {
    Tensor out = make_tensor(x.shape(), Dtype::i64);
    std::int64_t outer = 1, size = x.shape()[static_cast<std::size_t>(d)], inner = 1;
    for (std::int64_t i = 0; i < d; ++i) outer *= x.shape()[static_cast<std::size_t>(i)];
    for (std::int64_t i = d + 1; i < x.dim(); ++i) inner *= x.shape()[static_cast<std::size_t>(i)];
    std::int64_t* o = out.data_ptr<std::int64_t>();
    kernels::dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* in = x.data_ptr<T>();
        std::vector<std::int64_t> order(static_cast<std::size_t>(size));
        for (std::int64_t a = 0; a < outer; ++a)
            for (std::int64_t c = 0; c < inner; ++c) {
                const T* line = in + a * size * inner + c;
                auto at = [&](std::int64_t k) { return line[k * inner]; };
                // "a before b": NaN counts as the largest value.
                auto less = [&](std::int64_t i, std::int64_t j) {
                    const T u = at(i), v = at(j);
                    if (is_nan(u)) return false;
                    if (is_nan(v)) return true;
                    return u < v;
                };
                std::iota(order.begin(), order.end(), std::int64_t(0));
                if (descending)
                    std::stable_sort(order.begin(), order.end(),
                                     [&](std::int64_t i, std::int64_t j) { return less(j, i); });
                else
                    std::stable_sort(order.begin(), order.end(), less);
                for (std::int64_t k = 0; k < size; ++k)
                    o[(a * size + k) * inner + c] = order[static_cast<std::size_t>(k)];
            }
    });
    return out;
}

}  // namespace

ValuesIndices sort(const Tensor& x, std::int64_t dim, bool descending, bool /*stable*/) {
    check_defined("sort", x);
    if (x.dim() == 0) {
        normalize_axis(dim, 1, "sort");
        return {x.clone(), zeros({}, TensorOptions{Dtype::i64})};
    }
    const std::int64_t d = normalize_axis(dim, x.dim(), "sort");
    Tensor indices = sort_positions(x, d, descending);
    return {gather(x, d, indices), indices};
}

Tensor argsort(const Tensor& x, std::int64_t dim, bool descending) {
    check_defined("argsort", x);
    if (x.dim() == 0) {
        normalize_axis(dim, 1, "argsort");
        return zeros({}, TensorOptions{Dtype::i64});
    }
    return sort_positions(x, normalize_axis(dim, x.dim(), "argsort"), descending);
}

ValuesIndices topk(const Tensor& x, std::int64_t k, std::int64_t dim, bool largest,
                   bool /*sorted*/) {
    check_defined("topk", x);
    const std::int64_t d = normalize_axis(dim, x.dim() == 0 ? 1 : x.dim(), "topk");
    const std::int64_t size = x.dim() == 0 ? 1 : x.shape()[static_cast<std::size_t>(d)];
    if (k < 0 || k > size)
        raise<IndexError>("topk", "k (", k, ") is out of range for dimension ", d, " of size ",
                          size, " (input ", describe(x), ")");
    if (x.dim() == 0) return sort(x, d);
    Tensor indices = narrow(sort_positions(x, d, largest), d, 0, k);
    return {gather(x, d, indices), indices};
}

ValuesIndices Tensor::sort(std::int64_t dim, bool descending) const {
    return xgrad::sort(*this, dim, descending);
}
Tensor Tensor::argsort(std::int64_t dim, bool descending) const {
    return xgrad::argsort(*this, dim, descending);
}
ValuesIndices Tensor::topk(std::int64_t k, std::int64_t dim, bool largest, bool sorted) const {
    return xgrad::topk(*this, k, dim, largest, sorted);
}

}  // namespace xgrad
