// Extrema reduction kernels (kernels/extrema.hpp).
#include "kernels/extrema.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/dispatch.hpp"

namespace xgrad::kernels {

namespace {

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

template <bool IsMax>
void extremum_typed(const Tensor& x, const ExtremaPlan& plan, Tensor& out) {
    dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* o = out.data_ptr<T>();
        if (plan.block) {
            block_extreme<IsMax>(*plan.block, x.data_ptr<T>(), o);
            return;
        }
        for_each_extreme<IsMax>(x.data_ptr<T>(), plan.general,
                                [o](std::int64_t j, std::int64_t, T v) { o[j] = v; });
    });
}

template <bool IsMax>
void arg_extremum_typed(const Tensor& x, const ReductionPlan& plan, Tensor& out) {
    std::int64_t* o = out.data_ptr<std::int64_t>();
    dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        for_each_extreme<IsMax>(x.data_ptr<T>(), plan,
                                [o](std::int64_t j, std::int64_t k, T) { o[j] = k; });
    });
}

}  // namespace

ReductionPlan make_reduction_plan(const Shape& shape, const Axes& axes) {
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

std::optional<BlockPlan> make_block_plan(const Shape& shape, const Axes& axes) {
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

ExtremaPlan make_extrema_plan(const Shape& shape, const Axes& axes) {
    ExtremaPlan p;
    p.block = make_block_plan(shape, axes);
    if (!p.block) p.general = make_reduction_plan(shape, axes);
    return p;
}

void extremum(bool is_max, const Tensor& x, const ExtremaPlan& plan, Tensor& out) {
    if (is_max)
        extremum_typed<true>(x, plan, out);
    else
        extremum_typed<false>(x, plan, out);
}

void extremum_tie_weights(const char* op, const Tensor& x, const ExtremaPlan& ep, const Tensor& out,
                          Tensor& weight) {
    dispatch_floating(x.dtype(), op, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* p = x.data_ptr<T>();
        const T* r = out.data_ptr<T>();
        T* w = weight.data_ptr<T>();
        if (ep.block) {
            block_tie_weights(*ep.block, p, r, w);
            return;
        }
        const ReductionPlan& plan = ep.general;
        const std::size_t n_out = plan.outer.size();
        for (std::size_t j = 0; j < n_out; ++j) {
            const std::int64_t base = plan.outer[j];
            const T best = r[j];
            auto offset = [&](std::int64_t k) {
                return base + (plan.inner_contiguous ? k : plan.inner[static_cast<std::size_t>(k)]);
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
}

void arg_extremum(bool is_max, const Tensor& x, const ReductionPlan& plan, Tensor& out) {
    if (is_max)
        arg_extremum_typed<true>(x, plan, out);
    else
        arg_extremum_typed<false>(x, plan, out);
}

}  // namespace xgrad::kernels
