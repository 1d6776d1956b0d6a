// conv2d and its two adjoints, conv2d_backward_input and conv2d_backward_weight, as
// differentiable ops. float32 runs on oneDNN (core/src/conv_dnnl.cpp); float64, and geometries
// oneDNN does not take, run on unfold + matmul with the same semantics.
//
// Double backward. Write F(x, w) = conv2d(x, w), Bi(g, w) = F_x^T g (backward_input) and
// Bw(g, x) = F_w^T g (backward_weight). F is bilinear, so for any h (input-shaped) and
// k (weight-shaped):  <h, Bi(g, w)> = <F(h, w), g>  and  <k, Bw(g, x)> = <F(x, k), g>.
//   - y = F(x, w) + b:    dx = Bi(gy, w), dw = Bw(gy, x), db = sum of gy over N, H, W.
//   - r = Bi(g, w), upstream h: <F(h, w), g> is linear in g with gradient F(h, w) and linear in
//     w through F(h, .) with gradient Bw(g, h).
//   - s = Bw(g, x), upstream k: <F(x, k), g> gives F(x, k) for g and Bi(g, k) for x.
// Each rule is written with these three ops, so gradients of any order stay on this path.
#include <array>
#include <string>

#include "kernels/conv.hpp"
#include "kernels/dispatch.hpp"
#include "op_common.hpp"

namespace xgrad {

using namespace ops;

namespace {

using kernels::ConvGeometry;

std::string pair_str(const std::array<std::int64_t, 2>& p) {
    return "[" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + "]";
}

std::string options_str(const Conv2dOptions& o) {
    return "stride " + pair_str(o.stride) + ", padding " + pair_str(o.padding) + ", dilation " +
           pair_str(o.dilation) + ", groups " + std::to_string(o.groups);
}

void check_options(const char* op, const Conv2dOptions& o) {
    if (o.stride[0] < 1 || o.stride[1] < 1)
        raise<ValueError>(op, "stride must be positive, got ", pair_str(o.stride));
    if (o.dilation[0] < 1 || o.dilation[1] < 1)
        raise<ValueError>(op, "dilation must be positive, got ", pair_str(o.dilation));
    if (o.padding[0] < 0 || o.padding[1] < 0)
        raise<ValueError>(op, "padding must be non-negative, got ", pair_str(o.padding));
    if (o.groups < 1) raise<ValueError>(op, "groups must be positive, got ", o.groups);
}

// Output extent of one spatial dim, or -1 when the dilated kernel does not fit the padded input.
std::int64_t out_extent(const char* op, std::int64_t in, std::int64_t k, std::int64_t s,
                        std::int64_t p, std::int64_t d) {
    const std::int64_t padded = checked_add(in, checked_mul(2, p, op, "padding"), op, "padding");
    const std::int64_t kernel =
        checked_add(checked_mul(d, k - 1, op, "dilated kernel"), 1, op, "dilated kernel");
    return padded < kernel ? -1 : (padded - kernel) / s + 1;
}

// Checks an input shape against a weight shape and the options, and returns the geometry.
// Every message names `op` and both shapes.
ConvGeometry geometry(const char* op, const Shape& x, const Shape& w, const Conv2dOptions& o) {
    check_options(op, o);
    const std::string shapes = "input shape " + shape_str(x) + ", weight shape " + shape_str(w);
    if (x.size() != 4) raise<ShapeError>(op, "expected a 4-D input [N, C, H, W], got ", shapes);
    if (w.size() != 4)
        raise<ShapeError>(op, "expected a 4-D weight [O, C / groups, kh, kw], got ", shapes);
    for (std::int64_t v : x)
        if (v < 0) raise<ValueError>(op, "negative extent in ", shapes);
    for (std::int64_t v : w)
        if (v < 0) raise<ValueError>(op, "negative extent in ", shapes);
    if (x[1] < 1 || w[0] < 1 || w[1] < 1 || w[2] < 1 || w[3] < 1 || x[2] < 1 || x[3] < 1)
        raise<ShapeError>(op, "channels, kernel and image sizes must be positive, got ", shapes);
    ConvGeometry g;
    g.n = x[0];
    g.c = x[1];
    g.h = x[2];
    g.w = x[3];
    g.o = w[0];
    g.kh = w[2];
    g.kw = w[3];
    g.sh = o.stride[0];
    g.sw = o.stride[1];
    g.ph = o.padding[0];
    g.pw = o.padding[1];
    g.dh = o.dilation[0];
    g.dw = o.dilation[1];
    g.groups = o.groups;
    if (g.c % g.groups != 0 || g.o % g.groups != 0)
        raise<ValueError>(op, "groups (", g.groups, ") must divide both the input channels (", g.c,
                          ") and the output channels (", g.o, "); ", shapes);
    if (w[1] * g.groups != g.c)
        raise<ShapeError>(op, "the weight takes ", w[1], " input channels per group, so ",
                          w[1] * g.groups, " channels with groups ", g.groups,
                          ", but the input has ", g.c, "; ", shapes);
    g.oh = out_extent(op, g.h, g.kh, g.sh, g.ph, g.dh);
    g.ow = out_extent(op, g.w, g.kw, g.sw, g.pw, g.dw);
    if (g.oh < 1 || g.ow < 1)
        raise<ShapeError>(op, "the input is too small: ", shapes, " with ", options_str(o),
                          " leaves no room for the dilated kernel (padded size [", g.h + 2 * g.ph,
                          ", ", g.w + 2 * g.pw, "], dilated kernel [", g.dh * (g.kh - 1) + 1, ", ",
                          g.dw * (g.kw - 1) + 1, "])");
    checked_numel({g.n, g.o, g.oh, g.ow}, op);
    return g;
}

Shape out_shape(const ConvGeometry& g) {
    return {g.n, g.o, g.oh, g.ow};
}

void check_floating_pair(const char* op, const Tensor& a, const char* a_name, const Tensor& b,
                         const char* b_name) {
    if (!a.defined() || !b.defined())
        raise<ValueError>(op, "got an undefined ", !a.defined() ? a_name : b_name);
    kernels::dispatch_floating(a.dtype(), op, [](auto) {});
    if (a.dtype() != b.dtype())
        raise<DtypeError>(op, a_name, " is ", describe(a), " but ", b_name, " is ", describe(b),
                          "; convert one with .to(...)");
}

void check_grad_shape(const char* op, const Tensor& grad, const ConvGeometry& g,
                      const std::string& context) {
    if (grad.shape() != out_shape(g))
        raise<ShapeError>(op, "grad_output shape ", shape_str(grad.shape()),
                          " is not the output shape ", shape_str(out_shape(g)), " of ", context);
}

UnfoldOptions unfold_options(const ConvGeometry& g) {
    UnfoldOptions u;
    u.kernel_size = {g.kh, g.kw};
    u.dilation = {g.dh, g.dw};
    u.padding = {g.ph, g.pw};
    u.stride = {g.sh, g.sw};
    return u;
}

bool use_dnnl(const Tensor& t, const ConvGeometry& g) {
    return t.dtype() == Dtype::f32 && kernels::conv_dnnl_supported(g);
}

// ---- the unfold + matmul path (float64 and what oneDNN does not take), run without recording:
// the ops below record their own nodes. cols [N, C*kh*kw, L] has the rows of one channel group
// contiguous, so groups are a batch dim of the products.

Tensor fallback_forward(const ConvGeometry& g, const Tensor& x, const Tensor& w, const Tensor& b) {
    NoGradGuard no_grad;
    const std::int64_t G = g.groups, k = g.c / G * g.kh * g.kw, l = g.oh * g.ow;
    const Tensor cols = unfold(x, unfold_options(g));
    Tensor y = G == 1 ? matmul(w.reshape({g.o, k}), cols)
                      : matmul(w.reshape({G, g.o / G, k}), cols.reshape({g.n, G, k, l}));
    y = y.reshape(out_shape(g));
    if (b.defined()) y = y + b.reshape({1, g.o, 1, 1});
    return y;
}

Tensor fallback_backward_input(const ConvGeometry& g, const Tensor& gy, const Tensor& w) {
    NoGradGuard no_grad;
    const std::int64_t G = g.groups, k = g.c / G * g.kh * g.kw, l = g.oh * g.ow;
    const Tensor cols =
        G == 1
            ? matmul(w.reshape({g.o, k}), gy.reshape({g.n, g.o, l}), {true, false})
            : matmul(w.reshape({G, g.o / G, k}), gy.reshape({g.n, G, g.o / G, l}), {true, false});
    return fold(cols.reshape({g.n, g.c * g.kh * g.kw, l}), {g.h, g.w}, unfold_options(g));
}

Tensor fallback_backward_weight(const ConvGeometry& g, const Tensor& gy, const Tensor& x) {
    NoGradGuard no_grad;
    const std::int64_t G = g.groups, k = g.c / G * g.kh * g.kw, l = g.oh * g.ow;
    const Tensor cols = unfold(x, unfold_options(g));
    const Tensor per_sample = G == 1 ? matmul(gy.reshape({g.n, g.o, l}), cols, {false, true})
                                     : matmul(gy.reshape({g.n, G, g.o / G, l}),
                                              cols.reshape({g.n, G, k, l}), {false, true});
    return per_sample.sum({0}).reshape({g.o, g.c / G, g.kh, g.kw});
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options) {
    const char* op = "conv2d";
    check_floating_pair(op, input, "input", weight, "weight");
    const ConvGeometry g = geometry(op, input.shape(), weight.shape(), options);
    if (bias.defined()) {
        check_floating_pair(op, input, "input", bias, "bias");
        if (bias.shape() != Shape{g.o})
            raise<ShapeError>(op, "bias shape ", shape_str(bias.shape()), " is not [", g.o,
                              "] (one per output channel); input shape ", shape_str(input.shape()),
                              ", weight shape ", shape_str(weight.shape()));
    }
    Tensor out;
    if (use_dnnl(input, g)) {
        out = make_tensor(out_shape(g), Dtype::f32);
        kernels::conv2d_forward_dnnl(g, input.data_ptr<float>(), weight.data_ptr<float>(),
                                     bias.defined() ? bias.data_ptr<float>() : nullptr,
                                     out.data_ptr<float>());
    } else {
        out = fallback_forward(g, input, weight, bias);
    }
    if (should_record({&input, &weight, &bias})) {
        TensorList inputs{input, weight};
        if (bias.defined()) inputs.push_back(bias);
        record("Conv2dBackward", out, inputs, {input, weight},
               [x_shape = input.shape(), w_shape = weight.shape(), options](
                   Node& n, const Tensor& grad) -> TensorList {
                   TensorList r(n.num_inputs());
                   if (n.needs_input_grad(0))
                       r[0] = conv2d_backward_input(grad, n.saved(1), x_shape, options);
                   if (n.needs_input_grad(1))
                       r[1] = conv2d_backward_weight(grad, n.saved(0), w_shape, options);
                   if (n.needs_input_grad(2)) r[2] = grad.sum({0, 2, 3});
                   return r;
               });
    }
    return out;
}

Tensor conv2d_backward_input(const Tensor& grad_output, const Tensor& weight,
                             const Shape& input_shape, const Conv2dOptions& options) {
    const char* op = "conv2d_backward_input";
    check_floating_pair(op, grad_output, "grad_output", weight, "weight");
    const ConvGeometry g = geometry(op, input_shape, weight.shape(), options);
    check_grad_shape(
        op, grad_output, g,
        "input shape " + shape_str(input_shape) + " and weight shape " + shape_str(weight.shape()));
    Tensor out;
    if (use_dnnl(grad_output, g)) {
        out = make_tensor(input_shape, Dtype::f32);
        kernels::conv2d_backward_data_dnnl(g, grad_output.data_ptr<float>(),
                                           weight.data_ptr<float>(), out.data_ptr<float>());
    } else {
        out = fallback_backward_input(g, grad_output, weight);
    }
    if (should_record({&grad_output, &weight}))
        record("Conv2dBackwardInputBackward", out, {grad_output, weight}, {grad_output, weight},
               [w_shape = weight.shape(), options](Node& n, const Tensor& h) -> TensorList {
                   // r = Bi(g, w):  dg = F(h, w),  dw = Bw(g, h)
                   TensorList r(2);
                   if (n.needs_input_grad(0)) r[0] = conv2d(h, n.saved(1), Tensor(), options);
                   if (n.needs_input_grad(1))
                       r[1] = conv2d_backward_weight(n.saved(0), h, w_shape, options);
                   return r;
               });
    return out;
}

Tensor conv2d_backward_weight(const Tensor& grad_output, const Tensor& input,
                              const Shape& weight_shape, const Conv2dOptions& options) {
    const char* op = "conv2d_backward_weight";
    check_floating_pair(op, grad_output, "grad_output", input, "input");
    const ConvGeometry g = geometry(op, input.shape(), weight_shape, options);
    check_grad_shape(
        op, grad_output, g,
        "input shape " + shape_str(input.shape()) + " and weight shape " + shape_str(weight_shape));
    Tensor out;
    if (use_dnnl(grad_output, g)) {
        out = make_tensor(weight_shape, Dtype::f32);
        kernels::conv2d_backward_weights_dnnl(g, grad_output.data_ptr<float>(),
                                              input.data_ptr<float>(), out.data_ptr<float>());
    } else {
        out = fallback_backward_weight(g, grad_output, input);
    }
    if (should_record({&grad_output, &input}))
        record("Conv2dBackwardWeightBackward", out, {grad_output, input}, {grad_output, input},
               [x_shape = input.shape(), options](Node& n, const Tensor& k) -> TensorList {
                   // s = Bw(g, x):  dg = F(x, k),  dx = Bi(g, k)
                   TensorList r(2);
                   if (n.needs_input_grad(0)) r[0] = conv2d(n.saved(1), k, Tensor(), options);
                   if (n.needs_input_grad(1))
                       r[1] = conv2d_backward_input(n.saved(0), k, x_shape, options);
                   return r;
               });
    return out;
}

}  // namespace xgrad
