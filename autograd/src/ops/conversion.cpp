// Dtype conversion and copies.
#include <cstring>

#include "kernels/elementwise.hpp"
#include "kernels/parallel.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

Tensor Tensor::to(Dtype dtype) const {
    check_defined("to", *this);
    if (dtype == this->dtype()) return *this;
    Tensor out = make_tensor(shape(), dtype);
    kernels::dispatch_all(this->dtype(), [&](auto src_tag) {
        using S = typename decltype(src_tag)::type;
        kernels::dispatch_all(dtype, [&](auto dst_tag) {
            using D = typename decltype(dst_tag)::type;
            const S* s = data_ptr<S>();
            D* d = out.data_ptr<D>();
            for (std::int64_t i = 0; i < numel(); ++i) d[i] = static_cast<D>(s[i]);
        });
    });
    // Only conversions between floating dtypes carry a gradient.
    if (is_floating(dtype) && is_floating(this->dtype()) && should_record({this})) {
        const Dtype back = this->dtype();
        record("ToBackward", out, {*this}, {},
               [back](Node&, const Tensor& g) -> TensorList { return {g.to(back)}; });
    }
    return out;
}

Tensor Tensor::clone() const {
    check_defined("clone", *this);
    Tensor out = make_tensor(shape(), dtype());
    const std::size_t elem = dtype_size(dtype());
    char* dst = static_cast<char*>(out.impl()->data());
    const char* src = static_cast<const char*>(impl()->data());
    kernels::parallel_for(numel(), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
        std::memcpy(dst + lo * elem, src + lo * elem, static_cast<std::size_t>(hi - lo) * elem);
    });
    if (should_record({this}))
        record("CloneBackward", out, {*this}, {},
               [](Node&, const Tensor& g) -> TensorList { return {g}; });
    return out;
}

namespace {
// In-place writes bypass the tape: refuse them on tensors the tape is tracking.
void check_in_place(const Tensor& t, const char* op) {
    check_defined(op, t);
    if (GradMode::is_enabled() && t.requires_grad())
        raise<AutogradError>(op, "in-place write to a tensor that requires grad (shape ",
                             shape_str(t.shape()),
                             "); wrap it in NoGradGuard (e.g. for a parameter update)");
}
}  // namespace

Tensor& Tensor::fill_(double value) {
    check_in_place(*this, "fill_");
    kernels::dispatch_all(dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        std::fill(data_ptr<T>(), data_ptr<T>() + numel(), static_cast<T>(value));
    });
    bump_version();
    return *this;
}

Tensor& Tensor::zero_() {
    return fill_(0.0);
}

Tensor& Tensor::copy_(const Tensor& src) {
    check_in_place(*this, "copy_");
    check_same_dtype("copy_", *this, src);
    if (src.shape() == shape()) {
        std::memcpy(impl()->data(), src.impl()->data(), numel() * dtype_size(dtype()));
        bump_version();
        return *this;
    }
    if (broadcast_shapes(src.shape(), shape(), "copy_") != shape())
        raise<ShapeError>("copy_", "cannot copy ", shape_str(src.shape()), " into ",
                          shape_str(shape()));
    kernels::dispatch_all(dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        auto o = kernels::nd<T>(*this);
        // Broadcast explicitly: assigning a smaller expression would try to resize o.
        xt::noalias(o) = xt::broadcast(kernels::nd<T>(src), kernels::to_xshape(shape()));
    });
    bump_version();
    return *this;
}

void Tensor::zero_grad(bool set_to_none) {
    check_defined("zero_grad", *this);
    Tensor& g = impl()->grad;
    if (!g.defined()) return;
    if (set_to_none || g.grad_fn()) {
        g = Tensor();
    } else {
        NoGradGuard no_grad;
        g.zero_();
    }
}

void Tensor::register_hook(Hook hook) {
    check_defined("register_hook", *this);
    if (!requires_grad())
        raise<AutogradError>("register_hook", "the tensor (shape ", shape_str(shape()),
                             ") does not require grad, so no gradient will reach the hook");
    if (grad_fn())
        grad_fn()->pre_hooks().push_back(std::move(hook));
    else
        impl()->hooks.push_back(std::move(hook));
}

Tensor& Tensor::retain_grad() {
    check_defined("retain_grad", *this);
    if (is_leaf()) return *this;  // leaves keep their gradient anyway
    if (impl()->retains_grad) return *this;
    impl()->retains_grad = true;
    std::weak_ptr<TensorImpl> weak = impl();
    grad_fn()->pre_hooks().push_back([weak](const Tensor& g) {
        if (auto self = weak.lock()) {
            if (!self->grad.defined())
                self->grad = g.detach().clone();
            else
                self->grad = self->grad + g.detach();
        }
        return Tensor();
    });
    return *this;
}

}  // namespace xgrad
