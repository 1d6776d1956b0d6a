// Views of Tensor data as xtensor expressions (no copy). Internal: xtensor never reaches the
// public headers.
#pragma once
#include <array>
#include <cstddef>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include <xgrad/core/tensor.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad::kernels {

using xshape = xt::svector<std::size_t, 4>;

inline xshape to_xshape(const Shape& s) {
    xshape out(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::size_t>(s[i]);
    return out;
}

template <class T>
T* data_of(const Tensor& t) {
    return static_cast<T*>(t.impl()->data());
}

// The tensor's elements as a 1-D xtensor (cheapest for elementwise work).
template <class T>
auto flat(const Tensor& t) {
    return xt::adapt(data_of<T>(t), static_cast<std::size_t>(t.numel()), xt::no_ownership(),
                     std::array<std::size_t, 1>{static_cast<std::size_t>(t.numel())});
}

// The tensor with its own shape, for broadcasting and axis work.
template <class T>
auto nd(const Tensor& t) {
    return xt::adapt(data_of<T>(t), static_cast<std::size_t>(t.numel()), xt::no_ownership(),
                     to_xshape(t.shape()));
}

}  // namespace xgrad::kernels
