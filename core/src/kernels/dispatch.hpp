// Run-time dtype dispatch: a kernel is written once as a generic lambda taking a type tag.
#pragma once
#include <cstdint>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/core/dtype.hpp>
#include <xgrad/core/error.hpp>

namespace xgrad::kernels {

template <class T>
struct type_tag {
    using type = T;
};

// float32 and float64 only (differentiable math); other dtypes throw naming `op`.
template <class F>
decltype(auto) dispatch_floating(Dtype d, const char* op, F&& f) {
    switch (d) {
        case Dtype::f32:
            return f(type_tag<float>{});
        case Dtype::f64:
            return f(type_tag<double>{});
        default:
            raise<DtypeError>(op, "expected a floating tensor ", "(float32 or float64), got ",
                              dtype_name(d));
    }
}

// float32, float64 and int64 (arithmetic); bool throws naming `op`.
template <class F>
decltype(auto) dispatch_numeric(Dtype d, const char* op, F&& f) {
    switch (d) {
        case Dtype::f32:
            return f(type_tag<float>{});
        case Dtype::f64:
            return f(type_tag<double>{});
        case Dtype::i64:
            return f(type_tag<std::int64_t>{});
        default:
            raise<DtypeError>(op, "not defined for ", dtype_name(d),
                              " tensors (convert with .to(...) first)");
    }
}

// Every dtype.
template <class F>
decltype(auto) dispatch_all(Dtype d, F&& f) {
    switch (d) {
        case Dtype::f32:
            return f(type_tag<float>{});
        case Dtype::f64:
            return f(type_tag<double>{});
        case Dtype::i64:
            return f(type_tag<std::int64_t>{});
        case Dtype::b8:
            return f(type_tag<bool>{});
    }
    return f(type_tag<float>{});
}

}  // namespace xgrad::kernels
