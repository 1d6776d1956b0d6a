#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/nn/layers/pooling.hpp>

namespace xgrad::nn {

namespace {

// The op that raise() names in messages (it adds the "xgrad::"): "nn::<layer>".
std::string op_name(const char* layer) {
    return std::string("nn::") + layer;
}

void check_at_least(const char* layer, const Size2d& s, std::int64_t lo, const char* what) {
    if (s.h < lo || s.w < lo)
        raise<ValueError>(op_name(layer).c_str(), what, " must be ",
                          (lo > 0 ? "positive" : "non-negative"), ", got ", size2d_str(s));
}

// PyTorch's rule for pooling: padding at most half the kernel, so no window is all padding.
void check_padding(const char* layer, const Size2d& padding, const Size2d& kernel) {
    check_at_least(layer, padding, 0, "padding");
    if (padding.h > kernel.h / 2 || padding.w > kernel.w / 2)
        raise<ValueError>(op_name(layer).c_str(), "padding ", size2d_str(padding),
                          " must be at most half of kernel_size ", size2d_str(kernel));
}

// Returns the input as [N, C, H, W] (an unbatched [C, H, W] gets N = 1).
Tensor as_batched(const char* layer, const Tensor& x) {
    if (!x.defined()) raise<ValueError>(op_name(layer).c_str(), "undefined input");
    if (x.dim() != 3 && x.dim() != 4)
        raise<ShapeError>(op_name(layer).c_str(),
                          "expected input [N, C, H, W] or [C, H, W] (4-D or 3-D), got shape ",
                          shape_str(x.shape()));
    if (!is_floating(x.dtype()))
        raise<DtypeError>(op_name(layer).c_str(), "needs a floating input, got ",
                          dtype_name(x.dtype()), " of shape ", shape_str(x.shape()));
    return x.dim() == 3 ? x.unsqueeze(0) : x;
}

Tensor restore_rank(const Tensor& y, const Tensor& input) {
    return input.dim() == 3 ? y.squeeze(0) : y;
}

// Output extent along one dim, or a ShapeError when no window fits.
std::int64_t out_extent(const char* layer, const Tensor& x, std::int64_t in, std::int64_t k,
                        std::int64_t s, std::int64_t p, std::int64_t d) {
    const std::int64_t span = in + 2 * p - d * (k - 1) - 1;
    if (span < 0)
        raise<ShapeError>(op_name(layer).c_str(), "input of shape ", shape_str(x.shape()),
                          " is too small: a spatial size of ", std::to_string(in), " with padding ",
                          std::to_string(p), " is smaller than the ", (d > 1 ? "dilated " : ""),
                          "kernel extent ", std::to_string(d * (k - 1) + 1));
    return span / s + 1;
}

UnfoldOptions unfold_options(const Size2d& k, const Size2d& d, const Size2d& p, const Size2d& s) {
    UnfoldOptions u;
    u.kernel_size = {k.h, k.w};
    u.dilation = {d.h, d.w};
    u.padding = {p.h, p.w};
    u.stride = {s.h, s.w};
    return u;
}

// The stride options use 0 for "same as the kernel", PyTorch's None.
Size2d stride_or_kernel(const Size2d& stride, const Size2d& kernel) {
    return stride == Size2d(0) ? kernel : stride;
}

std::string opt_str(const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : std::string("none");
}

// The [out, in] matrix whose row i averages input indices [floor(i*in/out), ceil((i+1)*in/out)).
Tensor averaging_matrix(std::int64_t out, std::int64_t in, Dtype dtype) {
    std::vector<double> a(static_cast<std::size_t>(out * in), 0.0);
    for (std::int64_t i = 0; i < out; ++i) {
        const std::int64_t start = (i * in) / out;
        const std::int64_t end = ((i + 1) * in + out - 1) / out;
        for (std::int64_t j = start; j < end; ++j)
            a[static_cast<std::size_t>(i * in + j)] = 1.0 / static_cast<double>(end - start);
    }
    return tensor(a, {out, in}, TensorOptions{dtype});
}

}  // namespace

// ---- MaxPool2d ---------------------------------------------------------------------------

MaxPool2d::MaxPool2d(Size2d k, MaxPool2dOptions o)
    : kernel_size(k),
      stride(stride_or_kernel(o.stride, k)),
      padding(o.padding),
      dilation(o.dilation) {
    check_at_least("MaxPool2d", kernel_size, 1, "kernel_size");
    check_at_least("MaxPool2d", stride, 1, "stride");
    check_at_least("MaxPool2d", dilation, 1, "dilation");
    check_padding("MaxPool2d", padding, kernel_size);
}

Tensor MaxPool2d::forward(const Tensor& input) {
    const char* layer = "MaxPool2d";
    Tensor x = as_batched(layer, input);
    // The layer's own check first, for its message naming the layer and the input.
    out_extent(layer, input, x.size(2), kernel_size.h, stride.h, padding.h, dilation.h);
    out_extent(layer, input, x.size(3), kernel_size.w, stride.w, padding.w, dilation.w);
    // One op straight from the image, no padded or unfolded copy. At ties the gradient is
    // shared evenly (see the header); PyTorch gives it to one element.
    const Tensor y = max_pool2d(x, unfold_options(kernel_size, dilation, padding, stride));
    return restore_rank(y, input);
}

std::string MaxPool2d::extra_repr() const {
    return "kernel_size=" + size2d_str(kernel_size) + ", stride=" + size2d_str(stride) +
           ", padding=" + size2d_str(padding) + ", dilation=" + size2d_str(dilation);
}

// ---- AvgPool2d ---------------------------------------------------------------------------

AvgPool2d::AvgPool2d(Size2d k, AvgPool2dOptions o)
    : kernel_size(k),
      stride(stride_or_kernel(o.stride, k)),
      padding(o.padding),
      count_include_pad(o.count_include_pad),
      divisor_override(o.divisor_override) {
    check_at_least("AvgPool2d", kernel_size, 1, "kernel_size");
    check_at_least("AvgPool2d", stride, 1, "stride");
    check_padding("AvgPool2d", padding, kernel_size);
    if (divisor_override && *divisor_override <= 0)
        raise<ValueError>("nn::AvgPool2d", "divisor_override must be positive, got ",
                          std::to_string(*divisor_override));
}

Tensor AvgPool2d::forward(const Tensor& input) {
    const char* layer = "AvgPool2d";
    const Tensor x = as_batched(layer, input);
    const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const std::int64_t oh = out_extent(layer, input, h, kernel_size.h, stride.h, padding.h, 1);
    const std::int64_t ow = out_extent(layer, input, w, kernel_size.w, stride.w, padding.w, 1);
    const std::int64_t window = kernel_size.h * kernel_size.w;
    const UnfoldOptions u = unfold_options(kernel_size, Size2d(1), padding, stride);
    // unfold pads with zeros, so the window sums are exact whichever divisor is used.
    const Tensor sums = unfold(x, u).reshape({n, c, window, oh * ow}).sum({2});  // [N, C, L]
    Tensor y;
    if (divisor_override) {
        y = sums / static_cast<double>(*divisor_override);
    } else if (count_include_pad || (padding.h == 0 && padding.w == 0)) {
        y = sums / static_cast<double>(window);
    } else {
        // The number of in-image elements of each window: the same windows over ones (a
        // constant, so it carries no gradient).
        const Tensor counts =
            unfold(ones({1, 1, h, w}, TensorOptions{x.dtype()}), u).sum({1});  // [1, L]
        y = sums / counts;
    }
    return restore_rank(y.reshape({n, c, oh, ow}), input);
}

std::string AvgPool2d::extra_repr() const {
    std::string s = "kernel_size=" + size2d_str(kernel_size) + ", stride=" + size2d_str(stride) +
                    ", padding=" + size2d_str(padding) +
                    ", count_include_pad=" + (count_include_pad ? "true" : "false");
    if (divisor_override) s += ", divisor_override=" + opt_str(divisor_override);
    return s;
}

// ---- AdaptiveAvgPool2d -------------------------------------------------------------------

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2d out) : output_size(out) {
    check_at_least("AdaptiveAvgPool2d", output_size, 1, "output_size");
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
    const Tensor x = as_batched("AdaptiveAvgPool2d", input);
    if (x.size(2) == 0 || x.size(3) == 0)
        raise<ShapeError>("nn::AdaptiveAvgPool2d", "input of shape ", shape_str(input.shape()),
                          " has an empty spatial dim");
    const Tensor a_h = averaging_matrix(output_size.h, x.size(2), x.dtype());  // [oh, H]
    const Tensor a_w = averaging_matrix(output_size.w, x.size(3), x.dtype());  // [ow, W]
    // [oh, H] x [N, C, H, W] -> [N, C, oh, W]; then x A_w^T (a BLAS flag) -> [N, C, oh, ow].
    const Tensor rows = matmul(a_h, x);
    const Tensor y = matmul(rows, a_w, MatmulOptions{false, true});
    return restore_rank(y, input);
}

std::string AdaptiveAvgPool2d::extra_repr() const {
    return "output_size=" + size2d_str(output_size);
}

}  // namespace xgrad::nn
