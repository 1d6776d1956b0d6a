// autograd::functional, mirroring torch/autograd/functional.py (1.13) step by step, so that the
// results, the zeros for unused inputs and the strict-mode errors match PyTorch's.
#include <xgrad/autograd/functional.hpp>

#include <optional>
#include <sstream>
#include <string>

#include <xgrad/autograd/engine.hpp>
#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>

namespace xgrad::autograd::functional {

namespace {

constexpr const char* kVjp = "autograd::functional::vjp";
constexpr const char* kJvp = "autograd::functional::jvp";
constexpr const char* kJacobian = "autograd::functional::jacobian";
constexpr const char* kHessian = "autograd::functional::hessian";
constexpr const char* kHvp = "autograd::functional::hvp";
constexpr const char* kVhp = "autograd::functional::vhp";
// A gradient that does not require grad has a zero derivative: a strict-mode error for hessian,
// hvp and vhp.
constexpr const char* kLinear = "the inputs (the function is linear in it, for example)";

std::string shapes_str(const TensorList& ts) {
    std::ostringstream os;
    for (std::size_t i = 0; i < ts.size(); ++i)
        os << (i ? ", " : "") << (ts[i].defined() ? shape_str(ts[i].shape()) : "undefined");
    return os.str();
}

template <class F>
void check_callable(const F& func, const char* op) {
    XGRAD_CHECK(static_cast<bool>(func), ValueError, op, "the function is empty");
}

// PyTorch's _grad_preprocess for the inputs: fresh leaves that require grad, except that with
// create_graph an input that requires grad goes through an identity view, which keeps its graph
// so that the results can be differentiated with respect to the caller's tensor.
TensorList preprocess_inputs(const TensorList& inputs, bool create_graph, const char* op) {
    XGRAD_CHECK(!inputs.empty(), ValueError, op, "needs at least one input");
    TensorList res;
    res.reserve(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& x = inputs[i];
        XGRAD_CHECK(x.defined(), ValueError, op, "input ", i, " is undefined");
        XGRAD_CHECK(is_floating(x.dtype()), DtypeError, op, "input ", i, " (shape ",
                    shape_str(x.shape()), ") has dtype ", dtype_name(x.dtype()),
                    "; only floating tensors can be differentiated");
        if (create_graph && x.requires_grad())
            res.push_back(view(x, x.shape()));
        else
            res.push_back(x.detach().requires_grad_());
    }
    return res;
}

// Checks v against the tensors it pairs with (`like`, the outputs for vjp and the inputs
// otherwise) and prepares it as PyTorch's _grad_preprocess(need_graph=False) does. An omitted
// v is implied (ones) only for a single one-element tensor, as PyTorch allows v=None.
TensorList preprocess_v(const TensorList& v, const TensorList& like, bool create_graph,
                        const char* op, const char* like_name) {
    if (v.empty()) {
        if (like.size() != 1 || like[0].numel() != 1)
            raise<ValueError>(op, "v can be omitted only when the function has a single ",
                              like_name, " with a single element, but its ", like_name,
                              "s have shapes ", shapes_str(like));
        return {ones_like(like[0])};
    }
    if (v.size() != like.size())
        raise<ValueError>(op, "v has ", v.size(), " tensors but the function has ", like.size(),
                          " ", like_name, "s (shapes ", shapes_str(like), ")");
    TensorList res;
    res.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        XGRAD_CHECK(v[i].defined(), ValueError, op, "v[", i, "] is undefined");
        if (v[i].shape() != like[i].shape())
            raise<ShapeError>(op, "v[", i, "] has shape ", shape_str(v[i].shape()), " but ",
                              like_name, " ", i, " has shape ", shape_str(like[i].shape()));
        if (v[i].dtype() != like[i].dtype())
            raise<DtypeError>(op, "v[", i, "] has dtype ", dtype_name(v[i].dtype()), " but ",
                              like_name, " ", i, " has dtype ", dtype_name(like[i].dtype()));
        res.push_back(create_graph && v[i].requires_grad() ? v[i] : v[i].detach());
    }
    return res;
}

// Calls func and checks what it returned (PyTorch's _check_requires_grad on "outputs").
TensorList call(const ListFunction& func, const TensorList& inputs, bool strict, const char* op) {
    TensorList out = func(inputs);
    XGRAD_CHECK(!out.empty(), ValueError, op, "the function returned no tensors");
    for (std::size_t i = 0; i < out.size(); ++i) {
        XGRAD_CHECK(out[i].defined(), ValueError, op, "output ", i,
                    " of the function is undefined");
        if (strict && !out[i].requires_grad())
            raise<AutogradError>(op, "output ", i, " (shape ", shape_str(out[i].shape()),
                                 ") does not require grad; in strict mode every output must be "
                                 "computed differentiably from the inputs");
    }
    return out;
}

// The single-element result of a function given to hessian, hvp or vhp.
Tensor call_scalar(const ScalarFunction& func, const TensorList& inputs, bool strict,
                   const char* op) {
    Tensor y =
        call([&](const TensorList& x) { return TensorList{func(x)}; }, inputs, strict, op)[0];
    if (y.numel() != 1)
        raise<ValueError>(op, "the function must return a single-element tensor, but returned ",
                          "shape ", shape_str(y.shape()));
    return y;
}

// PyTorch's _autograd_grad: outputs that are undefined or do not require grad are dropped
// (with their grad_outputs), and an input nothing depends on gets an undefined gradient.
TensorList grad_allow_unused(const TensorList& outputs, const TensorList& inputs,
                             const TensorList& grad_outputs, bool create_graph,
                             std::optional<bool> retain_graph = std::nullopt) {
    TensorList outs, gouts;
    for (std::size_t i = 0; i < outputs.size(); ++i)
        if (outputs[i].defined() && outputs[i].requires_grad()) {
            outs.push_back(outputs[i]);
            gouts.push_back(grad_outputs.empty() ? Tensor() : grad_outputs[i]);
        }
    if (outs.empty()) return TensorList(inputs.size());
    GradOptions o;
    o.retain_graph = retain_graph;
    o.create_graph = create_graph;
    o.allow_unused = true;
    return grad(outs, inputs, gouts, o);
}

// Which backward pass produced the gradients handed to fill_in_zeros (for its messages).
enum class Stage { back, back_trick, double_back, double_back_trick };

// PyTorch's _fill_in_zeros: undefined gradients become zeros shaped like refs[i], or errors in
// strict mode; with strict and create_graph a gradient that does not require grad is an error
// too, since its derivative would silently be zero.
TensorList fill_in_zeros(TensorList grads, const TensorList& refs, FunctionalOptions o, Stage stage,
                         const char* op) {
    for (std::size_t i = 0; i < grads.size(); ++i) {
        if (!grads[i].defined()) {
            if (o.strict) {
                switch (stage) {
                    case Stage::back:
                        raise<AutogradError>(op, "the outputs are independent of input ", i,
                                             " (shape ", shape_str(refs[i].shape()),
                                             "); this is not allowed in strict mode");
                    case Stage::back_trick:
                        raise<AutogradError>(
                            op,
                            "the gradient with respect to the inputs is independent of "
                            "entry ",
                            i,
                            " of the grad_outputs in the double-backward trick that computes "
                            "forward-mode gradients; this is not allowed in strict mode");
                    case Stage::double_back:
                        raise<AutogradError>(op, "the gradient is independent of input ", i,
                                             " (shape ", shape_str(refs[i].shape()),
                                             "); this is not allowed in strict mode");
                    case Stage::double_back_trick:
                        raise<AutogradError>(
                            op, "the Hessian is independent of entry ", i,
                            " of grad_jacobian in the double-backward trick; this is not "
                            "allowed in strict mode");
                }
            }
            grads[i] = zeros_like(refs[i]);
        } else if (o.strict && o.create_graph && !grads[i].requires_grad()) {
            const bool second = stage == Stage::double_back || stage == Stage::double_back_trick;
            raise<AutogradError>(op, "the ", second ? "Hessian" : "Jacobian",
                                 " is independent of input ", i, " (shape ",
                                 shape_str(refs[i].shape()),
                                 "); this is not allowed in strict mode with create_graph");
        }
    }
    return grads;
}

// PyTorch's _check_requires_grad for intermediate gradients in strict mode: `what` says what a
// gradient that does not require grad is independent of.
void check_strict_grads(const TensorList& grads, bool strict, const char* what, const char* op) {
    if (!strict) return;
    for (std::size_t i = 0; i < grads.size(); ++i) {
        if (!grads[i].defined())
            raise<AutogradError>(op, "the output is independent of input ", i,
                                 "; this is not allowed in strict mode");
        if (!grads[i].requires_grad())
            raise<AutogradError>(op, "the gradient with respect to input ", i, " (shape ",
                                 shape_str(grads[i].shape()), ") is independent of ", what,
                                 "; this is not allowed in strict mode");
    }
}

// PyTorch's _grad_postprocess: without create_graph nothing returned keeps a graph.
TensorList finish(TensorList ts, bool create_graph) {
    if (!create_graph)
        for (Tensor& t : ts)
            if (t.defined()) t = t.detach();
    return ts;
}

Shape concat_shapes(const Shape& a, const Shape& b) {
    Shape s = a;
    s.insert(s.end(), b.begin(), b.end());
    return s;
}

// Reverse-mode Jacobian, one backward pass per output element (PyTorch's non-vectorized
// path). `out_name` words the strict-mode errors ("output", or "the gradient of input"
// when hessian takes the Jacobian of the gradient).
std::vector<TensorList> jacobian_impl(const ListFunction& func, const TensorList& inputs,
                                      FunctionalOptions o, const char* op, const char* out_name) {
    check_callable(func, op);
    AutoGradMode enable(true);
    const TensorList in = preprocess_inputs(inputs, o.create_graph, op);
    const TensorList out = call(func, in, o.strict, op);
    std::vector<TensorList> jac(out.size(), TensorList(in.size()));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const Tensor& y = out[i];
        std::vector<TensorList> rows(in.size());  // rows[j][k] = d y.flat[k] / d in[j]
        if (y.requires_grad() && y.numel() > 0) {
            const Tensor flat = y.reshape({-1});
            for (std::int64_t k = 0; k < y.numel(); ++k) {
                TensorList g = grad_allow_unused({flat.select(0, k)}, in, {}, o.create_graph, true);
                for (std::size_t j = 0; j < in.size(); ++j) {
                    if (!g[j].defined()) {
                        if (o.strict)
                            raise<AutogradError>(op, out_name, " ", i, " (shape ",
                                                 shape_str(y.shape()), ") is independent of input ",
                                                 j, " (shape ", shape_str(in[j].shape()),
                                                 "); this is not allowed in strict mode");
                        g[j] = zeros_like(in[j]);
                    } else if (o.strict && o.create_graph && !g[j].requires_grad()) {
                        raise<AutogradError>(op, "the Jacobian of ", out_name, " ", i,
                                             " is independent of input ", j,
                                             "; this is not allowed in strict mode with "
                                             "create_graph");
                    }
                    rows[j].push_back(std::move(g[j]));
                }
            }
        }
        for (std::size_t j = 0; j < in.size(); ++j) {
            const Shape s = concat_shapes(y.shape(), in[j].shape());
            // An output that does not require grad (strict mode has refused it) or has no
            // elements has a zero Jacobian.
            jac[i][j] = rows[j].empty() ? zeros(s, {in[j].dtype()}) : stack(rows[j]).reshape(s);
        }
        jac[i] = finish(std::move(jac[i]), o.create_graph);
    }
    return jac;
}

ListFunction unary_as_list(const UnaryFunction& func, const char* op) {
    check_callable(func, op);
    return [&func](const TensorList& x) { return TensorList{func(x[0])}; };
}

ScalarFunction unary_as_scalar(const UnaryFunction& func, const char* op) {
    check_callable(func, op);
    return [&func](const TensorList& x) { return func(x[0]); };
}

TensorList optional_list(const Tensor& v) {
    return v.defined() ? TensorList{v} : TensorList{};
}

}  // namespace

VjpResult vjp(const ListFunction& func, const TensorList& inputs, const TensorList& v,
              FunctionalOptions options) {
    check_callable(func, kVjp);
    const bool cg = options.create_graph;
    AutoGradMode enable(true);
    const TensorList in = preprocess_inputs(inputs, cg, kVjp);
    TensorList out = call(func, in, options.strict, kVjp);
    const TensorList vv = preprocess_v(v, out, cg, kVjp, "output");
    TensorList g = grad_allow_unused(out, in, vv, cg);
    g = fill_in_zeros(std::move(g), in, options, Stage::back, kVjp);
    return {finish(std::move(out), cg), finish(std::move(g), cg)};
}

JvpResult jvp(const ListFunction& func, const TensorList& inputs, const TensorList& v,
              FunctionalOptions options) {
    check_callable(func, kJvp);
    const bool cg = options.create_graph;
    AutoGradMode enable(true);
    const TensorList in = preprocess_inputs(inputs, cg, kJvp);
    const TensorList vv = preprocess_v(v, in, cg, kJvp, "input");
    TensorList out = call(func, in, options.strict, kJvp);
    // u^T J for a dummy u that requires grad: recorded, and linear in u, so its vjp with v
    // with respect to u is J v. u's value never reaches the result (zeros avoid inf/nan).
    TensorList u(out.size()), u_used;
    std::vector<std::size_t> u_index;  // output index of each entry of u_used
    for (std::size_t i = 0; i < out.size(); ++i)
        if (out[i].requires_grad()) {
            u[i] = zeros_like(out[i], {std::nullopt, true});
            u_used.push_back(u[i]);
            u_index.push_back(i);
        }
    const TensorList grad_inputs = grad_allow_unused(out, in, u, true);
    check_strict_grads(grad_inputs, options.strict, "the grad_outputs", kJvp);
    TensorList jv(out.size());
    if (!u_used.empty()) {
        const TensorList r = grad_allow_unused(grad_inputs, u_used, vv, cg);
        for (std::size_t k = 0; k < r.size(); ++k) jv[u_index[k]] = r[k];
    }
    jv = fill_in_zeros(std::move(jv), out, options, Stage::back_trick, kJvp);
    return {finish(std::move(out), cg), finish(std::move(jv), cg)};
}

std::vector<TensorList> jacobian(const ListFunction& func, const TensorList& inputs,
                                 FunctionalOptions options) {
    return jacobian_impl(func, inputs, options, kJacobian, "output");
}

std::vector<TensorList> hessian(const ScalarFunction& func, const TensorList& inputs,
                                FunctionalOptions options) {
    check_callable(func, kHessian);
    const bool strict = options.strict;
    // The gradient as a function of the inputs, differentiable (create_graph), whose Jacobian
    // is the Hessian. As in PyTorch the inner Jacobian is not strict; the checks it would
    // skip are made here.
    auto gradient = [&](const TensorList& x) -> TensorList {
        auto single = [&](const TensorList& xi) {
            return TensorList{call_scalar(func, xi, strict, kHessian).reshape(Shape{})};
        };
        FunctionalOptions inner;
        inner.create_graph = true;
        TensorList g = jacobian_impl(single, x, inner, kHessian, "output")[0];
        check_strict_grads(g, strict, kLinear, kHessian);
        return g;
    };
    return jacobian_impl(gradient, inputs, options, kHessian, "the gradient of input");
}

namespace {
// The common start of hvp and vhp: prepared inputs and v, the function's value and its
// gradient (kept differentiable for the second pass). Runs under the caller's grad mode.
struct SecondOrder {
    TensorList in, v;
    Tensor y;
    TensorList grad;
};
SecondOrder second_order(const ScalarFunction& func, const TensorList& inputs, const TensorList& v,
                         const FunctionalOptions& options, const char* op) {
    check_callable(func, op);
    SecondOrder s;
    s.in = preprocess_inputs(inputs, options.create_graph, op);
    s.v = preprocess_v(v, s.in, options.create_graph, op, "input");
    s.y = call_scalar(func, s.in, options.strict, op);
    s.grad = grad_allow_unused({s.y}, s.in, {}, true);
    check_strict_grads(s.grad, options.strict, kLinear, op);
    return s;
}
}  // namespace

HvpResult hvp(const ScalarFunction& func, const TensorList& inputs, const TensorList& v,
              FunctionalOptions options) {
    AutoGradMode enable(true);
    const bool cg = options.create_graph;
    const SecondOrder s = second_order(func, inputs, v, options, kHvp);
    // u^T H for a dummy u is linear in u, and its vjp with v with respect to u is H v
    // (PyTorch's double-backward trick: right even when the computed H is not symmetric).
    TensorList u;
    for (const Tensor& x : s.in) u.push_back(zeros_like(x, {std::nullopt, true}));
    const TensorList double_back = grad_allow_unused(s.grad, s.in, u, true);
    TensorList hv = grad_allow_unused(double_back, u, s.v, cg);
    hv = fill_in_zeros(std::move(hv), s.in, options, Stage::double_back_trick, kHvp);
    return {cg ? s.y : s.y.detach(), finish(std::move(hv), cg)};
}

VhpResult vhp(const ScalarFunction& func, const TensorList& inputs, const TensorList& v,
              FunctionalOptions options) {
    AutoGradMode enable(true);
    const bool cg = options.create_graph;
    const SecondOrder s = second_order(func, inputs, v, options, kVhp);
    TensorList vh = grad_allow_unused(s.grad, s.in, s.v, cg);
    vh = fill_in_zeros(std::move(vh), s.in, options, Stage::double_back, kVhp);
    return {cg ? s.y : s.y.detach(), finish(std::move(vh), cg)};
}

// ---- single-tensor forms ----------------------------------------------------------------

TensorVjpResult vjp(const UnaryFunction& func, const Tensor& input, const Tensor& v,
                    FunctionalOptions options) {
    VjpResult r = vjp(unary_as_list(func, kVjp), {input}, optional_list(v), options);
    return {r.outputs[0], r.vjp[0]};
}

TensorJvpResult jvp(const UnaryFunction& func, const Tensor& input, const Tensor& v,
                    FunctionalOptions options) {
    JvpResult r = jvp(unary_as_list(func, kJvp), {input}, optional_list(v), options);
    return {r.outputs[0], r.jvp[0]};
}

Tensor jacobian(const UnaryFunction& func, const Tensor& input, FunctionalOptions options) {
    return jacobian(unary_as_list(func, kJacobian), {input}, options)[0][0];
}

Tensor hessian(const UnaryFunction& func, const Tensor& input, FunctionalOptions options) {
    return hessian(unary_as_scalar(func, kHessian), {input}, options)[0][0];
}

TensorHvpResult hvp(const UnaryFunction& func, const Tensor& input, const Tensor& v,
                    FunctionalOptions options) {
    HvpResult r = hvp(unary_as_scalar(func, kHvp), {input}, optional_list(v), options);
    return {r.output, r.hvp[0]};
}

TensorVhpResult vhp(const UnaryFunction& func, const Tensor& input, const Tensor& v,
                    FunctionalOptions options) {
    VhpResult r = vhp(unary_as_scalar(func, kVhp), {input}, optional_list(v), options);
    return {r.output, r.vhp[0]};
}

}  // namespace xgrad::autograd::functional
