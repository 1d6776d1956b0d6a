// A plain N-operand broadcasting loop, for kernels xtensor+xsimd cannot vectorise (bool masks)
// or that need element indices. Innermost dim is a tight loop; the rest is an odometer.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include <xgrad/core/shape.hpp>

namespace xgrad::kernels {

// Strides (in elements) of `in` read as if broadcast to `out`: 0 on broadcast dims.
inline std::vector<std::int64_t> broadcast_strides(const Shape& in, const Shape& out) {
    std::vector<std::int64_t> st(out.size(), 0);
    std::int64_t acc = 1;
    const std::size_t lead = out.size() - in.size();
    for (std::size_t i = in.size(); i-- > 0;) {
        st[i + lead] = in[i] == 1 ? 0 : acc;
        acc *= in[i];
    }
    return st;
}

// Calls f(out_index, {operand indices...}) for every element of `out`, each operand of shape
// shapes[k] broadcast to `out`.
template <std::size_t N, class F>
void for_each_broadcast(const Shape& out, const std::array<const Shape*, N>& shapes, F&& f) {
    const std::size_t nd = out.size();
    const std::int64_t n = shape_numel(out);
    if (n == 0) return;
    std::array<std::int64_t, N> pos{};
    if (nd == 0) {
        f(std::int64_t(0), pos);
        return;
    }
    std::array<std::vector<std::int64_t>, N> st;
    for (std::size_t k = 0; k < N; ++k) st[k] = broadcast_strides(*shapes[k], out);
    std::vector<std::int64_t> idx(nd, 0);
    const std::int64_t inner = out[nd - 1];
    for (std::int64_t o = 0; o < n; o += inner) {
        std::array<std::int64_t, N> p = pos;
        for (std::int64_t j = 0; j < inner; ++j) {
            f(o + j, p);
            for (std::size_t k = 0; k < N; ++k) p[k] += st[k][nd - 1];
        }
        for (std::size_t d = nd - 1; d-- > 0;) {
            ++idx[d];
            for (std::size_t k = 0; k < N; ++k) pos[k] += st[k][d];
            if (idx[d] < out[d]) break;
            for (std::size_t k = 0; k < N; ++k) pos[k] -= st[k][d] * out[d];
            idx[d] = 0;
        }
    }
}

}  // namespace xgrad::kernels
