// Gradient checkpointing, as torch.utils.checkpoint (non-reentrant semantics): trade compute
// for memory by not keeping the activations inside a block for backward, and recomputing them
// when backward reaches the block.
//
//   nn::Sequential block(nn::Linear(1024, 1024), nn::Tanh(), nn::Linear(1024, 1024));
//   Tensor h2 = autograd::checkpoint([&](const Tensor& x) { return block(x); }, h);
//   loss(h2).backward();   // block's parameters and h get the same gradients as without it
//
// What happens:
// - Forward runs fn once with recording on, on leaf copies of the inputs (detached, with
//   requires_grad where the input had it). The graph fn recorded is walked once to find the
//   leaves fn used without receiving them (module parameters captured by a lambda), then
//   dropped with all the activations it held: the outputs get one recorded node with edges to
//   the inputs and to those captured leaves. Only the inputs are saved for backward.
//   (PyTorch's non-reentrant checkpoint also records the forward; it drops the activations as
//   they are saved, here they go when fn returns, so the extra memory is one block's worth.)
// - Backward restores the default generator to its state before the forward (so dropout and
//   other random ops draw the same numbers), re-runs fn with recording on, on fresh leaf copies
//   of the saved inputs, and takes autograd::grad of the recomputed outputs with respect to the
//   copies and the captured leaves. The generator is put back afterwards, so a backward does
//   not shift later draws. So captured parameters receive their gradient through the tape like
//   any input: loss.backward() accumulates it into .grad(), autograd::grad(loss, {w}) returns
//   it, and hooks on them run.
// - With create_graph the gradients are themselves differentiable (double backward through a
//   checkpoint works): they are computed by a checkpoint of the backward computation, so the
//   higher-order pass recomputes instead of keeping the recomputed graph.
// - Under NoGradGuard (or when nothing requires grad) fn just runs and its outputs are returned.
//
// Several outputs may have different shapes and dtypes; outputs that do not require grad
// (undefined tensors, integer results, values that depend on nothing differentiable) are
// returned as fn gave them. An output that does not depend on some input gives that input no
// gradient from it.
//
// Restrictions (each an AutogradError naming "autograd::checkpoint"):
// - fn may use tensors that have a history (a grad_fn) only through its inputs: a non-leaf
//   captured from outside cannot be given a gradient edge, so pass it in `inputs`.
// - fn must compute the same thing when run again: the recomputed outputs must have the
//   forward's count, shapes and dtypes. Random ops must draw from the default generator: an
//   explicit Generator used inside fn is not restored.
// - Backward through a checkpoint a second time needs retain_graph, as for any op.
// fn receives copies that share data with the inputs: writing into them writes the inputs.
// A generic lambda (`auto` parameter) fits every overload: give its parameter type.
#pragma once
#include <functional>

#include <xgrad/core/tensor.hpp>

namespace xgrad::autograd {

struct CheckpointOptions {
    // Save the default generator's state before the forward and restore it for the
    // recomputation, so random ops inside fn draw the same numbers twice.
    bool preserve_rng_state = true;
};

// fn maps a list of tensors to a list of tensors.
TensorList checkpoint(const std::function<TensorList(const TensorList&)>& fn,
                      const TensorList& inputs, CheckpointOptions options = {});
// fn returns one tensor.
Tensor checkpoint(const std::function<Tensor(const TensorList&)>& fn, const TensorList& inputs,
                  CheckpointOptions options = {});
// fn takes and returns one tensor: checkpoint([&](const Tensor& x) { return block(x); }, h).
Tensor checkpoint(const std::function<Tensor(const Tensor&)>& fn, const Tensor& input,
                  CheckpointOptions options = {});

}  // namespace xgrad::autograd
