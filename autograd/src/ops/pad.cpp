// pad: constant padding as torch.nn.functional.pad (mode "constant"); negative pads crop.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "kernels/dispatch.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

// The pads of each dimension of an n-d tensor: {left, right} per dim, zeros for the leading
// dims that `pads` does not reach (pads lists the last dim first).
std::vector<std::pair<std::int64_t, std::int64_t>> per_dim(const std::vector<std::int64_t>& pads,
                                                           std::size_t ndim) {
    std::vector<std::pair<std::int64_t, std::int64_t>> p(ndim, {0, 0});
    for (std::size_t k = 0; 2 * k < pads.size(); ++k)
        p[ndim - 1 - k] = {pads[2 * k], pads[2 * k + 1]};
    return p;
}

}  // namespace

Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, double value) {
    check_defined("pad", x);
    const std::string pads_str = shape_str(pads);
    if (pads.size() % 2 != 0)
        raise<ValueError>("pad", "pads must come in (left, right) pairs, got ",
                          std::to_string(pads.size()), " values ", pads_str);
    const std::size_t nd = x.shape().size();
    if (pads.size() / 2 > nd)
        raise<ShapeError>("pad", std::to_string(pads.size() / 2), " pairs of pads ", pads_str,
                          " for a tensor of ", std::to_string(nd), " dimensions (shape ",
                          shape_str(x.shape()), ")");
    if (x.dtype() == Dtype::i64 && value != std::floor(value))
        raise<DtypeError>("pad", "the value ", std::to_string(value),
                          " is not an integer but the tensor is ", describe(x));
    for (auto v : pads)
        XGRAD_CHECK(v >= -kMaxSize && v <= kMaxSize, ValueError, "pad", "pad ", v, " in ", pads,
                    " is out of range (at most 2^62 either way)");
    const auto p = per_dim(pads, nd);
    Shape out_shape = x.shape();
    for (std::size_t k = 0; k < nd; ++k) {
        const std::int64_t crop =
            std::max<std::int64_t>(0, -p[k].first) + std::max<std::int64_t>(0, -p[k].second);
        if (crop > x.shape()[k])
            raise<ShapeError>("pad", "pads ", pads_str, " crop ", std::to_string(crop),
                              " elements from dimension ", std::to_string(k), " of shape ",
                              shape_str(x.shape()), ", which has only ",
                              std::to_string(x.shape()[k]));
        // In 128 bits: two pads of 2^62 and an extent of 2^62 would overflow int64.
        const __int128 size = __int128(x.shape()[k]) + p[k].first + p[k].second;
        XGRAD_CHECK(size <= kMaxSize, ShapeError, "pad", "pads ", pads, " make dimension ", k,
                    " of shape ", x.shape(), " larger than 2^62");
        out_shape[k] = static_cast<std::int64_t>(size);
        if (out_shape[k] < 0)
            raise<ShapeError>("pad", "pads ", pads_str, " give dimension ", std::to_string(k),
                              " of shape ", shape_str(x.shape()), " the negative size ",
                              std::to_string(out_shape[k]));
    }

    Tensor out = make_tensor(out_shape, x.dtype());
    kernels::dispatch_all(x.dtype(), [&](auto tag) {
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

    if (should_record({&x})) {
        record("PadBackward", out, {x}, {}, [p](Node&, const Tensor& g) -> TensorList {
            // Slice the padding off; where the forward cropped, the gradient is zero.
            Tensor gx = g;
            std::vector<std::int64_t> unpad;
            bool cropped = false;
            for (std::size_t k = p.size(); k-- > 0;) {
                const std::int64_t left = std::max<std::int64_t>(0, p[k].first);
                const std::int64_t right = std::max<std::int64_t>(0, p[k].second);
                if (left > 0 || right > 0)
                    gx = narrow(gx, static_cast<std::int64_t>(k), left,
                                gx.shape()[k] - left - right);
                unpad.push_back(std::max<std::int64_t>(0, -p[k].first));
                unpad.push_back(std::max<std::int64_t>(0, -p[k].second));
                cropped = cropped || unpad[unpad.size() - 2] > 0 || unpad.back() > 0;
            }
            return {cropped ? pad(gx, unpad, 0.0) : gx};
        });
    }
    return out;
}

}  // namespace xgrad
