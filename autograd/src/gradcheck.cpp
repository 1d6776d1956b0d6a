// Central finite differences against the tape, element by element of the full Jacobian.
#include <cmath>
#include <cstdio>
#include <string>

#include <xgrad/autograd/engine.hpp>
#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/gradcheck.hpp>
#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include "kernels/dispatch.hpp"

namespace xgrad::autograd {

namespace {

Tensor evaluate(const TensorFunction& f, const TensorList& inputs) {
    Tensor out = f(inputs);
    if (!out.defined() || out.dtype() != Dtype::f64)
        raise<AutogradError>("gradcheck", "the function must return a float64 tensor (got ",
                             std::string(out.defined() ? dtype_name(out.dtype()) : "undefined"),
                             ")");
    return out;
}

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

}  // namespace

GradcheckResult gradcheck(const TensorFunction& f, const TensorList& inputs, GradcheckOptions opt) {
    std::vector<std::size_t> diff;  // indices of inputs that require grad
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
        if (inputs[i].dtype() != Dtype::f64)
            raise<DtypeError>("gradcheck", "input ", std::to_string(i), " is ",
                              dtype_name(inputs[i].dtype()),
                              "; finite differences need float64 inputs");
        if (!inputs[i].is_leaf())
            raise<AutogradError>("gradcheck", "input ", std::to_string(i),
                                 " must be a leaf tensor");
        diff.push_back(i);
    }
    if (diff.empty()) raise<AutogradError>("gradcheck", "no input requires grad, nothing to check");
    TensorList diff_inputs;
    for (auto i : diff) diff_inputs.push_back(inputs[i]);

    // Analytic Jacobian, one output element (one backward) at a time.
    Tensor out = evaluate(f, inputs);
    const std::int64_t n_out = out.numel();
    std::vector<std::vector<double>> analytic(diff.size());  // [input][out_j * n_in + k]
    for (std::size_t d = 0; d < diff.size(); ++d)
        analytic[d].assign(static_cast<std::size_t>(n_out * inputs[diff[d]].numel()), 0.0);
    for (std::int64_t j = 0; j < n_out; ++j) {
        Tensor seed = zeros_like(out);
        seed.data_ptr<double>()[j] = 1.0;
        if (!out.requires_grad()) break;  // output does not depend on inputs: all zeros
        TensorList grads =
            grad({out}, diff_inputs, {seed}, GradOptions{true, false, /*allow_unused=*/true});
        for (std::size_t d = 0; d < diff.size(); ++d) {
            if (!grads[d].defined()) continue;
            const double* g = grads[d].data_ptr<double>();
            const std::int64_t n_in = inputs[diff[d]].numel();
            for (std::int64_t k = 0; k < n_in; ++k) analytic[d][j * n_in + k] = g[k];
        }
    }

    // Numeric Jacobian by perturbing each input element in place.
    GradcheckResult result;
    double worst_excess = -1;
    for (std::size_t d = 0; d < diff.size(); ++d) {
        Tensor x = inputs[diff[d]];
        double* p = x.data_ptr<double>();
        const std::int64_t n_in = x.numel();
        for (std::int64_t k = 0; k < n_in; ++k) {
            const double orig = p[k];
            std::vector<double> plus, minus;
            {
                NoGradGuard no_grad;
                p[k] = orig + opt.eps;
                plus = evaluate(f, inputs).to_vector<double>();
                p[k] = orig - opt.eps;
                minus = evaluate(f, inputs).to_vector<double>();
                p[k] = orig;
            }
            for (std::int64_t j = 0; j < n_out; ++j) {
                const double num = (plus[j] - minus[j]) / (2 * opt.eps);
                const double ana = analytic[d][j * n_in + k];
                const double err = std::fabs(ana - num);
                const double allowed = opt.atol + opt.rtol * std::fabs(num);
                const bool bad = !(err <= allowed);  // NaN counts as a failure
                result.max_abs_error = std::max(result.max_abs_error, err);
                if (bad) result.ok = false;
                const double excess = std::isnan(err) ? INFINITY : err - allowed;
                if (excess > worst_excess) {
                    worst_excess = excess;
                    result.report = "input " + std::to_string(diff[d]) + " (shape " +
                                    shape_str(x.shape()) + ") element " + std::to_string(k) +
                                    ", output element " + std::to_string(j) + ": analytic " +
                                    fmt(ana) + " vs numeric " + fmt(num) + " (|diff| " + fmt(err) +
                                    ", allowed " + fmt(allowed) + ")";
                }
            }
        }
    }
    result.report =
        (result.ok ? "gradcheck passed; worst element: " : "gradcheck failed; worst element: ") +
        result.report;
    if (!result.ok && opt.raise_exception) throw AutogradError("xgrad::" + result.report);
    return result;
}

GradcheckResult gradgradcheck(const TensorFunction& f, const TensorList& inputs,
                              GradcheckOptions opt) {
    // The gradient of sum(f(x) * v) for a fixed v, as a function of the inputs.
    Generator gen(20240607);
    Tensor v;
    {
        NoGradGuard no_grad;
        Tensor out = evaluate(f, inputs);
        v = randn(out.shape(), gen, TensorOptions{Dtype::f64});
    }
    TensorFunction first_grad = [f, v](const TensorList& xs) {
        AutoGradMode enable(true);  // the finite-difference pass runs under NoGradGuard
        TensorList diff;
        for (const auto& x : xs)
            if (x.defined() && x.requires_grad()) diff.push_back(x);
        Tensor out = f(xs);
        TensorList flat;
        TensorList gs = grad({out}, diff, {v}, GradOptions{true, true, true});
        for (std::size_t i = 0; i < gs.size(); ++i)
            flat.push_back(gs[i].defined() ? reshape(gs[i], {-1})
                                           : zeros({diff[i].numel()}, TensorOptions{Dtype::f64}));
        return concat(flat, 0);
    };
    return gradcheck(first_grad, inputs, opt);
}

}  // namespace xgrad::autograd
