// Numerical gradient checking: analytic gradients from the tape against central finite
// differences, in float64.
#pragma once
#include <functional>
#include <string>

#include <xgrad/autograd/node.hpp>

namespace xgrad::autograd {

struct GradcheckOptions {
    double eps = 1e-6;   // finite-difference step
    double atol = 1e-5;  // |analytic - numeric| <= atol + rtol * |numeric|
    double rtol = 1e-3;
    bool raise_exception = true;  // throw AutogradError with the report on failure
};

struct GradcheckResult {
    bool ok = true;
    double max_abs_error = 0.0;  // worst |analytic - numeric| over all inputs and elements
    std::string report;          // names the worst input, element, both values
};

using TensorFunction = std::function<Tensor(const TensorList&)>;

// Checks d f(inputs) / d inputs for every input that requires grad (inputs must be float64).
// Non-scalar outputs are checked element by element (the full Jacobian).
GradcheckResult gradcheck(const TensorFunction& f, const TensorList& inputs,
                          GradcheckOptions options = {});

// Checks second derivatives: gradcheck of the (create_graph) gradient of sum(f * v) for a
// fixed random v, with respect to the inputs.
GradcheckResult gradgradcheck(const TensorFunction& f, const TensorList& inputs,
                              GradcheckOptions options = {});

}  // namespace xgrad::autograd
