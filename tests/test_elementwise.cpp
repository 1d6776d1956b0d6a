// Elementwise ops: values, broadcasting, gradcheck (float64) and second derivatives.
#include <catch2/catch.hpp>
#include <cmath>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;
using autograd::gradcheck;
using autograd::gradgradcheck;

namespace {
using test::leaf;
void check_close(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
    auto v = t.to_vector<double>();
    REQUIRE(v.size() == want.size());
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == Approx(want[i]).margin(tol));
}
}  // namespace

TEST_CASE("arithmetic values and broadcasting", "[elementwise]") {
    Tensor a = tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    Tensor row = tensor({10.f, 20.f, 30.f});
    Tensor col = tensor(std::vector<float>{100.f, 200.f}, {2, 1});
    check_close(a + row, {11, 22, 33, 14, 25, 36});
    check_close(a - col, {-99, -98, -97, -196, -195, -194});
    check_close(a * 2.0, {2, 4, 6, 8, 10, 12});
    check_close(1.0 - a, {0, -1, -2, -3, -4, -5});
    check_close(a / row, {.1, .1, .1, .4, .25, .2});
    check_close(6.0 / a, {6, 3, 2, 1.5, 1.2, 1});
    check_close(-a, {-1, -2, -3, -4, -5, -6});
    check_close(row + col, {110, 120, 130, 210, 220, 230});
    CHECK((row + col).shape() == Shape{2, 3});
    check_close(arange(4) * 3, {0, 3, 6, 9});
    CHECK((arange(4) * 3).dtype() == kInt64);
    CHECK_THROWS_AS(a + tensor({1.f, 2.f}), ShapeError);
    CHECK_THROWS_WITH(a + tensor({1.f, 2.f}), Catch::Contains("xgrad::add") &&
                                                  Catch::Contains("[2, 3]") &&
                                                  Catch::Contains("[2]"));
    CHECK_THROWS_AS(arange(4) / arange(4), DtypeError);
}

TEST_CASE("unary math values", "[elementwise]") {
    Tensor x = tensor({-2.0, -0.5, 0.0, 0.5, 2.0}, {kFloat64});
    check_close(abs(x), {2, .5, 0, .5, 2});
    check_close(relu(x), {0, 0, 0, .5, 2});
    check_close(sign(x), {-1, -1, 0, 1, 1});
    check_close(clamp(x, -1.0, 1.0), {-1, -.5, 0, .5, 1});
    check_close(clamp(x, std::nullopt, 0.0), {-2, -.5, 0, 0, 0});
    check_close(tanh(x), {std::tanh(-2.), std::tanh(-.5), 0, std::tanh(.5), std::tanh(2.)});
    check_close(sigmoid(x), {1 / (1 + std::exp(2.)), 1 / (1 + std::exp(.5)), .5,
                             1 / (1 + std::exp(-.5)), 1 / (1 + std::exp(-2.))});
    check_close(exp(x), {std::exp(-2.), std::exp(-.5), 1, std::exp(.5), std::exp(2.)});
    check_close(sin(x), {std::sin(-2.), std::sin(-.5), 0, std::sin(.5), std::sin(2.)});
    check_close(cos(x), {std::cos(-2.), std::cos(-.5), 1, std::cos(.5), std::cos(2.)});
    Tensor p = tensor({0.25, 1.0, 4.0}, {kFloat64});
    check_close(sqrt(p), {.5, 1, 2});
    check_close(log(p), {std::log(.25), 0, std::log(4.)});
    check_close(pow(p, 1.5), {.125, 1, 8});
    check_close(pow(2.0, p), {std::pow(2., .25), 2, 16});
    check_close(pow(p, tensor({2.0, 3.0, 0.5}, {kFloat64})), {.0625, 1, 2});
    // sigmoid stays finite and exact at the extremes.
    check_close(sigmoid(tensor({-100.f, 100.f})), {0, 1});
    CHECK_THROWS_AS(clamp(x, 1.0, -1.0), ValueError);
}

TEST_CASE("minimum, maximum and where", "[elementwise]") {
    Tensor a = tensor({1.0, 5.0, 3.0}, {kFloat64, true});
    Tensor b = tensor({2.0, 4.0, 3.0}, {kFloat64, true});
    check_close(minimum(a, b), {1, 4, 3});
    Tensor m = maximum(a, b);
    check_close(m, {2, 5, 3});
    m.sum().backward();
    // Ties share the gradient evenly, as in PyTorch.
    check_close(a.grad(), {0, 1, .5});
    check_close(b.grad(), {1, 0, .5});
    Tensor c = tensor({true, false, true});
    check_close(where(c, a, b), {1, 4, 3});
    check_close(where(tensor({true, false}), tensor({1.f}), tensor({{5.f}, {6.f}})), {1, 5, 1, 6});
    CHECK_THROWS_AS(where(tensor({1.f, 0.f}), a, b), DtypeError);
}

TEST_CASE("comparisons give bool masks", "[elementwise]") {
    Tensor a = tensor({1.f, 2.f, 3.f});
    Tensor b = tensor({3.f, 2.f, 1.f});
    CHECK((a < b).dtype() == kBool);
    CHECK((a < b).to_vector<bool>() == std::vector<bool>{true, false, false});
    CHECK((a <= b).to_vector<bool>() == std::vector<bool>{true, true, false});
    CHECK((a > b).to_vector<bool>() == std::vector<bool>{false, false, true});
    CHECK((a >= b).to_vector<bool>() == std::vector<bool>{false, true, true});
    CHECK((a == b).to_vector<bool>() == std::vector<bool>{false, true, false});
    CHECK((a != b).to_vector<bool>() == std::vector<bool>{true, false, true});
    CHECK((a > 1.5).to_vector<bool>() == std::vector<bool>{false, true, true});
    CHECK(logical_not(a > 1.5).to_vector<bool>() == std::vector<bool>{true, false, false});
    CHECK(logical_and(a > 1.5, b > 1.5).to_vector<bool>() == std::vector<bool>{false, true, false});
    CHECK(logical_or(a > 2.5, b > 2.5).to_vector<bool>() == std::vector<bool>{true, false, true});
    Tensor col = tensor(std::vector<float>{2.f, 3.f}, {2, 1});
    CHECK((a == col).to_vector<bool>() ==
          std::vector<bool>{false, true, false, false, false, true});
    Tensor nan = tensor({1.f, NAN, INFINITY});
    CHECK(isnan(nan).to_vector<bool>() == std::vector<bool>{false, true, false});
    CHECK(isinf(nan).to_vector<bool>() == std::vector<bool>{false, false, true});
    CHECK_THROWS_AS(logical_not(a), DtypeError);
    Tensor x = ones({2}, {kFloat32, true});
    CHECK_FALSE((x > 0.0).requires_grad());
}

TEST_CASE("gradcheck: binary ops with broadcasting", "[elementwise][gradcheck]") {
    Tensor a = leaf({2, 3}, 1), b = leaf({3}, 2), c = leaf({2, 1}, 3);
    Tensor pos = leaf({2, 3}, 4, 0.5, 2.0), pos_b = leaf({1, 3}, 5, 0.5, 2.0);
    CHECK(gradcheck([](const TensorList& x) { return x[0] + x[1]; }, {a, b}).ok);
    CHECK(gradcheck([](const TensorList& x) { return x[0] - x[1]; }, {a, c}).ok);
    CHECK(gradcheck([](const TensorList& x) { return x[0] * x[1]; }, {b, c}).ok);
    CHECK(gradcheck([](const TensorList& x) { return x[0] / x[1]; }, {a, pos_b}).ok);
    CHECK(gradcheck([](const TensorList& x) { return pow(x[0], x[1]); }, {pos, b}).ok);
    CHECK(gradcheck([](const TensorList& x) { return minimum(x[0], x[1]); }, {a, b}).ok);
    CHECK(gradcheck([](const TensorList& x) { return maximum(x[0], x[1]); }, {a, c}).ok);
    CHECK(gradcheck([](const TensorList& x) { return where(x[0] > 0.0, x[0], x[1]); }, {a, b}).ok);
    CHECK(gradcheck([](const TensorList& x) { return 2.0 / x[0] - x[0] * 3.0 + 1.0; }, {pos}).ok);
    CHECK(gradcheck([](const TensorList& x) { return x[0] * x[0]; }, {a}).ok);  // same input twice
}

TEST_CASE("gradcheck: unary ops", "[elementwise][gradcheck]") {
    Tensor x = leaf({3, 4}, 7, -2, 2);
    Tensor p = leaf({3, 4}, 8, 0.2, 3);
    // Keep away from the kinks of abs/relu/clamp, where finite differences are undefined.
    Tensor k = (leaf({3, 4}, 9, 0.1, 1) * sign(leaf({3, 4}, 10))).detach().requires_grad_();
    std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> fns = {
        {"neg", [](const Tensor& v) { return neg(v); }},
        {"exp", [](const Tensor& v) { return exp(v); }},
        {"sin", [](const Tensor& v) { return sin(v); }},
        {"cos", [](const Tensor& v) { return cos(v); }},
        {"tanh", [](const Tensor& v) { return tanh(v); }},
        {"sigmoid", [](const Tensor& v) { return sigmoid(v); }},
        {"pow3", [](const Tensor& v) { return pow(v, 3.0); }},
        {"pow2", [](const Tensor& v) { return pow(v, 2.0); }},
        {"exp_of_pow", [](const Tensor& v) { return pow(2.0, v); }},
    };
    for (auto& [name, fn] : fns) {
        INFO(name);
        auto& f = fn;  // clang 14 cannot capture a structured binding in a lambda
        CHECK(gradcheck([&](const TensorList& in) { return f(in[0]); }, {x}).ok);
        CHECK(gradgradcheck([&](const TensorList& in) { return f(in[0]); }, {x}).ok);
    }
    for (auto op :
         {+[](const Tensor& v) { return log(v); }, +[](const Tensor& v) { return sqrt(v); },
          +[](const Tensor& v) { return pow(v, -1.5); }}) {
        CHECK(gradcheck([&](const TensorList& in) { return op(in[0]); }, {p}).ok);
        CHECK(gradgradcheck([&](const TensorList& in) { return op(in[0]); }, {p}).ok);
    }
    for (auto op :
         {+[](const Tensor& v) { return abs(v); }, +[](const Tensor& v) { return relu(v); },
          +[](const Tensor& v) { return clamp(v, -0.5, 0.5); }}) {
        CHECK(gradcheck([&](const TensorList& in) { return op(in[0]); }, {k}).ok);
    }
}

TEST_CASE("second derivatives of binary ops", "[elementwise][gradcheck]") {
    Tensor a = leaf({2, 3}, 11, 0.5, 2), b = leaf({3}, 12, -1, 1);
    CHECK(gradgradcheck([](const TensorList& x) { return x[0] * x[1]; }, {a, b}).ok);
    CHECK(gradgradcheck([](const TensorList& x) { return x[1] / x[0]; }, {a, b}).ok);
    CHECK(gradgradcheck([](const TensorList& x) { return pow(x[0], x[1]); }, {a, b}).ok);
}

TEST_CASE("gradcheck reports a wrong gradient", "[elementwise][gradcheck]") {
    // A custom op whose backward is deliberately wrong must be caught, naming the element.
    struct Wrong : autograd::Function<Wrong> {
        static Tensor forward(autograd::AutogradContext*, const Tensor& x) { return x * x; }
        static TensorList backward(autograd::AutogradContext*, const TensorList& g) {
            return {g[0]};
        }
    };
    Tensor x = leaf({3}, 13, 1, 2);
    auto r = gradcheck([](const TensorList& in) { return Wrong::apply(in[0]); }, {x},
                       {.raise_exception = false});
    CHECK_FALSE(r.ok);
    CHECK(r.report.find("input 0") != std::string::npos);
    CHECK_THROWS_AS(gradcheck([](const TensorList& in) { return Wrong::apply(in[0]); }, {x}),
                    AutogradError);
    Tensor f32 = ones({2}, {kFloat32, true});
    CHECK_THROWS_AS(gradcheck([](const TensorList& in) { return in[0] * 2.f; }, {f32}), DtypeError);
}
