// Builds against the installed package: C++20, designated initializers, one gradient.
#include <cmath>
#include <iostream>
#include <xgrad/xgrad.hpp>

int main() {
    using namespace xgrad;
    Tensor x = tensor({1.0, 2.0, 3.0}, {.dtype = kFloat64, .requires_grad = true});
    Tensor y = (x * x).sum();
    y.backward();
    const auto g = x.grad().to_vector<double>();
    std::cout << "d/dx sum(x^2) = " << x.grad() << "\n";
    const bool ok = std::fabs(g[0] - 2) < 1e-12 && std::fabs(g[1] - 4) < 1e-12 &&
                    std::fabs(g[2] - 6) < 1e-12 && std::fabs(y.item<double>() - 14) < 1e-12;
    return ok ? 0 : 1;
}
