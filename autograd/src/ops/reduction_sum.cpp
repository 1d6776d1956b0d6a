// sum and mean, and the bool reductions any / all. Floating sums accumulate in double so
// float32 results stay accurate; a bool sum counts the trues as int64, as PyTorch.
#include <algorithm>
#include <vector>

#include "kernels/elementwise.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {
// The dispatched kernels (kernels/simd.hpp): eight interleaved partial sums, float32
// accumulated in double, the same bits on every ISA.
template <class Acc, class T>
Acc sum_all(const T* p, std::int64_t n) {
    return kernels::simd::sum(p, n);
}
// A large sum in parallel chunks (kernels/parallel.hpp); the partial sums are added in chunk
// order, so the result is the same with any number of threads.
template <class Acc, class T>
Acc sum_all_chunked(const T* p, std::int64_t n) {
    std::vector<Acc> partial(static_cast<std::size_t>(kernels::chunk_count(n)), Acc(0));
    kernels::parallel_for(n, [&](std::int64_t c, std::int64_t lo, std::int64_t hi) {
        partial[static_cast<std::size_t>(c)] = sum_all<Acc>(p + lo, hi - lo);
    });
    Acc acc = 0;
    for (Acc v : partial) acc += v;
    return acc;
}

// Sums the [outer, reduced, inner] view of `in`: the inner loop runs over contiguous memory.
template <class Acc, class T>
std::vector<Acc> sum_block(const T* in, std::int64_t outer, std::int64_t reduced,
                           std::int64_t inner) {
    std::vector<Acc> out(static_cast<std::size_t>(outer * inner), Acc(0));
    for (std::int64_t o = 0; o < outer; ++o) {
        Acc* acc = out.data() + o * inner;
        const T* block = in + o * reduced * inner;
        if (inner == 1) {
            *acc = sum_all<Acc>(block, reduced);
            continue;
        }
        for (std::int64_t r = 0; r < reduced; ++r)
            kernels::simd::accumulate(acc, block + r * inner, inner);
    }
    return out;
}

// Sums over `axes` (sorted, unique): each run of adjacent axes is one [outer, reduced, inner]
// pass, innermost run first, so every pass reads memory in order.
template <class Acc, class T>
std::vector<Acc> sum_axes(const T* data, Shape shape, const Axes& axes) {
    std::vector<Acc> current;
    bool first = true;
    for (std::size_t end = axes.size(); end > 0;) {
        std::size_t begin = end - 1;
        while (begin > 0 && axes[begin - 1] + 1 == axes[begin]) --begin;
        const auto lo = static_cast<std::size_t>(axes[begin]);
        const auto hi = static_cast<std::size_t>(axes[end - 1]);
        std::int64_t outer = 1, reduced = 1, inner = 1;
        for (std::size_t d = 0; d < shape.size(); ++d)
            (d < lo ? outer : d <= hi ? reduced : inner) *= shape[d];
        current = first ? sum_block<Acc>(data, outer, reduced, inner)
                        : sum_block<Acc>(current.data(), outer, reduced, inner);
        first = false;
        for (std::size_t d = lo; d <= hi; ++d) shape[d] = 1;
        end = begin;
    }
    return current;
}
}  // namespace

Tensor sum(const Tensor& x, const Axes& dims, bool keepdim) {
    check_defined("sum", x);
    if (x.dtype() == Dtype::b8) {
        normalize_axes(dims, x.dim(), "sum");
        return sum(x.to(Dtype::i64), dims, keepdim);
    }
    const Axes axes = normalize_axes(dims, x.dim(), "sum");
    const Shape out_shape = reduced_shape(x.shape(), axes, keepdim);
    Tensor out = make_tensor(out_shape, x.dtype());
    kernels::dispatch_numeric(x.dtype(), "sum", [&](auto tag) {
        using T = typename decltype(tag)::type;
        using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
        T* o = out.data_ptr<T>();
        if (static_cast<std::int64_t>(axes.size()) == x.dim()) {
            *o = static_cast<T>(sum_all_chunked<Acc>(x.data_ptr<T>(), x.numel()));
        } else if (axes.empty()) {
            std::copy(x.data_ptr<T>(), x.data_ptr<T>() + x.numel(), o);
        } else {
            std::vector<Acc> r = sum_axes<Acc>(x.data_ptr<T>(), x.shape(), axes);
            std::transform(r.begin(), r.end(), o, [](Acc v) { return static_cast<T>(v); });
        }
    });
    if (should_record({&x})) {
        Shape in_shape = x.shape();
        Shape kept = reduced_shape(in_shape, axes, true);
        record("SumBackward", out, {x}, {}, [in_shape, kept](Node&, const Tensor& g) -> TensorList {
            return {expand(reshape(g, kept), in_shape)};
        });
    }
    return out;
}

Tensor mean(const Tensor& x, const Axes& dims, bool keepdim) {
    check_defined("mean", x);
    if (!is_floating(x.dtype()))
        raise<DtypeError>("mean",
                          "could not infer the output dtype: the input must be floating, got ",
                          describe(x), " (convert it with .to(kFloat) first)");
    const Axes axes = normalize_axes(dims, x.dim(), "mean");
    std::int64_t count = 1;
    for (auto a : axes) count *= x.shape()[a];
    if (count == 0)
        raise<ValueError>("mean", "mean over an empty set of elements (shape ",
                          shape_str(x.shape()), ")");
    return sum(x, dims, keepdim) / static_cast<double>(count);
}

namespace {
// The number of non-zero elements of x over dims (int64), for any / all.
Tensor count_nonzero(const char* op, const Tensor& x, const Axes& dims, bool keepdim) {
    check_defined(op, x);
    normalize_axes(dims, x.dim(), op);
    const Tensor nz = x.dtype() == Dtype::b8 ? x : ne(x, scalar_like(0.0, x, op));
    return sum(nz.to(Dtype::i64), dims, keepdim);
}
}  // namespace

Tensor any(const Tensor& x, const Axes& dims, bool keepdim) {
    return gt(count_nonzero("any", x, dims, keepdim), zeros({}, TensorOptions{Dtype::i64}));
}

Tensor all(const Tensor& x, const Axes& dims, bool keepdim) {
    check_defined("all", x);
    const Tensor zero = zeros({}, TensorOptions{x.dtype()});
    const Tensor is_zero = x.dtype() == Dtype::b8 ? logical_not(x) : eq(x, zero);
    return eq(count_nonzero("all", is_zero, dims, keepdim), zeros({}, TensorOptions{Dtype::i64}));
}

Tensor Tensor::any(const Axes& d, bool k) const {
    return xgrad::any(*this, d, k);
}
Tensor Tensor::all(const Axes& d, bool k) const {
    return xgrad::all(*this, d, k);
}
Tensor Tensor::sum(const Axes& d, bool k) const {
    return xgrad::sum(*this, d, k);
}
Tensor Tensor::mean(const Axes& d, bool k) const {
    return xgrad::mean(*this, d, k);
}

}  // namespace xgrad
