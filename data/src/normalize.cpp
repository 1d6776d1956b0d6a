// Feature scaling, composed from ops.
#include <cmath>
#include <string>
#include <type_traits>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/data/normalize.hpp>

namespace xgrad::data {

namespace {

void check_floating(const Tensor& x, const char* op, const char* what) {
    if (!x.defined()) raise<ValueError>(op, what, " is undefined");
    if (!is_floating(x.dtype()))
        raise<DtypeError>(op, what, " must be float32 or float64, got ", dtype_name(x.dtype()));
}

// `t` with its non-positive entries replaced by 1 (a feature that does not vary).
Tensor ones_where_flat(const Tensor& t) {
    return where(t <= 0.0, ones_like(t), t);
}

}  // namespace

std::pair<Tensor, Tensor> mean_std(const Tensor& x, const Axes& dims) {
    check_floating(x, "data::mean_std", "the data");
    NoGradGuard no_grad;
    const Tensor d = x.detach();
    return {d.mean(dims, true), ones_where_flat(d.std(dims, true, 0))};
}

std::pair<Tensor, Tensor> min_max(const Tensor& x, const Axes& dims) {
    check_floating(x, "data::min_max", "the data");
    NoGradGuard no_grad;
    const Tensor d = x.detach();
    return {d.min(dims, true), d.max(dims, true)};
}

Tensor normalize(const Tensor& x, const Tensor& mean, const Tensor& std) {
    check_floating(x, "data::normalize", "the data");
    check_floating(mean, "data::normalize", "the mean");
    check_floating(std, "data::normalize", "the std");
    return (x - mean) / std;
}

Tensor normalize(const Tensor& x, double mean, double std) {
    check_floating(x, "data::normalize", "the data");
    if (!(std > 0.0) || !std::isfinite(std) || !std::isfinite(mean))
        raise<ValueError>("data::normalize", "needs a finite mean and a positive std, got mean ",
                          std::to_string(mean), " and std ", std::to_string(std));
    return (x - mean) / std;
}

Tensor& normalize_(Tensor& x, double mean, double std) {
    const char* op = "data::normalize_";
    check_floating(x, op, "the data");
    if (!(std > 0.0) || !std::isfinite(std) || !std::isfinite(mean))
        raise<ValueError>(op, "needs a finite mean and a positive std, got mean ",
                          std::to_string(mean), " and std ", std::to_string(std));
    if (x.requires_grad())
        raise<ValueError>(op, "cannot work in place on a tensor that requires grad (shape ",
                          x.shape(), "); use data::normalize");
    NoGradGuard no_grad;
    // Each element rounds as the two ops of normalize() round: (x - mean) in T, then / std in T.
    auto run = [&](auto* data) {
        using T = std::remove_pointer_t<decltype(data)>;
        const T m = static_cast<T>(mean), s = static_cast<T>(std);
        const std::int64_t n = x.numel();
        for (std::int64_t i = 0; i < n; ++i) data[i] = (data[i] - m) / s;
    };
    if (x.dtype() == kFloat32)
        run(x.data_ptr<float>());
    else
        run(x.data_ptr<double>());
    x.bump_version();
    return x;
}

Tensor& normalize_(Tensor& x, const Tensor& mean, const Tensor& std) {
    const char* op = "data::normalize_";
    check_floating(x, op, "the data");
    check_floating(mean, op, "the mean");
    check_floating(std, op, "the std");
    if (mean.dtype() != x.dtype() || std.dtype() != x.dtype())
        raise<DtypeError>(op, "the data is ", dtype_name(x.dtype()), " but the mean is ",
                          dtype_name(mean.dtype()), " and the std ", dtype_name(std.dtype()));
    if (x.requires_grad())
        raise<ValueError>(op, "cannot work in place on a tensor that requires grad (shape ",
                          x.shape(), "); use data::normalize");
    // The statistics must cover x's trailing dimensions exactly (leading 1s aside), so that the
    // data is a whole number of rows of `features` values, each row normalised alike.
    auto fits = [&](const Tensor& t) {
        const Shape& s = t.shape();
        const Shape& xs = x.shape();
        if (s.size() > xs.size()) return false;  // broadcasting would add dimensions to x
        std::size_t lead = 0;
        while (lead < s.size() && s[lead] == 1) ++lead;
        for (std::size_t i = lead; i < s.size(); ++i)
            if (s[i] != xs[xs.size() - s.size() + i]) return false;
        return true;
    };
    if (!fits(mean) || !fits(std) || mean.numel() != std.numel())
        raise<ShapeError>(op, "the mean ", mean.shape(), " and the std ", std.shape(),
                          " must both have the shape of trailing dimensions of the data ",
                          x.shape(), " (after leading 1s)");
    const std::int64_t features = mean.numel();
    NoGradGuard no_grad;
    const Tensor m_all = mean.detach(), s_all = std.detach();
    auto run = [&](auto* data) {
        using T = std::remove_pointer_t<decltype(data)>;
        const T* m = m_all.data_ptr<T>();
        const T* s = s_all.data_ptr<T>();
        for (std::int64_t j = 0; j < features; ++j)
            if (!(s[j] > T(0)) || !std::isfinite(s[j]) || !std::isfinite(m[j]))
                raise<ValueError>(op, "needs finite means and positive stds; feature ",
                                  std::to_string(j), " has mean ", std::to_string(m[j]),
                                  " and std ", std::to_string(s[j]));
        const std::int64_t rows = features == 0 ? 0 : x.numel() / features;
        for (std::int64_t r = 0; r < rows; ++r) {
            T* row = data + r * features;
            for (std::int64_t j = 0; j < features; ++j) row[j] = (row[j] - m[j]) / s[j];
        }
    };
    if (x.dtype() == kFloat32)
        run(x.data_ptr<float>());
    else
        run(x.data_ptr<double>());
    x.bump_version();
    return x;
}

Tensor min_max_scale(const Tensor& x, const Tensor& min, const Tensor& max, double low,
                     double high) {
    const char* op = "data::min_max_scale";
    check_floating(x, op, "the data");
    check_floating(min, op, "min");
    check_floating(max, op, "max");
    if (!std::isfinite(low) || !std::isfinite(high) || !(low < high))
        raise<ValueError>(op, "needs finite low < high, got [", std::to_string(low), ", ",
                          std::to_string(high), "]");
    Tensor range;
    {
        NoGradGuard no_grad;
        range = ones_where_flat(max.detach() - min.detach());
    }
    return (x - min) / range * (high - low) + low;
}

Standardizer Standardizer::fit(const Tensor& x, const Axes& dims) {
    auto [m, s] = mean_std(x, dims);
    return Standardizer{m, s};
}

Tensor Standardizer::transform(const Tensor& x) const {
    return normalize(x, mean, std);
}

Tensor Standardizer::inverse_transform(const Tensor& x) const {
    check_floating(x, "data::Standardizer::inverse_transform", "the data");
    return x * std + mean;
}

MinMaxScaler MinMaxScaler::fit(const Tensor& x, double low, double high, const Axes& dims) {
    if (!std::isfinite(low) || !std::isfinite(high) || !(low < high))
        raise<ValueError>("data::MinMaxScaler::fit", "needs finite low < high, got [",
                          std::to_string(low), ", ", std::to_string(high), "]");
    auto [lo, hi] = min_max(x, dims);
    return MinMaxScaler{lo, hi, low, high};
}

Tensor MinMaxScaler::transform(const Tensor& x) const {
    return min_max_scale(x, min, max, low, high);
}

Tensor MinMaxScaler::inverse_transform(const Tensor& x) const {
    check_floating(x, "data::MinMaxScaler::inverse_transform", "the data");
    Tensor range;
    {
        NoGradGuard no_grad;
        range = ones_where_flat(max.detach() - min.detach());
    }
    return (x - low) / (high - low) * range + min;
}

}  // namespace xgrad::data
