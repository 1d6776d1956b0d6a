// autograd::functional: PyTorch's torch.autograd.functional for C++ — vector-Jacobian and
// Jacobian-vector products, full Jacobians and Hessians, Hessian-vector products of a function
// given as a callable, all built on autograd::grad.
//
//   auto f = [](const Tensor& x) { return (x.sin() * x).sum(); };
//   Tensor h = functional::hessian(f, x);                     // [n, n]
//   auto [y, hv] = functional::hvp(f, x, v);                  // y = f(x), hv = H(x) v
//
// Semantics and layouts follow PyTorch:
// - The inputs are detached copies that require grad, so the caller's tensors and their grad()
//   are never touched. With create_graph a caller's input that requires grad is passed through
//   an identity view instead (PyTorch's `inputs.view_as(inputs)`), so every result stays
//   differentiable with respect to the ORIGINAL inputs (and to a v that requires grad).
// - Without create_graph every returned tensor (function outputs included) is detached.
// - Functions run with grad mode on, also inside a NoGradGuard (PyTorch's enable_grad).
// - An output that does not depend on an input gives zeros there; with strict = true it is an
//   AutogradError instead (so is an output that does not require grad at all).
// - v may be omitted (an empty list, an undefined Tensor) only where PyTorch allows None: for
//   vjp when the function has a single one-element output, for jvp, hvp and vhp when there is
//   a single one-element input.
// - Not supported: PyTorch's `vectorize` and forward-mode `strategy` (there is no vmap and no
//   forward-mode AD); jacobian and hessian run one backward pass per output element.
//
// Errors name the function ("xgrad::autograd::functional::vjp: ...") and the shapes at fault:
// ValueError for counts, undefined tensors, an omitted v that cannot be implied and a Hessian of
// a function whose result is not a single element; ShapeError / DtypeError for a v that does
// not match; DtypeError for a non-floating input; AutogradError for strict-mode violations.
#pragma once
#include <functional>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::autograd::functional {

struct FunctionalOptions {
    bool create_graph = false;  // results are differentiable (higher-order derivatives)
    bool strict = false;        // an output independent of an input is an error, not zeros
};

// The general forms take every input in a list and return every output in a list. (Named so
// as not to clash with autograd::Function, the custom-op base, or gradcheck's TensorFunction.)
using ListFunction = std::function<TensorList(const TensorList&)>;
// Functions of several inputs with one single-element result (hessian, hvp, vhp).
using ScalarFunction = std::function<Tensor(const TensorList&)>;
// The single-tensor forms, for a function of one tensor with one result.
using UnaryFunction = std::function<Tensor(const Tensor&)>;

struct VjpResult {
    TensorList outputs;  // func(inputs)
    TensorList vjp;      // per input j: sum_i v_i^T J_ij, shaped like input j
};
struct JvpResult {
    TensorList outputs;  // func(inputs)
    TensorList jvp;      // per output i: sum_j J_ij v_j, shaped like output i
};
struct HvpResult {
    Tensor output;   // func(inputs)
    TensorList hvp;  // per input i: sum_j H_ij v_j, shaped like input i
};
struct VhpResult {
    Tensor output;   // func(inputs)
    TensorList vhp;  // per input j: sum_i v_i^T H_ij, shaped like input j
};
struct TensorVjpResult {
    Tensor output;
    Tensor vjp;
};
struct TensorJvpResult {
    Tensor output;
    Tensor jvp;
};
struct TensorHvpResult {
    Tensor output;
    Tensor hvp;
};
struct TensorVhpResult {
    Tensor output;
    Tensor vhp;
};

// v^T J: one backward pass with v as the gradient of the outputs (v: one per output).
VjpResult vjp(const ListFunction& func, const TensorList& inputs, const TensorList& v = {},
              FunctionalOptions options = {});
TensorVjpResult vjp(const UnaryFunction& func, const Tensor& input, const Tensor& v = Tensor(),
                    FunctionalOptions options = {});

// J v (v: one per input), by the double-vjp trick as in PyTorch, since xgrad has no forward
// mode: g(u) = u^T J is linear in u, so its vjp with v is (J v)^T. Costs two backward passes,
// the first one recorded (create_graph), whatever options.create_graph says.
JvpResult jvp(const ListFunction& func, const TensorList& inputs, const TensorList& v = {},
              FunctionalOptions options = {});
TensorJvpResult jvp(const UnaryFunction& func, const Tensor& input, const Tensor& v = Tensor(),
                    FunctionalOptions options = {});

// result[i][j] = d outputs[i] / d inputs[j], of shape outputs[i].shape + inputs[j].shape.
std::vector<TensorList> jacobian(const ListFunction& func, const TensorList& inputs,
                                 FunctionalOptions options = {});
Tensor jacobian(const UnaryFunction& func, const Tensor& input, FunctionalOptions options = {});

// result[i][j] = d^2 func / d inputs[i] d inputs[j], of shape inputs[i].shape + inputs[j].shape.
// func must return a single-element tensor. Computed as the Jacobian of the gradient.
std::vector<TensorList> hessian(const ScalarFunction& func, const TensorList& inputs,
                                FunctionalOptions options = {});
Tensor hessian(const UnaryFunction& func, const Tensor& input, FunctionalOptions options = {});

// H v, by PyTorch's double-backward trick (H v = d/du [u^T H] v), which stays right when the
// computed H is not symmetric; vhp is cheaper and equal for twice-differentiable functions.
HvpResult hvp(const ScalarFunction& func, const TensorList& inputs, const TensorList& v = {},
              FunctionalOptions options = {});
TensorHvpResult hvp(const UnaryFunction& func, const Tensor& input, const Tensor& v = Tensor(),
                    FunctionalOptions options = {});

// v^T H: the vjp of the gradient (two backward passes).
VhpResult vhp(const ScalarFunction& func, const TensorList& inputs, const TensorList& v = {},
              FunctionalOptions options = {});
TensorVhpResult vhp(const UnaryFunction& func, const Tensor& input, const Tensor& v = Tensor(),
                    FunctionalOptions options = {});

}  // namespace xgrad::autograd::functional
