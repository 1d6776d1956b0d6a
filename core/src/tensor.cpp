// Tensor handle basics: storage, read-out and the autograd fields that need no tape.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/core/object_pool.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include "allocator.hpp"
#include "kernels/dispatch.hpp"

namespace xgrad {

Storage::Storage(std::size_t n) : data(detail::allocate(n)), nbytes(n) {}
Storage::Storage(void* external_data, std::size_t n, std::function<void(void*)> free_fn)
    : data(external_data), nbytes(n), external(true), deleter(std::move(free_fn)) {}
Storage::~Storage() {
    if (!external)
        detail::deallocate(data, nbytes);
    else if (deleter)
        deleter(data);
}

Tensor make_tensor(const Shape& shape, Dtype dtype) {
    const std::size_t nbytes = checked_nbytes(shape, dtype_size(dtype), "empty");
    auto impl = std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
    impl->numel = shape_numel(shape);
    impl->storage = std::allocate_shared<Storage>(detail::PoolAllocator<Storage>(), nbytes);
    impl->shape = shape;
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

Tensor make_view(const std::shared_ptr<Storage>& storage, const Shape& shape, Dtype dtype) {
    auto impl = std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>());
    impl->storage = storage;
    impl->shape = shape;
    impl->numel = shape_numel(shape);
    // A view never reaches past its storage, whatever shape a caller computed.
    if (static_cast<std::size_t>(impl->numel) * dtype_size(dtype) > storage->nbytes)
        raise<ShapeError>("view", "shape ", shape, " of ", dtype_name(dtype), " needs ",
                          impl->numel * std::int64_t(dtype_size(dtype)), " bytes, the storage has ",
                          storage->nbytes);
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

namespace {
const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl, const char* what) {
    if (!impl)
        raise<ValueError>((std::string("Tensor::") + what).c_str(), "the tensor is undefined");
    return *impl;
}
}  // namespace

const Shape& Tensor::shape() const {
    return checked(impl_, "shape").shape;
}
std::int64_t Tensor::dim() const {
    return static_cast<std::int64_t>(shape().size());
}
std::int64_t Tensor::numel() const {
    return checked(impl_, "numel").numel;
}
Dtype Tensor::dtype() const {
    return checked(impl_, "dtype").dtype;
}
std::int64_t Tensor::size(std::int64_t d) const {
    return shape()[static_cast<std::size_t>(normalize_axis(d, dim(), "size"))];
}

template <class T>
T Tensor::item() const {
    if (numel() != 1)
        raise<ValueError>("item", "needs a tensor with exactly one element, got shape ",
                          shape_str(shape()));
    return kernels::dispatch_all(dtype(), [&](auto tag) -> T {
        using S = typename decltype(tag)::type;
        return static_cast<T>(*static_cast<const S*>(impl_->data()));
    });
}

template <class T>
std::vector<T> Tensor::to_vector() const {
    checked(impl_, "to_vector");
    return kernels::dispatch_all(dtype(), [&](auto tag) {
        using S = typename decltype(tag)::type;
        const S* p = static_cast<const S*>(impl_->data());
        return std::vector<T>(p, p + numel());
    });
}

template <class T>
T* Tensor::data_ptr() {
    if (dtype() != dtype_of<T>::value)
        raise<DtypeError>("data_ptr", "requested ", dtype_name(dtype_of<T>::value),
                          " but the tensor is ", dtype_name(dtype()));
    return static_cast<T*>(impl_->data());
}
template <class T>
const T* Tensor::data_ptr() const {
    return const_cast<Tensor*>(this)->data_ptr<T>();
}

#define XGRAD_INSTANTIATE_READOUT(T)                      \
    template T Tensor::item<T>() const;                   \
    template std::vector<T> Tensor::to_vector<T>() const; \
    template T* Tensor::data_ptr<T>();                    \
    template const T* Tensor::data_ptr<T>() const;
XGRAD_INSTANTIATE_READOUT(float)
XGRAD_INSTANTIATE_READOUT(double)
XGRAD_INSTANTIATE_READOUT(std::int64_t)
XGRAD_INSTANTIATE_READOUT(bool)
#undef XGRAD_INSTANTIATE_READOUT

bool Tensor::requires_grad() const {
    const auto& i = checked(impl_, "requires_grad");
    return i.requires_grad || i.grad_fn != nullptr;
}

Tensor& Tensor::requires_grad_(bool on) {
    auto& i = const_cast<TensorImpl&>(checked(impl_, "requires_grad_"));
    if (on && !is_floating(i.dtype))
        raise<DtypeError>("requires_grad_",
                          "only floating tensors can require gradients, this one is ",
                          dtype_name(i.dtype), " with shape ", shape_str(i.shape));
    if (!on && i.grad_fn)
        raise<AutogradError>("requires_grad_",
                             "cannot turn off requires_grad on a non-leaf tensor (use detach())");
    i.requires_grad = on;
    return *this;
}

Tensor Tensor::grad() const {
    return checked(impl_, "grad").grad;
}

void Tensor::set_grad(const Tensor& g) {
    auto& i = const_cast<TensorImpl&>(checked(impl_, "set_grad"));
    if (g.defined() && (g.shape() != i.shape || g.dtype() != i.dtype))
        raise<ShapeError>("set_grad", "gradient of shape ", shape_str(g.shape()), " (",
                          dtype_name(g.dtype()), ") for a tensor of shape ", shape_str(i.shape),
                          " (", dtype_name(i.dtype), ")");
    i.grad = g;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
    return checked(impl_, "grad_fn").grad_fn;
}
bool Tensor::is_leaf() const {
    return checked(impl_, "is_leaf").grad_fn == nullptr;
}

void set_data(const Tensor& t, const Tensor& src) {
    auto& i = const_cast<TensorImpl&>(checked(t.impl(), "set_data"));
    const auto& s = checked(src.impl(), "set_data");
    if (i.grad_fn)
        raise<AutogradError>("set_data", "only leaf tensors can have their data replaced");
    if (i.requires_grad && !is_floating(s.dtype))
        raise<DtypeError>("set_data", "a tensor that requires grad cannot hold ",
                          dtype_name(s.dtype), " data");
    // A gradient of the old dtype or shape no longer fits.
    if (i.dtype != s.dtype || i.shape != s.shape) i.grad = Tensor();
    // Past both versions: whatever was saved of either tensor before the swap is stale.
    const std::uint64_t old_version = i.storage->version.load(std::memory_order_relaxed);
    const std::uint64_t src_version = s.storage->version.load(std::memory_order_relaxed);
    s.storage->version.store(std::max(old_version, src_version) + 1, std::memory_order_relaxed);
    i.storage = s.storage;
    i.shape = s.shape;
    i.numel = s.numel;
    i.dtype = s.dtype;
}

std::uint64_t Tensor::version() const {
    return checked(impl_, "version").storage->version.load(std::memory_order_relaxed);
}
void Tensor::bump_version() const {
    checked(impl_, "bump_version").storage->version.fetch_add(1, std::memory_order_relaxed);
}

Tensor Tensor::detach() const {
    const auto& i = checked(impl_, "detach");
    return make_view(i.storage, i.shape, i.dtype);
}

}  // namespace xgrad
