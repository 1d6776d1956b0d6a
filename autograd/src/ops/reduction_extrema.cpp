// max / min (torch.amax / amin) and argmax / argmin.
//
// Semantics:
// - max/min reduce over all elements (dims = {}) or the given dims; reducing over a dimension
//   of size 0 is a ValueError (there is no identity to return). A dimension of size 0 that is
//   kept just gives an empty result.
// - NaN propagates: the max (or min) of a slice that holds a NaN is NaN, and argmax/argmin
//   return the index of the first NaN, as PyTorch does.
// - The gradient is shared evenly among the elements equal to the result (ties), as
//   torch.amax: grad_in = g * mask / count(mask). The mask is a constant, so the backward rule
//   is linear in g and differentiable again. In a slice whose result is NaN, the NaN elements
//   form the mask (PyTorch instead gives NaN gradients to the whole slice).
// - argmax/argmin give int64 indices of the first extreme value, along `dim`, or into the
//   flattened tensor when dim is nullopt (then keepdim keeps every dim as size 1).
#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>
#include <vector>

#include "kernels/dispatch.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

// Where the elements of each reduced slice live in a contiguous row-major tensor: the offset
// of the first element of slice j is outer[j], the offsets of its elements relative to that
// are inner[k] (in row-major order of the reduced dims), or simply k when inner_contiguous.
struct ReductionPlan {
    std::vector<std::int64_t> outer;
    std::vector<std::int64_t> inner;
    bool inner_contiguous = false;
    std::int64_t count = 1;  // elements per slice
};

// Offsets sum_d idx[d] * strides[d] over every index of `dims` of `shape`, in row-major order.
std::vector<std::int64_t> odometer_offsets(const Shape& shape, const Shape& strides,
                                           const std::vector<std::size_t>& dims) {
    std::int64_t n = 1;
    for (auto d : dims) n *= shape[d];
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(n));
    if (n == 0) return out;
    std::vector<std::int64_t> idx(dims.size(), 0);
    std::int64_t off = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        out.push_back(off);
        for (std::size_t k = dims.size(); k-- > 0;) {
            const std::size_t d = dims[k];
            ++idx[k];
            off += strides[d];
            if (idx[k] < shape[d]) break;
            off -= strides[d] * shape[d];
            idx[k] = 0;
        }
    }
    return out;
}

// `axes` sorted and unique (normalize_axes).
ReductionPlan make_plan(const Shape& shape, const Axes& axes) {
    ReductionPlan plan;
    const Shape strides = contiguous_strides(shape);
    std::vector<std::size_t> kept, reduced;
    for (std::size_t i = 0, k = 0; i < shape.size(); ++i) {
        if (k < axes.size() && axes[k] == static_cast<std::int64_t>(i)) {
            reduced.push_back(i);
            ++k;
        } else {
            kept.push_back(i);
        }
    }
    for (auto d : reduced) plan.count *= shape[d];
    // Reduced dims forming a trailing block: each slice is a contiguous run.
    plan.inner_contiguous = kept.empty() || reduced.empty() || kept.back() < reduced.front();
    plan.outer = odometer_offsets(shape, strides, kept);
    if (!plan.inner_contiguous) plan.inner = odometer_offsets(shape, strides, reduced);
    return plan;
}

template <class T>
bool is_nan(T v) {
    if constexpr (std::is_floating_point_v<T>)
        return std::isnan(v);
    else
        return false;
}

// Calls visit(j, k, v) for every slice j with the position k (in the slice's row-major order)
// and value v of its first extreme element: the first NaN if there is one, else the first
// largest (IsMax) or smallest value.
template <bool IsMax, class T, class Visit>
void for_each_extreme(const T* p, const ReductionPlan& plan, Visit&& visit) {
    const std::int64_t n_out = static_cast<std::int64_t>(plan.outer.size());
    const std::int64_t count = plan.count;
    for (std::int64_t j = 0; j < n_out; ++j) {
        const T* s = p + plan.outer[static_cast<std::size_t>(j)];
        auto at = [&](std::int64_t k) {
            return plan.inner_contiguous ? s[k] : s[plan.inner[static_cast<std::size_t>(k)]];
        };
        std::int64_t best_k = 0;
        T best = at(0);
        if (!is_nan(best)) {
            for (std::int64_t k = 1; k < count; ++k) {
                const T v = at(k);
                if (is_nan(v)) {
                    best = v;
                    best_k = k;
                    break;
                }
                if (IsMax ? v > best : v < best) {
                    best = v;
                    best_k = k;
                }
            }
        }
        visit(j, best_k, best);
    }
}

// x viewed as [outer, count, inner] when the reduced dims are adjacent and some kept dim follows
// them (max over the window axis of pooling, over the rows of a matrix, ...): the slices are
// then strided, and walking them row by row of `inner` contiguous values keeps every loop
// contiguous and vectorisable instead of gathering one slice at a time.
struct BlockPlan {
    std::int64_t outer = 1, count = 1, inner = 1;
};

std::optional<BlockPlan> block_plan(const Shape& shape, const Axes& axes) {
    if (axes.empty()) return std::nullopt;
    for (std::size_t k = 1; k < axes.size(); ++k)
        if (axes[k] != axes[0] + static_cast<std::int64_t>(k)) return std::nullopt;
    BlockPlan b;
    const auto first = static_cast<std::size_t>(axes.front());
    const auto last = static_cast<std::size_t>(axes.back());
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i < first)
            b.outer *= shape[i];
        else if (i <= last)
            b.count *= shape[i];
        else
            b.inner *= shape[i];
    }
    if (b.inner <= 1) return std::nullopt;  // contiguous slices: the general path is as good
    return b;
}

// "v beats best" for max (IsMax) or min, where a NaN beats everything and nothing beats a NaN,
// so that the result is NaN exactly where the slice holds one.
template <bool IsMax, class T>
T better(T best, T v) {
    if (is_nan(best)) return best;
    if (is_nan(v)) return v;
    return (IsMax ? v > best : v < best) ? v : best;
}

template <bool IsMax, class T>
void block_extreme(const BlockPlan& b, const T* x, T* out) {
    for (std::int64_t o = 0; o < b.outer; ++o) {
        const T* base = x + o * b.count * b.inner;
        T* r = out + o * b.inner;
        std::copy(base, base + b.inner, r);
        for (std::int64_t k = 1; k < b.count; ++k) {
            const T* row = base + k * b.inner;
            for (std::int64_t i = 0; i < b.inner; ++i) r[i] = better<IsMax>(r[i], row[i]);
        }
    }
}

// weight = mask / count(mask) along the reduced block (see extremum). Ties are tested as
// "equal, or both NaN" with v != v, which the compiler vectorises (std::isnan calls it does not).
template <class T>
void block_tie_weights(const BlockPlan& b, const T* x, const T* result, T* w) {
    std::vector<T> tie_count(static_cast<std::size_t>(b.inner));
    T* ties = tie_count.data();
    for (std::int64_t o = 0; o < b.outer; ++o) {
        const T* base = x + o * b.count * b.inner;
        const T* r = result + o * b.inner;
        T* wb = w + o * b.count * b.inner;
        for (std::int64_t i = 0; i < b.inner; ++i) ties[i] = T(0);
        for (std::int64_t k = 0; k < b.count; ++k) {
            const T* row = base + k * b.inner;
            for (std::int64_t i = 0; i < b.inner; ++i) {
                const T v = row[i], best = r[i];
                ties[i] += (v == best || (v != v && best != best)) ? T(1) : T(0);
            }
        }
        for (std::int64_t i = 0; i < b.inner; ++i) ties[i] = T(1) / ties[i];
        for (std::int64_t k = 0; k < b.count; ++k) {
            const T* row = base + k * b.inner;
            T* wr = wb + k * b.inner;
            for (std::int64_t i = 0; i < b.inner; ++i) {
                const T v = row[i], best = r[i];
                wr[i] = (v == best || (v != v && best != best)) ? ties[i] : T(0);
            }
        }
    }
}

std::string dims_str(const Axes& dims) {
    return dims.empty() ? std::string("all") : shape_str(dims);
}

template <bool IsMax>
Tensor extremum(const char* op, const Tensor& x, const Axes& dims, bool keepdim) {
    check_defined(op, x);
    const Axes axes = normalize_axes(dims, x.dim(), op);
    for (std::int64_t a : axes)
        if (x.shape()[static_cast<std::size_t>(a)] == 0)
            raise<ValueError>(op, "cannot reduce over an empty dimension ", "(input ", describe(x),
                              ", dims ", dims_str(dims), ")");
    const std::optional<BlockPlan> block = block_plan(x.shape(), axes);
    ReductionPlan plan;
    if (!block) plan = make_plan(x.shape(), axes);
    const Shape out_shape = reduced_shape(x.shape(), axes, keepdim);
    Tensor out = make_tensor(out_shape, x.dtype());
    kernels::dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* o = out.data_ptr<T>();
        if (block) {
            block_extreme<IsMax>(*block, x.data_ptr<T>(), o);
            return;
        }
        for_each_extreme<IsMax>(x.data_ptr<T>(), plan,
                                [o](std::int64_t j, std::int64_t, T v) { o[j] = v; });
    });
    if (should_record({&x})) {
        // weight = mask / count(mask) per slice, with mask = (x == result), or x and result both
        // NaN. A constant: the backward rule g * weight is linear in g.
        Tensor weight = make_tensor(x.shape(), x.dtype());
        kernels::dispatch_floating(x.dtype(), op, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* p = x.data_ptr<T>();
            const T* r = out.data_ptr<T>();
            T* w = weight.data_ptr<T>();
            if (block) {
                block_tie_weights(*block, p, r, w);
                return;
            }
            const std::size_t n_out = plan.outer.size();
            for (std::size_t j = 0; j < n_out; ++j) {
                const std::int64_t base = plan.outer[j];
                const T best = r[j];
                auto offset = [&](std::int64_t k) {
                    return base +
                           (plan.inner_contiguous ? k : plan.inner[static_cast<std::size_t>(k)]);
                };
                auto tie = [&](T v) { return v == best || (is_nan(v) && is_nan(best)); };
                std::int64_t ties = 0;
                for (std::int64_t k = 0; k < plan.count; ++k) ties += tie(p[offset(k)]);
                const T share = T(1) / static_cast<T>(ties);
                for (std::int64_t k = 0; k < plan.count; ++k) {
                    const std::int64_t i = offset(k);
                    w[i] = tie(p[i]) ? share : T(0);
                }
            }
        });
        const Shape kept = reduced_shape(x.shape(), axes, true);
        record(IsMax ? "MaxBackward" : "MinBackward", out, {x}, {weight},
               [kept](Node& n, const Tensor& g) -> TensorList {
                   return {reshape(g, kept) * n.saved(0)};
               });
    }
    return out;
}

template <bool IsMax>
Tensor arg_extremum(const char* op, const Tensor& x, std::optional<std::int64_t> dim,
                    bool keepdim) {
    check_defined(op, x);
    Axes axes;
    Shape out_shape;
    if (dim) {
        axes = normalize_axes({*dim}, x.dim(), op);
        out_shape = reduced_shape(x.shape(), axes, keepdim);
    } else {
        axes = normalize_axes({}, x.dim(), op);  // every dim: the flattened tensor
        out_shape = keepdim ? Shape(x.shape().size(), 1) : Shape{};
    }
    const ReductionPlan plan = make_plan(x.shape(), axes);
    if (plan.count == 0)
        raise<ValueError>(op, "cannot reduce over an empty ",
                          (dim ? "dimension " + std::to_string(*dim) : std::string("tensor")),
                          " (input ", describe(x), ")");
    Tensor out = make_tensor(out_shape, Dtype::i64);
    std::int64_t* o = out.data_ptr<std::int64_t>();
    kernels::dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        for_each_extreme<IsMax>(x.data_ptr<T>(), plan,
                                [o](std::int64_t j, std::int64_t k, T) { o[j] = k; });
    });
    return out;
}

}  // namespace

Tensor max(const Tensor& x, const Axes& dims, bool keepdim) {
    return extremum<true>("max", x, dims, keepdim);
}
Tensor min(const Tensor& x, const Axes& dims, bool keepdim) {
    return extremum<false>("min", x, dims, keepdim);
}
Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
    return arg_extremum<true>("argmax", x, dim, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
    return arg_extremum<false>("argmin", x, dim, keepdim);
}

Tensor Tensor::max(const Axes& d, bool k) const {
    return xgrad::max(*this, d, k);
}
Tensor Tensor::min(const Axes& d, bool k) const {
    return xgrad::min(*this, d, k);
}
Tensor Tensor::argmax(std::optional<std::int64_t> dim, bool k) const {
    return xgrad::argmax(*this, dim, k);
}

}  // namespace xgrad
