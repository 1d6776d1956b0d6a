// Helpers shared by the optimizer sources (private to optim/src).
#pragma once
#include <cmath>
#include <limits>
#include <string>

#include <xgrad/core/error.hpp>
#include <xgrad/optim/optimizer.hpp>
#include "kernels/dispatch.hpp"

namespace xgrad::optim::detail {

// Runs f(type_tag<T>) for a float32 or float64 tensor.
template <class F>
void dispatch_floating(Dtype dtype, F&& f) {
    kernels::dispatch_floating(dtype, "optim", std::forward<F>(f));
}

inline bool finite_nonneg(double v) {
    return std::isfinite(v) && v >= 0.0;
}

// Throws ValueError "<who>: invalid <what> <value> (must be <rule>)" unless ok.
inline void require(bool ok, const std::string& who, const char* what, double value,
                    const char* rule) {
    if (!ok)
        throw ValueError(who + ": invalid " + what + " " + format_value(value) + " (must be " +
                         rule + ")");
}
inline void require_lr(const std::string& who, double lr) {
    require(finite_nonneg(lr), who, "learning rate", lr, "finite and >= 0");
}
inline void require_nonneg(const std::string& who, const char* what, double v) {
    require(finite_nonneg(v), who, what, v, "finite and >= 0");
}
inline void require_beta(const std::string& who, const char* what, double beta) {
    require(beta >= 0.0 && beta < 1.0, who, what, beta, "in [0, 1)");
}

// torch.maximum: NaN if either is NaN.
template <class T>
T nan_maximum(T a, T b) {
    return (a > b || a != a) ? a : b;
}

}  // namespace xgrad::optim::detail
