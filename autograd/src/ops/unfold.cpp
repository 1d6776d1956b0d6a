// unfold (im2col) and fold (col2im), exactly torch.nn.functional.unfold / fold for batched
// [N, C, H, W] images. They are each other's adjoint, so each one's backward is the other and
// gradients of any order flow through them.
//
// The layout and the copy loops are core's kernels (kernels/im2col.hpp); this file holds the
// shape rules and the backward rules.
#include <array>
#include <string>

#include "kernels/dispatch.hpp"
#include "kernels/im2col.hpp"
#include "op_common.hpp"
#include "sliding_window.hpp"

namespace xgrad {

using namespace ops;

Tensor unfold(const Tensor& x, const UnfoldOptions& options) {
    check_defined("unfold", x);
    kernels::dispatch_floating(x.dtype(), "unfold", [](auto) {});  // f32 / f64 only
    if (x.dim() != 4)
        raise<ShapeError>("unfold", "expected a 4-D input [N, C, H, W], got shape ",
                          shape_str(x.shape()));
    check_options("unfold", options);
    const Shape& s = x.shape();
    const Geometry g =
        make_geometry("unfold", s[0], s[1], s[2], s[3], options, "input shape " + shape_str(s));
    Tensor out = make_tensor({g.n, g.rows(), g.blocks()}, x.dtype());
    kernels::im2col(g, x, out);
    if (should_record({&x})) {
        const std::array<std::int64_t, 2> size{g.h, g.w};
        record("UnfoldBackward", out, {x}, {},
               [size, options](Node&, const Tensor& grad) -> TensorList {
                   return {fold(grad, size, options)};
               });
    }
    return out;
}

Tensor fold(const Tensor& cols, std::array<std::int64_t, 2> output_size,
            const UnfoldOptions& options) {
    check_defined("fold", cols);
    kernels::dispatch_floating(cols.dtype(), "fold", [](auto) {});  // f32 / f64 only
    if (cols.dim() != 3)
        raise<ShapeError>("fold", "expected a 3-D input [N, C*kh*kw, L], got shape ",
                          shape_str(cols.shape()));
    check_options("fold", options);
    if (output_size[0] < 1 || output_size[1] < 1)
        raise<ValueError>("fold", "output_size must be positive, got ", pair_str(output_size));
    const Shape& s = cols.shape();
    const std::int64_t kk =
        checked_mul(options.kernel_size[0], options.kernel_size[1], "fold", "kernel_size");
    if (s[1] % kk != 0)
        raise<ShapeError>("fold", "input shape ", shape_str(s), " has ", std::to_string(s[1]),
                          " rows, not a multiple of the kernel_size product ", std::to_string(kk),
                          " (kernel_size ", pair_str(options.kernel_size), ")");
    const Geometry g = make_geometry("fold", s[0], s[1] / kk, output_size[0], output_size[1],
                                     options, "output_size " + pair_str(output_size));
    if (s[2] != g.blocks())
        raise<ShapeError>("fold", "input shape ", shape_str(s), " has ", std::to_string(s[2]),
                          " blocks, but output_size ", pair_str(output_size), " with ",
                          options_str(options), " gives ", std::to_string(g.blocks()), " (",
                          std::to_string(g.oh), " x ", std::to_string(g.ow), ")");
    Tensor out = make_tensor({g.n, g.c, g.h, g.w}, cols.dtype());
    kernels::col2im(g, cols, out);
    if (should_record({&cols}))
        record("FoldBackward", out, {cols}, {}, [options](Node&, const Tensor& grad) -> TensorList {
            return {unfold(grad, options)};
        });
    return out;
}

}  // namespace xgrad
