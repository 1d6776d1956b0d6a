// Checks shared by the op library: every op names itself and the shapes at fault.
#pragma once
#include <string>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/node.hpp>
#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>

namespace xgrad::ops {

inline std::string describe(const Tensor& t) {
    return std::string(dtype_name(t.dtype())) + " " + shape_str(t.shape());
}

inline void check_defined(const char* op, const Tensor& t) {
    if (!t.defined()) raise<ValueError>(op, "got an undefined tensor");
}

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
    check_defined(op, a);
    check_defined(op, b);
    if (a.dtype() != b.dtype())
        raise<DtypeError>(op, "dtypes differ (", describe(a), " and ", describe(b),
                          "); convert one with .to(...)");
}

inline void check_index_dtype(const char* op, const Tensor& index) {
    check_defined(op, index);
    if (index.dtype() != Dtype::i64)
        raise<DtypeError>(op, "index must be int64, got ", describe(index));
}

// A 0/1 tensor of `like`'s dtype from a bool mask (a constant: masks carry no gradient).
inline Tensor mask_as(const Tensor& mask, const Tensor& like) {
    return mask.to(like.dtype());
}

// The output shape of reducing `axes` (sorted, unique) of `s`.
inline Shape reduced_shape(const Shape& s, const Axes& axes, bool keepdim) {
    Shape out;
    for (std::size_t i = 0, k = 0; i < s.size(); ++i) {
        const bool reduced = k < axes.size() && axes[k] == static_cast<std::int64_t>(i);
        if (reduced) ++k;
        if (!reduced)
            out.push_back(s[i]);
        else if (keepdim)
            out.push_back(1);
    }
    return out;
}

}  // namespace xgrad::ops
