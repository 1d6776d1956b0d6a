#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;

TEST_CASE("smoke: mul add tanh backward") {
    Tensor x = tensor({0.5, -1.0}, TensorOptions{kFloat64, true});
    Tensor y = tanh(x * x + 1.0).sum();
    y.backward();
    auto g = x.grad().to_vector<double>();
    CHECK(g[0] == Approx(2 * 0.5 * (1 - std::pow(std::tanh(1.25), 2))));
    CHECK(g[1] == Approx(2 * -1.0 * (1 - std::pow(std::tanh(2.0), 2))));
}
