#include <cmath>
#include <string>

#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/nn/layers/conv.hpp>

namespace xgrad::nn {

std::string size2d_str(const Size2d& s) {
    return "(" + std::to_string(s.h) + ", " + std::to_string(s.w) + ")";
}

namespace {

void check_at_least(const Size2d& s, std::int64_t lo, const char* what) {
    if (s.h < lo || s.w < lo)
        raise<ValueError>("nn::Conv2d", what, " must be ", (lo > 0 ? "positive" : "non-negative"),
                          ", got ", size2d_str(s));
}

// Output extent of one spatial dim, or -1 when the dilated kernel does not fit.
std::int64_t out_extent(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p,
                        std::int64_t d) {
    const std::int64_t span = in + 2 * p - d * (k - 1) - 1;
    return span < 0 ? -1 : span / s + 1;
}

}  // namespace

Conv2d::Conv2d(std::int64_t in, std::int64_t out, Size2d k, Conv2dOptions o)
    : in_channels(in), out_channels(out), kernel_size(k), options(o) {
    if (in <= 0 || out <= 0)
        raise<ValueError>("nn::Conv2d",
                          "channel counts must be positive, got in=", std::to_string(in),
                          ", out=", std::to_string(out));
    if (o.groups <= 0)
        raise<ValueError>("nn::Conv2d", "groups must be positive, got ", std::to_string(o.groups));
    if (in % o.groups != 0 || out % o.groups != 0)
        raise<ValueError>("nn::Conv2d", "in_channels (", std::to_string(in), ") and out_channels (",
                          std::to_string(out), ") must both be divisible by groups (",
                          std::to_string(o.groups), ")");
    check_at_least(k, 1, "kernel_size");
    check_at_least(o.stride, 1, "stride");
    check_at_least(o.dilation, 1, "dilation");
    check_at_least(o.padding, 0, "padding");

    Tensor w = empty({out, in / o.groups, k.h, k.w});
    init::kaiming_uniform_(w, std::sqrt(5.0));  // bound = 1 / sqrt(fan_in), as torch
    weight = register_parameter("weight", w);
    if (o.bias) {
        const double bound = 1.0 / std::sqrt(double(in / o.groups * k.h * k.w));
        Tensor b = empty({out});
        init::uniform_(b, -bound, bound);
        bias = register_parameter("bias", b);
    }
}

Tensor Conv2d::forward(const Tensor& x) {
    if (!x.defined()) raise<ValueError>("nn::Conv2d", "undefined input");
    if (x.dim() != 4 || x.size(1) != in_channels)
        raise<ShapeError>("nn::Conv2d", "expected input [N, ", std::to_string(in_channels),
                          ", H, W] (4-D with ", std::to_string(in_channels),
                          " channels), got shape ", shape_str(x.shape()));
    if (x.dtype() != weight.dtype())
        raise<DtypeError>("nn::Conv2d", "input is ", dtype_name(x.dtype()), " but the weight is ",
                          dtype_name(weight.dtype()), " (convert one with .to())");
    const Conv2dOptions& o = options;
    const std::int64_t h = x.size(2), w = x.size(3);
    const std::int64_t oh = out_extent(h, kernel_size.h, o.stride.h, o.padding.h, o.dilation.h);
    const std::int64_t ow = out_extent(w, kernel_size.w, o.stride.w, o.padding.w, o.dilation.w);
    if (oh < 1 || ow < 1)
        raise<ShapeError>("nn::Conv2d", "input of shape ", shape_str(x.shape()),
                          " is too small: padded size (", std::to_string(h + 2 * o.padding.h), ", ",
                          std::to_string(w + 2 * o.padding.w),
                          ") is smaller than the dilated kernel (",
                          std::to_string(o.dilation.h * (kernel_size.h - 1) + 1), ", ",
                          std::to_string(o.dilation.w * (kernel_size.w - 1) + 1), ")");

    xgrad::Conv2dOptions c;
    c.stride = {o.stride.h, o.stride.w};
    c.padding = {o.padding.h, o.padding.w};
    c.dilation = {o.dilation.h, o.dilation.w};
    c.groups = o.groups;
    // One op: oneDNN for float32, unfold + matmul for float64; bias added inside the op.
    return conv2d(x, weight, bias, c);
}

std::string Conv2d::extra_repr() const {
    std::string s = std::to_string(in_channels) + ", " + std::to_string(out_channels) +
                    ", kernel_size=" + size2d_str(kernel_size) +
                    ", stride=" + size2d_str(options.stride);
    if (options.padding != Size2d(0)) s += ", padding=" + size2d_str(options.padding);
    if (options.dilation != Size2d(1)) s += ", dilation=" + size2d_str(options.dilation);
    if (options.groups != 1) s += ", groups=" + std::to_string(options.groups);
    if (!bias.defined()) s += ", bias=false";
    return s;
}

}  // namespace xgrad::nn
