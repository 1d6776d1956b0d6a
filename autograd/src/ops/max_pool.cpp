// max_pool2d: the max over each sliding block of an [N, C, H, W] image, computed straight from
// the image (no unfolded copy), with the semantics of max over the unfolded blocks:
// - padding never wins (it counts as -inf; a block that lies wholly in the padding gives -inf
//   and passes no gradient);
// - a NaN in a block makes its result NaN;
// - ties share the gradient evenly (weight = 1 / number of tied entries), as max does.
//
// The forward saves the input, the result and the number of ties per block. The backward,
// max_pool2d_grad(g), gives each tied entry g / ties in one pass over the image; it is linear
// in g, and its own backward, the tie-weighted sum of each block's entries of gg
// (unfold(gg) * weight summed over the block), is written in ops, so gradients of any order
// flow through the pooling. The loops are core's kernels (kernels/pooling.hpp).
#include "kernels/dispatch.hpp"
#include "kernels/pooling.hpp"
#include "op_common.hpp"
#include "sliding_window.hpp"

namespace xgrad {

using namespace ops;

namespace {

// What the backward needs: the input, the result and the tie counts (constants of the graph).
struct PoolSaved {
    Tensor x, out, ties;
};

// The gradient of max_pool2d with respect to its input, for output gradient g.
Tensor max_pool2d_grad(const Tensor& g, const PoolSaved& saved, const Geometry& geom,
                       const UnfoldOptions& options) {
    const Shape out_shape{geom.n, geom.c, geom.oh, geom.ow};
    const Tensor grad = g.shape() == out_shape ? g : reshape(g, out_shape);
    Tensor gx = make_tensor({geom.n, geom.c, geom.h, geom.w}, g.dtype());
    kernels::max_pool2d_grad(geom, grad, saved.x, saved.out, saved.ties, gx);
    if (should_record({&grad})) {
        // Linear in g: its adjoint sums each block's entries of gg, weighted by the tie weights.
        record("MaxPool2dGradBackward", gx, {grad}, {saved.x, saved.out, saved.ties},
               [geom, options, out_shape](Node& n, const Tensor& gg) -> TensorList {
                   const Tensor& x = n.saved(0);
                   Tensor w =
                       make_tensor({geom.n, geom.c, geom.kh * geom.kw, geom.blocks()}, x.dtype());
                   kernels::max_pool2d_tie_weights(geom, x, n.saved(1), n.saved(2), w);
                   const Tensor entries = reshape(unfold(gg, options), w.shape());
                   return {reshape(sum(entries * w, {2}), out_shape)};
               });
    }
    return gx;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const UnfoldOptions& options) {
    check_defined("max_pool2d", x);
    kernels::dispatch_floating(x.dtype(), "max_pool2d", [](auto) {});  // f32 / f64 only
    if (x.dim() != 4)
        raise<ShapeError>("max_pool2d", "expected a 4-D input [N, C, H, W], got shape ",
                          shape_str(x.shape()));
    check_options("max_pool2d", options);
    const Shape& s = x.shape();
    const Geometry geom =
        make_geometry("max_pool2d", s[0], s[1], s[2], s[3], options, "input shape " + shape_str(s));
    const bool recording = should_record({&x});
    Tensor out = make_tensor({geom.n, geom.c, geom.oh, geom.ow}, x.dtype());
    Tensor ties;
    if (recording) ties = make_tensor(out.shape(), x.dtype());
    kernels::max_pool2d(geom, x, out, recording ? &ties : nullptr);
    if (recording)
        // The input and the result are saved as plain data (detached): the tie masks are
        // constants of the graph, so the rule stays linear in g.
        record("MaxPool2dBackward", out, {x}, {x.detach(), out.detach(), ties},
               [geom, options](Node& n, const Tensor& g) -> TensorList {
                   return {max_pool2d_grad(g, {n.saved(0), n.saved(1), n.saved(2)}, geom, options)};
               });
    return out;
}

}  // namespace xgrad
