// Shape ops. reshape/view/flatten/squeeze/unsqueeze return a new handle on the same storage;
// permute/transpose/expand copy (storage is always contiguous).
#include <algorithm>
#include <numeric>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmanipulation.hpp>

#include "kernels/elementwise.hpp"
#include "kernels/parallel.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {
// Resolves one -1 entry and checks the element count (the product of the requested extents is
// checked, so a size that wraps int64 cannot pass as a match).
Shape infer_shape(const Shape& requested, std::int64_t numel, const Shape& from, const char* op) {
    Shape s = requested;
    std::int64_t known = 1;
    int infer_at = -1;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == -1) {
            XGRAD_CHECK(infer_at < 0, ShapeError, op, "only one dimension can be -1 in ",
                        requested);
            infer_at = static_cast<int>(i);
        } else {
            XGRAD_CHECK(s[i] >= 0, ShapeError, op, "invalid size in ", requested);
            std::int64_t r = 0;
            XGRAD_CHECK(!__builtin_mul_overflow(known, s[i], &r) && r <= kMaxSize, ShapeError, op,
                        "cannot reshape ", from, " (", numel, " elements) into ", requested,
                        ": the sizes multiply past 2^62");
            known = r;
        }
    }
    if (infer_at >= 0) {
        XGRAD_CHECK(known != 0 && numel % known == 0, ShapeError, op, "cannot reshape ", from,
                    " into ", requested);
        s[static_cast<std::size_t>(infer_at)] = numel / known;
    } else {
        XGRAD_CHECK(known == numel, ShapeError, op, "cannot reshape ", from, " (", numel,
                    " elements) into ", requested);
    }
    return s;
}

// A view of x's storage with another shape, recorded so the gradient is reshaped back.
Tensor shared_reshape(const Tensor& x, const Shape& shape, const char* name) {
    Tensor out = make_view(x.impl()->storage, shape, x.dtype());
    if (should_record({&x})) {
        Shape in_shape = x.shape();
        record(name, out, {x}, {},
               [in_shape](Node&, const Tensor& g) -> TensorList { return {reshape(g, in_shape)}; });
    }
    return out;
}
}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
    check_defined("reshape", x);
    Shape s = infer_shape(shape, x.numel(), x.shape(), "reshape");
    if (s == x.shape() && !should_record({&x})) return x;
    return shared_reshape(x, s, "ReshapeBackward");
}

Tensor view(const Tensor& x, const Shape& shape) {
    check_defined("view", x);
    return shared_reshape(x, infer_shape(shape, x.numel(), x.shape(), "view"), "ViewBackward");
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
    check_defined("flatten", x);
    if (x.dim() == 0) return reshape(x, {1});
    const std::int64_t s = normalize_axis(start_dim, x.dim(), "flatten");
    const std::int64_t e = normalize_axis(end_dim, x.dim(), "flatten");
    if (s > e)
        raise<IndexError>("flatten", "start_dim ", std::to_string(start_dim),
                          " comes after end_dim ", std::to_string(end_dim), " for shape ",
                          shape_str(x.shape()));
    Shape out;
    for (std::int64_t i = 0; i < s; ++i) out.push_back(x.shape()[i]);
    std::int64_t merged = 1;
    for (std::int64_t i = s; i <= e; ++i) merged *= x.shape()[i];
    out.push_back(merged);
    for (std::int64_t i = e + 1; i < x.dim(); ++i) out.push_back(x.shape()[i]);
    return reshape(x, out);
}

Tensor squeeze(const Tensor& x, std::optional<std::int64_t> dim) {
    check_defined("squeeze", x);
    Shape out;
    if (dim) {
        const std::int64_t d = normalize_axis(*dim, x.dim(), "squeeze");
        for (std::int64_t i = 0; i < x.dim(); ++i)
            if (i != d || x.shape()[i] != 1) out.push_back(x.shape()[i]);
    } else {
        for (auto s : x.shape())
            if (s != 1) out.push_back(s);
    }
    return reshape(x, out);
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
    check_defined("unsqueeze", x);
    const std::int64_t d = normalize_axis(dim, x.dim() + 1, "unsqueeze");
    Shape out = x.shape();
    out.insert(out.begin() + d, 1);
    return reshape(x, out);
}

Tensor permute(const Tensor& x, const Axes& dims) {
    check_defined("permute", x);
    if (static_cast<std::int64_t>(dims.size()) != x.dim())
        raise<ShapeError>("permute", std::to_string(dims.size()),
                          " dims given for a tensor of shape ", shape_str(x.shape()));
    std::vector<std::size_t> perm(dims.size());
    std::vector<bool> used(dims.size(), false);
    Shape out_shape(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i) {
        const auto d = static_cast<std::size_t>(normalize_axis(dims[i], x.dim(), "permute"));
        if (used[d]) raise<IndexError>("permute", "dimension repeated in ", shape_str(dims));
        used[d] = true;
        perm[i] = d;
        out_shape[i] = x.shape()[d];
    }
    Tensor out = make_tensor(out_shape, x.dtype());
    kernels::dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        auto o = kernels::nd<T>(out);
        xt::noalias(o) = xt::transpose(kernels::nd<T>(x), perm);
    });
    if (should_record({&x})) {
        Axes inverse(dims.size());
        for (std::size_t i = 0; i < perm.size(); ++i)
            inverse[perm[i]] = static_cast<std::int64_t>(i);
        record("PermuteBackward", out, {x}, {},
               [inverse](Node&, const Tensor& g) -> TensorList { return {permute(g, inverse)}; });
    }
    return out;
}

Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1) {
    check_defined("transpose", x);
    Axes perm(static_cast<std::size_t>(x.dim()));
    std::iota(perm.begin(), perm.end(), 0);
    if (x.dim() == 0) return x;
    std::swap(perm[normalize_axis(dim0, x.dim(), "transpose")],
              perm[normalize_axis(dim1, x.dim(), "transpose")]);
    return permute(x, perm);
}

Tensor t(const Tensor& x) {
    check_defined("t", x);
    if (x.dim() > 2)
        raise<ShapeError>("t", "expects a tensor with at most 2 dims, got ", shape_str(x.shape()),
                          " (use transpose)");
    return x.dim() < 2 ? x : transpose(x, 0, 1);
}

Tensor expand(const Tensor& x, const Shape& shape) {
    check_defined("expand", x);
    if (shape.size() < x.shape().size())
        raise<ShapeError>("expand", "cannot expand ", shape_str(x.shape()), " to fewer dims ",
                          shape_str(shape));
    Shape target = shape;
    const std::size_t lead = shape.size() - x.shape().size();
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const std::int64_t src = i < lead ? 1 : x.shape()[i - lead];
        XGRAD_CHECK(target[i] >= -1, ShapeError, "expand", "invalid size in ", shape);
        if (target[i] == -1) {
            if (i < lead)
                raise<ShapeError>("expand", "-1 is not allowed for a new leading dim in ",
                                  shape_str(shape));
            target[i] = src;
        }
        if (src != target[i] && src != 1)
            raise<ShapeError>("expand", "cannot expand ", shape_str(x.shape()), " to ",
                              shape_str(shape));
    }
    if (target == x.shape()) return x;
    Tensor out = make_tensor(target, x.dtype());
    kernels::dispatch_all(x.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        if (x.numel() == 1) {  // the backward of a full reduction: a plain fill
            T* o = out.data_ptr<T>();
            const T v = *x.data_ptr<T>();
            kernels::parallel_for(out.numel(), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
                std::fill(o + lo, o + hi, v);
            });
            return;
        }
        auto o = kernels::nd<T>(out);
        xt::noalias(o) = xt::broadcast(kernels::nd<T>(x), kernels::to_xshape(target));
    });
    if (should_record({&x})) {
        Shape in_shape = x.shape();
        record("ExpandBackward", out, {x}, {},
               [in_shape](Node&, const Tensor& g) -> TensorList { return {sum_to(g, in_shape)}; });
    }
    return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
    return expand(x, shape);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
    check_defined("sum_to", x);
    if (x.shape() == shape) return x;
    const Shape& s = x.shape();
    if (shape.size() > s.size())
        raise<ShapeError>("sum_to", "cannot sum ", shape_str(s), " to ", shape_str(shape));
    const std::size_t lead = s.size() - shape.size();
    Axes axes;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i < lead) {
            axes.push_back(static_cast<std::int64_t>(i));
        } else if (shape[i - lead] != s[i]) {
            if (shape[i - lead] != 1)
                raise<ShapeError>("sum_to", "cannot sum ", shape_str(s), " to ", shape_str(shape));
            axes.push_back(static_cast<std::int64_t>(i));
        }
    }
    return reshape(sum(x, axes, true), shape);
}

Tensor Tensor::reshape(const Shape& s) const {
    return xgrad::reshape(*this, s);
}
Tensor Tensor::view(const Shape& s) const {
    return xgrad::view(*this, s);
}
Tensor Tensor::flatten(std::int64_t s, std::int64_t e) const {
    return xgrad::flatten(*this, s, e);
}
Tensor Tensor::squeeze(std::optional<std::int64_t> d) const {
    return xgrad::squeeze(*this, d);
}
Tensor Tensor::unsqueeze(std::int64_t d) const {
    return xgrad::unsqueeze(*this, d);
}
Tensor Tensor::transpose(std::int64_t a, std::int64_t b) const {
    return xgrad::transpose(*this, a, b);
}
Tensor Tensor::t() const {
    return xgrad::t(*this);
}
Tensor Tensor::permute(const Axes& d) const {
    return xgrad::permute(*this, d);
}
Tensor Tensor::expand(const Shape& s) const {
    return xgrad::expand(*this, s);
}

}  // namespace xgrad
