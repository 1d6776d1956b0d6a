// Creating tensors: from values, filled, ranges, identity and random.
#pragma once
#include <functional>
#include <initializer_list>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgrad/core/check.hpp>
#include <xgrad/core/random.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

namespace detail {
// Builds a tensor from doubles or int64s already flattened; validates shape against count.
Tensor tensor_from_doubles(const std::vector<double>& values, const Shape& shape, Dtype dtype,
                           bool requires_grad);
Tensor tensor_from_ints(const std::vector<std::int64_t>& values, const Shape& shape, Dtype dtype,
                        bool requires_grad);
Tensor arange_impl(double start, double end, double step, Dtype dtype, bool requires_grad);
Tensor from_blob_with_deleter(void* data, const Shape& shape, std::function<void(void*)> deleter,
                              TensorOptions options);

template <class T>
Tensor tensor_from(const std::vector<T>& values, const Shape& shape, const TensorOptions& o) {
    static_assert(std::is_arithmetic_v<T>, "xgrad::tensor needs arithmetic values");
    if constexpr (std::is_same_v<T, bool>) {
        std::vector<std::int64_t> v(values.begin(), values.end());
        return tensor_from_ints(v, shape, o.dtype.value_or(Dtype::b8), o.requires_grad);
    } else if constexpr (std::is_integral_v<T>) {
        std::vector<std::int64_t> v(values.begin(), values.end());
        return tensor_from_ints(v, shape, o.dtype.value_or(Dtype::i64), o.requires_grad);
    } else {
        std::vector<double> v(values.begin(), values.end());
        return tensor_from_doubles(v, shape, o.dtype.value_or(Dtype::f32), o.requires_grad);
    }
}
}  // namespace detail

// tensor({1.f, 2.f, 3.f}) is 1-D; tensor(values, {2, 3}) reshapes; tensor({{1, 2}, {3, 4}}) is
// 2-D. Floating values give float32 unless options say otherwise, integers give int64.
template <class T>
Tensor tensor(const std::vector<T>& values, const Shape& shape, TensorOptions options = {}) {
    return detail::tensor_from(values, shape, options);
}
template <class T>
Tensor tensor(const std::vector<T>& values, TensorOptions options = {}) {
    return detail::tensor_from(values, Shape{static_cast<std::int64_t>(values.size())}, options);
}
template <class T>
Tensor tensor(std::initializer_list<T> values, TensorOptions options = {}) {
    return tensor(std::vector<T>(values), options);
}
template <class T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> rows, TensorOptions options = {}) {
    std::vector<T> flat;
    const std::int64_t n_rows = static_cast<std::int64_t>(rows.size());
    const std::int64_t n_cols = n_rows ? static_cast<std::int64_t>(rows.begin()->size()) : 0;
    for (const auto& r : rows) {
        if (static_cast<std::int64_t>(r.size()) != n_cols)
            raise<ShapeError>("tensor", "rows of a nested list have different lengths");
        flat.insert(flat.end(), r.begin(), r.end());
    }
    return detail::tensor_from(flat, Shape{n_rows, n_cols}, options);
}
// A 0-dimensional tensor holding one value.
template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
Tensor scalar_tensor(T value, TensorOptions options = {}) {
    return detail::tensor_from(std::vector<T>{value}, Shape{}, options);
}

// Memory the caller owns, seen as a tensor without copying, as torch::from_blob: `data` holds
// shape_numel(shape) values of options.dtype (float32 unless set), contiguous (row-major) and
// aligned for that type. The tensor and every view of it share the memory: ops read it, in-place
// ops write it. With a deleter, deleter(data) runs when the last tensor using the memory goes;
// without one the memory must outlive every such tensor. clone() gives a copy that xgrad owns.
// Throws ValueError for a null or misaligned pointer.
Tensor from_blob(void* data, const Shape& shape, TensorOptions options = {});
// The deleter is any callable taking the pointer. (A template, not a std::function parameter:
// clang rejects `from_blob(p, shape, {.dtype = ...})` as ambiguous against std::function.)
template <class Deleter, class = std::enable_if_t<std::is_invocable_v<Deleter&, void*>>>
Tensor from_blob(void* data, const Shape& shape, Deleter deleter, TensorOptions options = {}) {
    return detail::from_blob_with_deleter(data, shape,
                                          std::function<void(void*)>(std::move(deleter)), options);
}

Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});

// Values start, start+step, ... below end. Integer arguments give int64 unless a dtype is set.
template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
Tensor arange(T start, T end, T step, TensorOptions options = {}) {
    const Dtype d = options.dtype.value_or(std::is_integral_v<T> ? Dtype::i64 : Dtype::f32);
    return detail::arange_impl(double(start), double(end), double(step), d, options.requires_grad);
}
template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
Tensor arange(T start, T end, TensorOptions options = {}) {
    return arange(start, end, T(1), options);
}
template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
Tensor arange(T end, TensorOptions options = {}) {
    return arange(T(0), end, T(1), options);
}
// `steps` evenly spaced values from start to end inclusive.
Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options = {});
// An n x m identity matrix (m = n when m is -1, the default; any other negative size is an error).
Tensor eye(std::int64_t n, std::int64_t m = -1, TensorOptions options = {});

// Uniform on [0, 1).
Tensor rand(const Shape& shape, TensorOptions options = {});
Tensor rand(const Shape& shape, Generator& gen, TensorOptions options = {});
// Standard normal.
Tensor randn(const Shape& shape, TensorOptions options = {});
Tensor randn(const Shape& shape, Generator& gen, TensorOptions options = {});
// Uniform integers in [low, high); int64 unless a dtype is set.
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, TensorOptions options = {});
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen,
               TensorOptions options = {});

// Same shape (and dtype unless options set one) as `like`.
Tensor empty_like(const Tensor& like, TensorOptions options = {});
Tensor zeros_like(const Tensor& like, TensorOptions options = {});
Tensor ones_like(const Tensor& like, TensorOptions options = {});
Tensor full_like(const Tensor& like, double value, TensorOptions options = {});
Tensor rand_like(const Tensor& like, TensorOptions options = {});
Tensor randn_like(const Tensor& like, TensorOptions options = {});

}  // namespace xgrad
