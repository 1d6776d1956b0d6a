#include <cstdio>
#include <string>

#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/nn/layers/dropout.hpp>

namespace xgrad::nn {

namespace {
std::string num_str(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}
}  // namespace

Dropout::Dropout(double prob) : p(prob) {
    if (!(p >= 0.0 && p <= 1.0))  // NaN fails too
        raise<ValueError>("nn::Dropout", "probability p must be in [0, 1], got ", num_str(p));
}

Tensor Dropout::forward(const Tensor& x) {
    if (!x.defined()) raise<ValueError>("nn::Dropout", "undefined input");
    if (!(p >= 0.0 && p <= 1.0))  // p is a public field: re-check after user edits
        raise<ValueError>("nn::Dropout", "probability p must be in [0, 1], got ", num_str(p));
    if (!is_training() || p == 0.0) return x;
    if (!is_floating(x.dtype()))
        raise<DtypeError>("nn::Dropout", "needs a floating input, got ",
                          std::string(dtype_name(x.dtype())), " of shape ", shape_str(x.shape()));
    if (p == 1.0) return x * 0.0;  // everything dropped (keeps the graph: zero gradient)
    // Keep each element with probability 1 - p (a uniform draw below 1 - p), scale survivors.
    const Tensor keep = rand_like(x) < (1.0 - p);
    return where(keep, x * (1.0 / (1.0 - p)), scalar_like(0.0, x, "Dropout"));
}

std::string Dropout::extra_repr() const {
    return "p=" + num_str(p);
}

}  // namespace xgrad::nn
