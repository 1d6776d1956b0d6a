// ExponentialMovingAverage: one in-place loop per tracked tensor, outside the tape.
#include <algorithm>
#include <string>
#include <utility>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/core/dtype.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/shape.hpp>
#include <xgrad/optim/ema.hpp>
#include "kernels/isa.hpp"
#include "optim_common.hpp"

namespace xgrad::optim {

namespace {

const char* const kWho = "optim::ExponentialMovingAverage";

// avg += weight * (p - avg), as torch's lerp_(p, weight) with weight = 1 - decay.
template <class T>
XGRAD_ALWAYS_INLINE void ema_update(T* __restrict avg, const T* __restrict p, std::int64_t n,
                                    T weight) {
    for (std::int64_t i = 0; i < n; ++i) avg[i] = avg[i] + weight * (p[i] - avg[i]);
}

// Exchanges the contents of two buffers.
template <class T>
XGRAD_ALWAYS_INLINE void swap_values(T* __restrict a, T* __restrict b, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        const T t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

// Compiled for baseline x86-64, AVX2+FMA and AVX-512, picked at run time (kernels/isa.hpp).
XGRAD_DISPATCHED(void, ema_run, ema_update<float>,
                 (float* avg, const float* p, std::int64_t n, float weight), (avg, p, n, weight))
XGRAD_DISPATCHED(void, ema_run, ema_update<double>,
                 (double* avg, const double* p, std::int64_t n, double weight), (avg, p, n, weight))

}  // namespace

ExponentialMovingAverage::ExponentialMovingAverage(std::vector<Tensor> params, EMAOptions options)
    : options_(options) {
    if (!(options.decay >= 0.0 && options.decay <= 1.0))
        raise<ValueError>(kWho, "invalid decay ", detail::format_value(options.decay),
                          " (must be in [0, 1])");
    if (params.empty()) raise<ValueError>(kWho, "got an empty list of tensors");
    for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor& p = params[i];
        const std::string which = "tensor " + std::to_string(i);
        if (!p.defined()) raise<ValueError>(kWho, which, " is an undefined tensor");
        if (!is_floating(p.dtype()))
            raise<DtypeError>(kWho, which, " (shape ", shape_str(p.shape()), ") is ",
                              dtype_name(p.dtype()), "; only float32 and float64 can be averaged");
        if (!p.is_leaf())
            raise<ValueError>(kWho, which, " (shape ", shape_str(p.shape()),
                              ") is not a leaf tensor (it is the result of an op)");
        for (std::size_t j = 0; j < i; ++j)
            if (p.is_same(params[j]))
                raise<ValueError>(kWho, which, " is the same tensor as tensor ", std::to_string(j));
    }
    params_ = std::move(params);
    NoGradGuard no_grad;
    averaged_.reserve(params_.size());
    for (const Tensor& p : params_) averaged_.push_back(p.detach().clone());
}

double ExponentialMovingAverage::next_decay() const {
    if (!options_.warmup) return options_.decay;
    const double n = static_cast<double>(num_updates_ + 1);
    return std::min(options_.decay, (1.0 + n) / (10.0 + n));
}

void ExponentialMovingAverage::update() {
    if (swapped_)
        raise<ValueError>(kWho,
                          "update() called while the averages are swapped into the "
                          "parameters; swap() them back first");
    const double weight = 1.0 - next_decay();
    for (std::size_t i = 0; i < params_.size(); ++i) {
        Tensor& avg = averaged_[i];
        const Tensor& p = params_[i];
        detail::dispatch_floating(p.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            ema_run(avg.data_ptr<T>(), p.data_ptr<T>(), p.numel(), static_cast<T>(weight));
        });
        avg.bump_version();
    }
    ++num_updates_;
}

void ExponentialMovingAverage::swap() {
    for (std::size_t i = 0; i < params_.size(); ++i) {
        Tensor& avg = averaged_[i];
        Tensor p = params_[i];
        detail::dispatch_floating(p.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            swap_values(p.data_ptr<T>(), avg.data_ptr<T>(), p.numel());
        });
        p.bump_version();
        avg.bump_version();
    }
    swapped_ = !swapped_;
}

void ExponentialMovingAverage::copy_to_params() const {
    NoGradGuard no_grad;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        Tensor p = params_[i];
        p.copy_(averaged_[i]);
    }
}

void ExponentialMovingAverage::reset() {
    if (swapped_)
        raise<ValueError>(kWho,
                          "reset() called while the averages are swapped into the "
                          "parameters; swap() them back first");
    NoGradGuard no_grad;
    for (std::size_t i = 0; i < params_.size(); ++i) averaged_[i].copy_(params_[i]);
    num_updates_ = 0;
}

AveragedParameters::AveragedParameters(ExponentialMovingAverage& ema) : ema_(ema) {
    if (ema.swapped())
        raise<ValueError>("optim::AveragedParameters",
                          "the averages are already swapped into the parameters");
    ema_.swap();
}

AveragedParameters::~AveragedParameters() {
    if (ema_.swapped()) ema_.swap();
}

}  // namespace xgrad::optim
