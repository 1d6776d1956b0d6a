// Tensor helpers for the fuzz targets: bit-exact comparison and "touch every element".
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <xgrad/core/dtype.hpp>
#include <xgrad/core/shape.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/core/tensor_impl.hpp>

#include "fuzz_common.hpp"

namespace xgrad_fuzz {

// The tensor's dtype, shape and element bytes, for bit-exact comparisons.
struct TensorBytes {
    xgrad::Dtype dtype = xgrad::Dtype::f32;
    xgrad::Shape shape;
    std::vector<unsigned char> bytes;
    bool operator==(const TensorBytes& o) const {
        return dtype == o.dtype && shape == o.shape && bytes == o.bytes;
    }
    bool operator!=(const TensorBytes& o) const { return !(*this == o); }
};

inline TensorBytes tensor_bytes(const xgrad::Tensor& t) {
    TensorBytes out;
    if (!t.defined()) return out;
    out.dtype = t.dtype();
    out.shape = t.shape();
    const std::size_t n = static_cast<std::size_t>(t.numel()) * xgrad::dtype_size(t.dtype());
    const auto* p = static_cast<const unsigned char*>(t.impl()->data());
    if (n > 0) out.bytes.assign(p, p + n);
    return out;
}

inline std::map<std::string, TensorBytes> tensor_bytes(
    const std::map<std::string, xgrad::Tensor>& tensors) {
    std::map<std::string, TensorBytes> out;
    for (const auto& [k, t] : tensors) out.emplace(k, tensor_bytes(t));
    return out;
}

// Checks the invariants of a tensor a loader returned and reads every element: numel is the
// product of the shape, the storage holds numel elements, and sum() works (as float64 for every
// dtype, and natively for floating ones). `what` names the tensor in failures.
inline void exercise_tensor(const xgrad::Tensor& t, const std::string& what) {
    if (!t.defined()) fuzz_fail(what + ": the loader returned an undefined tensor");
    std::int64_t numel = 1;
    for (const std::int64_t d : t.shape()) {
        if (d < 0) fuzz_fail(what + ": negative extent in " + xgrad::shape_str(t.shape()));
        if (__builtin_mul_overflow(numel, d, &numel))
            fuzz_fail(what + ": the element count of " + xgrad::shape_str(t.shape()) +
                      " overflows int64");
    }
    if (t.numel() != numel)
        fuzz_fail(what + ": numel() " + std::to_string(t.numel()) + " differs from the shape " +
                  xgrad::shape_str(t.shape()));
    const std::size_t nbytes = static_cast<std::size_t>(numel) * xgrad::dtype_size(t.dtype());
    if (t.impl()->storage->nbytes < nbytes)
        fuzz_fail(what + ": the storage has " + std::to_string(t.impl()->storage->nbytes) +
                  " bytes for " + std::to_string(nbytes) + " bytes of elements");
    std::string error;
    if (!accepts([&] { (void)t.to(xgrad::Dtype::f64).sum().item<double>(); }, &error))
        fuzz_fail(what + ": sum() of a loaded tensor threw: " + error);
    if (xgrad::is_floating(t.dtype()))
        if (!accepts(
                [&] {
                    const xgrad::Tensor s = t.sum();
                    if (t.dtype() == xgrad::Dtype::f32)
                        (void)s.item<float>();
                    else
                        (void)s.item<double>();
                },
                &error))
            fuzz_fail(what + ": sum() of a loaded tensor threw: " + error);
}

}  // namespace xgrad_fuzz
