// Builds against the installed package as a C++17 user of the opt-in <xgrad/xtensor.hpp>: a
// view, an expression written through it, an expression evaluated into a tensor.
#include <cmath>
#include <iostream>
#include <utility>

#include <xtensor/xmath.hpp>

#include <xgrad/xgrad.hpp>
#include <xgrad/xtensor.hpp>

int main() {
    using namespace xgrad;
    Tensor x = linspace(-1.0, 1.0, 5);
    Tensor y = empty_like(x);
    auto yv = as_xtensor<float>(y);
    yv = xt::square(as_xtensor<float>(std::as_const(x)));
    Tensor z = from_xtensor(xt::arange<double>(3) * 2.0);
    std::cout << "x^2 = " << y << ", 2 * arange(3) = " << z << "\n";
    const auto v = y.to_vector<double>();
    const bool ok = std::fabs(v[0] - 1) < 1e-6 && std::fabs(v[1] - 0.25) < 1e-6 &&
                    z.dtype() == kFloat64 && z.to_vector<double>()[2] == 4.0;
    return ok ? 0 : 1;
}
