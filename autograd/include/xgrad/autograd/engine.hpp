// Running the tape backwards: Tensor::backward and the functional autograd::grad.
#pragma once
#include <optional>

#include <xgrad/autograd/node.hpp>

namespace xgrad::autograd {

// Accumulates d(sum of tensors[i] * grad_tensors[i]) / d(leaf) into every leaf's grad().
// A scalar tensor may omit its gradient (it is taken as 1).
void backward(const TensorList& tensors, const TensorList& grad_tensors = {},
              BackwardOptions options = {});

struct GradOptions {
    std::optional<bool> retain_graph{};  // defaults to create_graph, as in PyTorch
    bool create_graph = false;
    bool allow_unused = false;  // an input the outputs do not depend on gets an undefined grad
};

// Gradients of outputs with respect to inputs (leaves or intermediate tensors), returned
// rather than accumulated into grad(). With create_graph the result is differentiable.
TensorList grad(const TensorList& outputs, const TensorList& inputs,
                const TensorList& grad_outputs = {}, GradOptions options = {});

}  // namespace xgrad::autograd
