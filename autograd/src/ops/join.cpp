// concat / stack / split.
#include <cstring>

#include "op_common.hpp"

namespace xgrad {

using namespace ops;

Tensor concat(const TensorList& tensors, std::int64_t dim) {
    if (tensors.empty()) raise<ValueError>("concat", "needs at least one tensor");
    const Tensor& first = tensors[0];
    check_defined("concat", first);
    if (first.dim() == 0) raise<ShapeError>("concat", "cannot concatenate 0-d tensors");
    const std::int64_t d = normalize_axis(dim, first.dim(), "concat");
    Shape out_shape = first.shape();
    out_shape[d] = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i];
        check_same_dtype("concat", first, t);
        bool fits = t.dim() == first.dim();
        for (std::int64_t k = 0; fits && k < t.dim(); ++k)
            fits = k == d || t.shape()[k] == first.shape()[k];
        if (!fits)
            raise<ShapeError>("concat", "tensor ", std::to_string(i), " has shape ",
                              shape_str(t.shape()), " but tensor 0 has shape ",
                              shape_str(first.shape()), " (they may differ only in dimension ",
                              std::to_string(d), ")");
        out_shape[d] = checked_add(out_shape[d], t.shape()[d], "concat", "the joined size");
    }
    Tensor out = make_tensor(out_shape, first.dtype());
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t k = 0; k < d; ++k) outer *= out_shape[k];
    for (std::size_t k = d + 1; k < out_shape.size(); ++k) inner *= out_shape[k];
    const std::size_t elem = dtype_size(first.dtype());
    char* o = static_cast<char*>(out.impl()->data());
    const std::size_t out_row = static_cast<std::size_t>(out_shape[d] * inner) * elem;
    std::size_t offset = 0;
    for (const Tensor& t : tensors) {
        const std::size_t chunk = static_cast<std::size_t>(t.shape()[d] * inner) * elem;
        const char* src = static_cast<const char*>(t.impl()->data());
        for (std::int64_t r = 0; r < outer; ++r)
            std::memcpy(o + r * out_row + offset, src + r * chunk, chunk);
        offset += chunk;
    }
    if (should_record(tensors)) {
        std::vector<std::int64_t> sizes;
        for (const Tensor& t : tensors) sizes.push_back(t.shape()[d]);
        record("ConcatBackward", out, tensors, {}, [d, sizes](Node& n, const Tensor& g) {
            TensorList grads(sizes.size());
            std::int64_t start = 0;
            for (std::size_t i = 0; i < sizes.size(); ++i) {
                if (n.needs_input_grad(i)) grads[i] = narrow(g, d, start, sizes[i]);
                start += sizes[i];
            }
            return grads;
        });
    }
    return out;
}

Tensor cat(const TensorList& tensors, std::int64_t dim) {
    return concat(tensors, dim);
}

Tensor stack(const TensorList& tensors, std::int64_t dim) {
    if (tensors.empty()) raise<ValueError>("stack", "needs at least one tensor");
    check_defined("stack", tensors[0]);
    const std::int64_t d = normalize_axis(dim, tensors[0].dim() + 1, "stack");
    TensorList parts;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        check_defined("stack", tensors[i]);
        if (tensors[i].shape() != tensors[0].shape())
            raise<ShapeError>("stack", "tensor ", std::to_string(i), " has shape ",
                              shape_str(tensors[i].shape()), " but tensor 0 has shape ",
                              shape_str(tensors[0].shape()));
        parts.push_back(unsqueeze(tensors[i], d));
    }
    return concat(parts, d);
}

TensorList split(const Tensor& x, std::int64_t size, std::int64_t dim) {
    check_defined("split", x);
    if (size < 1) raise<ValueError>("split", "size must be positive, got ", std::to_string(size));
    if (x.dim() == 0) raise<IndexError>("split", "cannot split a 0-d tensor");
    const std::int64_t d = normalize_axis(dim, x.dim(), "split");
    TensorList parts;
    for (std::int64_t s = 0; s < x.shape()[d]; s += size)
        parts.push_back(narrow(x, d, s, std::min(size, x.shape()[d] - s)));
    return parts;
}

}  // namespace xgrad
