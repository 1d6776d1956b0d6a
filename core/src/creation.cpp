// Creation functions. Random ones draw in row-major order from one generator, so a seed fixes
// every value.
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/core/object_pool.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include "kernels/dispatch.hpp"

namespace xgrad {

namespace {

Tensor finish(Tensor t, bool requires_grad) {
    if (requires_grad) t.requires_grad_(true);
    return t;
}

Dtype float_default(const TensorOptions& o) {
    return o.dtype.value_or(Dtype::f32);
}

template <class F>
Tensor fill_with(const Shape& shape, Dtype dtype, bool requires_grad, F value_at) {
    Tensor t = make_tensor(shape, dtype);
    kernels::dispatch_all(dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* p = static_cast<T*>(t.impl()->data());
        const std::int64_t n = t.numel();
        for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(value_at(i));
    });
    return finish(t, requires_grad);
}

void check_random_dtype(Dtype d, const char* op) {
    if (!is_floating(d)) raise<DtypeError>(op, "needs a floating dtype, got ", dtype_name(d));
}

}  // namespace

namespace detail {

Tensor tensor_from_doubles(const std::vector<double>& values, const Shape& shape, Dtype dtype,
                           bool requires_grad) {
    if (shape_numel(shape) != static_cast<std::int64_t>(values.size()))
        raise<ShapeError>("tensor", std::to_string(values.size()), " values do not fill shape ",
                          shape_str(shape));
    return fill_with(shape, dtype, requires_grad, [&](std::int64_t i) { return values[i]; });
}

Tensor tensor_from_ints(const std::vector<std::int64_t>& values, const Shape& shape, Dtype dtype,
                        bool requires_grad) {
    if (shape_numel(shape) != static_cast<std::int64_t>(values.size()))
        raise<ShapeError>("tensor", std::to_string(values.size()), " values do not fill shape ",
                          shape_str(shape));
    return fill_with(shape, dtype, requires_grad, [&](std::int64_t i) { return values[i]; });
}

Tensor arange_impl(double start, double end, double step, Dtype dtype, bool requires_grad) {
    if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step) ||
        (end - start) * step < 0)
        raise<ValueError>("arange", "cannot step from ", std::to_string(start), " to ",
                          std::to_string(end), " by ", std::to_string(step));
    const double count = std::ceil((end - start) / step);
    // A count past 2^62 (or past what a double converts to int64 exactly) is refused before the
    // conversion, which would be undefined behaviour.
    XGRAD_CHECK(count <= double(kMaxSize), ShapeError, "arange", "cannot step from ", start, " to ",
                end, " by ", step, ": ", count, " elements is more than 2^62");
    const auto n = static_cast<std::int64_t>(count);
    return fill_with({n}, dtype, requires_grad,
                     [&](std::int64_t i) { return start + step * double(i); });
}

}  // namespace detail

Tensor empty(const Shape& shape, TensorOptions o) {
    return finish(make_tensor(shape, float_default(o)), o.requires_grad);
}
Tensor zeros(const Shape& shape, TensorOptions o) {
    return full(shape, 0.0, o);
}
Tensor ones(const Shape& shape, TensorOptions o) {
    return full(shape, 1.0, o);
}
Tensor full(const Shape& shape, double value, TensorOptions o) {
    return fill_with(shape, float_default(o), o.requires_grad, [&](std::int64_t) { return value; });
}

Tensor linspace(double start, double end, std::int64_t steps, TensorOptions o) {
    if (steps < 0)
        raise<ValueError>("linspace", "steps must be non-negative, got ", std::to_string(steps));
    const double step = steps > 1 ? (end - start) / double(steps - 1) : 0.0;
    return fill_with({steps}, float_default(o), o.requires_grad, [&](std::int64_t i) {
        // Fill the second half from the end, as PyTorch does, so both ends are exact.
        return i < (steps + 1) / 2 ? start + step * double(i) : end - step * double(steps - 1 - i);
    });
}

Tensor eye(std::int64_t n, std::int64_t m, TensorOptions o) {
    XGRAD_CHECK(n >= 0, ValueError, "eye", "n must be non-negative, got ", n);
    XGRAD_CHECK(m >= -1, ValueError, "eye", "m must be non-negative (or -1 for m = n), got ", m);
    if (m == -1) m = n;
    return fill_with({n, m}, float_default(o), o.requires_grad,
                     [&](std::int64_t i) { return (i / m) == (i % m) ? 1.0 : 0.0; });
}

Tensor rand(const Shape& shape, Generator& gen, TensorOptions o) {
    check_random_dtype(float_default(o), "rand");
    return fill_with(shape, float_default(o), o.requires_grad,
                     [&](std::int64_t) { return gen.uniform(); });
}
Tensor rand(const Shape& shape, TensorOptions o) {
    return rand(shape, default_generator(), o);
}

Tensor randn(const Shape& shape, Generator& gen, TensorOptions o) {
    check_random_dtype(float_default(o), "randn");
    return fill_with(shape, float_default(o), o.requires_grad,
                     [&](std::int64_t) { return gen.normal(); });
}
Tensor randn(const Shape& shape, TensorOptions o) {
    return randn(shape, default_generator(), o);
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen,
               TensorOptions o) {
    if (low >= high)
        raise<ValueError>("randint", "low (", std::to_string(low), ") must be below high (",
                          std::to_string(high), ")");
    return fill_with(shape, o.dtype.value_or(Dtype::i64), o.requires_grad,
                     [&](std::int64_t) { return gen.randint(low, high); });
}
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, TensorOptions o) {
    return randint(low, high, shape, default_generator(), o);
}

namespace {
TensorOptions like_options(const Tensor& like, TensorOptions o) {
    if (!o.dtype) o.dtype = like.dtype();
    return o;
}
}  // namespace

Tensor empty_like(const Tensor& like, TensorOptions o) {
    return empty(like.shape(), like_options(like, o));
}
Tensor zeros_like(const Tensor& like, TensorOptions o) {
    return zeros(like.shape(), like_options(like, o));
}
Tensor ones_like(const Tensor& like, TensorOptions o) {
    return ones(like.shape(), like_options(like, o));
}
Tensor full_like(const Tensor& like, double value, TensorOptions o) {
    return full(like.shape(), value, like_options(like, o));
}
Tensor rand_like(const Tensor& like, TensorOptions o) {
    return rand(like.shape(), like_options(like, o));
}
Tensor randn_like(const Tensor& like, TensorOptions o) {
    return randn(like.shape(), like_options(like, o));
}

// ---- external memory ------------------------------------------------------------------------

Tensor detail::from_blob_with_deleter(void* data, const Shape& shape,
                                      std::function<void(void*)> deleter, TensorOptions options) {
    const Dtype dtype = options.dtype.value_or(Dtype::f32);
    const std::size_t nbytes = checked_nbytes(shape, dtype_size(dtype), "from_blob");
    if (data == nullptr && nbytes > 0)
        raise<ValueError>("from_blob", "null data pointer for shape ", shape_str(shape));
    if (reinterpret_cast<std::uintptr_t>(data) % dtype_size(dtype) != 0)
        raise<ValueError>("from_blob", "data pointer ", data, " is not aligned for ",
                          dtype_name(dtype), " (", dtype_size(dtype), " bytes)");
    if (options.requires_grad && !is_floating(dtype))
        raise<DtypeError>("from_blob", "only floating tensors can require gradients, got ",
                          dtype_name(dtype));
    auto impl = std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
    impl->numel = shape_numel(shape);
    impl->storage = std::make_shared<Storage>(data, nbytes, std::move(deleter));
    impl->shape = shape;
    impl->dtype = dtype;
    impl->requires_grad = options.requires_grad;
    return Tensor(std::move(impl));
}

Tensor from_blob(void* data, const Shape& shape, TensorOptions options) {
    return detail::from_blob_with_deleter(data, shape, std::function<void(void*)>(), options);
}

}  // namespace xgrad
