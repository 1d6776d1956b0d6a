// Constant padding: fill, then copy the kept region as contiguous runs (kernels/pad.hpp).
#include "kernels/pad.hpp"

#include <algorithm>
#include <cstring>

#include <xgrad/core/shape.hpp>
#include <xgrad/core/tensor_impl.hpp>

#include "kernels/dispatch.hpp"

namespace xgrad::kernels {

void pad_constant(const Tensor& x, const std::vector<std::pair<std::int64_t, std::int64_t>>& p,
                  double value, Tensor& out) {
    const std::size_t nd = x.shape().size();
    const Shape& out_shape = out.shape();
    dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* o = out.data_ptr<T>();
        const T v = static_cast<T>(value);
        for (std::int64_t i = 0; i < out.numel(); ++i) o[i] = v;
    });

    // The copied region: x[src_start : src_start + region] -> out[dst_start : ...] per dim.
    Shape region(nd), src_start(nd), dst_start(nd);
    bool empty = false;
    for (std::size_t k = 0; k < nd; ++k) {
        src_start[k] = std::max<std::int64_t>(0, -p[k].first);
        dst_start[k] = std::max<std::int64_t>(0, p[k].first);
        region[k] = x.shape()[k] - src_start[k] - std::max<std::int64_t>(0, -p[k].second);
        if (region[k] <= 0) empty = true;
    }
    const std::size_t elem = dtype_size(x.dtype());
    const char* src = static_cast<const char*>(x.impl()->data());
    char* dst = static_cast<char*>(out.impl()->data());
    if (nd == 0) {
        std::memcpy(dst, src, elem);
    } else if (!empty) {
        // Contiguous runs along the last dim, one per position of the leading dims.
        const Shape xs = contiguous_strides(x.shape());
        const Shape os = contiguous_strides(out_shape);
        const std::size_t run = static_cast<std::size_t>(region[nd - 1]) * elem;
        std::int64_t s_off = 0, d_off = 0;
        for (std::size_t k = 0; k < nd; ++k) {
            s_off += src_start[k] * xs[k];
            d_off += dst_start[k] * os[k];
        }
        std::vector<std::int64_t> coord(nd - 1, 0);
        const std::int64_t runs = shape_numel(Shape(region.begin(), region.end() - 1));
        for (std::int64_t r = 0; r < runs; ++r) {
            std::memcpy(dst + d_off * static_cast<std::int64_t>(elem),
                        src + s_off * static_cast<std::int64_t>(elem), run);
            for (std::size_t k = nd - 1; k-- > 0;) {
                if (++coord[k] < region[k]) {
                    s_off += xs[k];
                    d_off += os[k];
                    break;
                }
                s_off -= (region[k] - 1) * xs[k];
                d_off -= (region[k] - 1) * os[k];
                coord[k] = 0;
            }
        }
    }
}

}  // namespace xgrad::kernels
