// pad: constant padding as torch.nn.functional.pad (mode "constant"); negative pads crop.
#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/pad.hpp"
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
    kernels::pad_constant(x, p, value, out);

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
