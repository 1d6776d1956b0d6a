// Gradient clipping: torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch 1.13).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/optim/clip_grad.hpp>
#include "optim_common.hpp"

namespace xgrad::optim {

namespace {

void check_params(const std::vector<Tensor>& params, const char* op) {
    for (std::size_t i = 0; i < params.size(); ++i)
        if (!params[i].defined())
            raise<ValueError>((std::string("optim::") + op).c_str(), "parameter ",
                              std::to_string(i), " is an undefined tensor");
}

// The p-norm of one gradient (p = inf: the largest magnitude), accumulated in double.
double grad_norm(const Tensor& g, double p) {
    double result = 0.0;
    detail::dispatch_floating(g.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* d = g.data_ptr<T>();
        const std::int64_t n = g.numel();
        double acc = 0.0;
        if (std::isinf(p)) {
            for (std::int64_t i = 0; i < n; ++i) {
                const double a = std::fabs(static_cast<double>(d[i]));
                if (a > acc || a != a) acc = a;  // NaN propagates, as torch's max
                if (acc != acc) break;
            }
            result = acc;
        } else if (p == 2.0) {
            for (std::int64_t i = 0; i < n; ++i) acc += static_cast<double>(d[i]) * d[i];
            result = std::sqrt(acc);
        } else if (p == 1.0) {
            for (std::int64_t i = 0; i < n; ++i) acc += std::fabs(static_cast<double>(d[i]));
            result = acc;
        } else {
            for (std::int64_t i = 0; i < n; ++i)
                acc += std::pow(std::fabs(static_cast<double>(d[i])), p);
            result = std::pow(acc, 1.0 / p);
        }
    });
    return result;
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
    const std::string w = "xgrad::optim::clip_grad_norm_";
    detail::require(detail::finite_nonneg(max_norm), w, "max_norm", max_norm, "finite and >= 0");
    detail::require(norm_type > 0.0, w, "norm_type", norm_type, "> 0, or inf");
    check_params(params, "clip_grad_norm_");
    std::vector<Tensor> grads;
    for (const Tensor& p : params)
        if (p.grad().defined()) grads.push_back(p.grad());
    if (grads.empty()) return 0.0;

    double total = 0.0;
    if (std::isinf(norm_type)) {
        for (const Tensor& g : grads) {
            const double n = grad_norm(g, norm_type);
            if (n > total || n != n) total = n;
            if (total != total) break;
        }
    } else if (norm_type == 2.0) {
        for (const Tensor& g : grads) {
            const double n = grad_norm(g, norm_type);
            total += n * n;
        }
        total = std::sqrt(total);
    } else {
        for (const Tensor& g : grads) total += std::pow(grad_norm(g, norm_type), norm_type);
        total = std::pow(total, 1.0 / norm_type);
    }
    if (error_if_nonfinite && !std::isfinite(total))
        raise<ValueError>(
            "optim::clip_grad_norm_", "the total norm of order ", detail::format_value(norm_type),
            " of the gradients is ", detail::format_value(total),
            ", so they cannot be clipped (pass error_if_nonfinite = false to scale them anyway)");
    const double coef = max_norm / (total + 1e-6);
    const double clamped = (coef != coef) ? coef : std::min(coef, 1.0);
    if (clamped == 1.0) return total;  // multiplying by 1 changes nothing
    for (Tensor& g : grads)
        detail::dispatch_floating(g.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            T* d = g.data_ptr<T>();
            const T c = static_cast<T>(clamped);
            for (std::int64_t i = 0, n = g.numel(); i < n; ++i) d[i] = d[i] * c;
            g.bump_version();
        });
    return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
    detail::require(detail::finite_nonneg(clip_value), "xgrad::optim::clip_grad_value_",
                    "clip_value", clip_value, "finite and >= 0");
    check_params(params, "clip_grad_value_");
    for (const Tensor& p : params) {
        Tensor g = p.grad();
        if (!g.defined()) continue;
        detail::dispatch_floating(g.dtype(), [&](auto tag) {
            using T = typename decltype(tag)::type;
            T* d = g.data_ptr<T>();
            const T hi = static_cast<T>(clip_value), lo = -hi;
            for (std::int64_t i = 0, n = g.numel(); i < n; ++i) {
                if (d[i] < lo)
                    d[i] = lo;
                else if (d[i] > hi)
                    d[i] = hi;
            }
        });
        g.bump_version();
    }
}

}  // namespace xgrad::optim
