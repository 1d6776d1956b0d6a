// PyTorch's *_backward ops (tanh_backward, sigmoid_backward, threshold_backward): values,
// broadcasting, gradcheck and gradgradcheck in float64, and the third derivatives of tanh,
// sigmoid and relu that now flow through them.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;
using autograd::gradcheck;
using autograd::gradgradcheck;

namespace {
using test::leaf;

// Values in (0.1, 1) with random signs: away from relu's kink at 0.
Tensor off_kink(const Shape& shape, std::uint64_t seed) {
    return (leaf(shape, seed, 0.1, 1) * sign(leaf(shape, seed + 100))).detach().requires_grad_();
}

// d^k/dx^k of sum(f(x)), elementwise (f acts elementwise), with the graph kept (also inside
// gradcheck's finite-difference pass, which runs under NoGradGuard).
Tensor nth_derivative(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, int k) {
    AutoGradMode enable(true);
    Tensor y = f(x);
    for (int i = 0; i < k; ++i) y = autograd::grad({y.sum()}, {x}, {}, {.create_graph = true})[0];
    return y;
}

void check_close(const Tensor& t, const Tensor& want, double tol = 1e-10) {
    auto v = t.to_vector<double>();
    auto w = want.to_vector<double>();
    REQUIRE(v.size() == w.size());
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == Approx(w[i]).margin(tol));
}
}  // namespace

TEST_CASE("activation backward ops: values and broadcasting",
          "[elementwise][activation_backward]") {
    Tensor g = tensor({{1.0, -2.0, 3.0}, {0.5, 4.0, -1.0}}, {kFloat64});
    Tensor y = tensor({-0.5, 0.0, 0.75}, {kFloat64});
    Tensor t = tanh_backward(g, y);
    CHECK(t.shape() == Shape{2, 3});
    check_close(t, g * (1.0 - y * y));
    Tensor s = sigmoid_backward(g, y);
    check_close(s, g * y * (1.0 - y));
    Tensor r = threshold_backward(g, y, 0.0);
    check_close(r, tensor({{0.0, 0.0, 3.0}, {0.0, 0.0, -1.0}}, {kFloat64}));
    check_close(threshold_backward(g, y, -1.0), g);
    // A scalar gradient broadcasts too.
    check_close(tanh_backward(scalar_tensor(2.0, {kFloat64}), y), (1.0 - y * y) * 2.0);
    CHECK_THROWS_AS(tanh_backward(g, y.to(kFloat32)), DtypeError);
    CHECK_THROWS_AS(sigmoid_backward(arange(3), arange(3)), DtypeError);
    CHECK_THROWS_AS(threshold_backward(g, tensor({1.0, 2.0}, {kFloat64}), 0.0), ShapeError);
}

TEST_CASE("activation backward ops: gradcheck and gradgradcheck",
          "[elementwise][activation_backward][gradcheck]") {
    Tensor g = leaf({2, 3}, 21, -2, 2), y = leaf({2, 3}, 22, -0.9, 0.9);
    Tensor g_row = leaf({3}, 23, -2, 2), y_col = leaf({2, 1}, 24, 0.1, 0.9);
    Tensor x = off_kink({2, 3}, 25), x_row = off_kink({3}, 26);
    std::vector<std::pair<const char*, std::function<Tensor(const TensorList&)>>> fns = {
        {"tanh_backward", [](const TensorList& in) { return tanh_backward(in[0], in[1]); }},
        {"sigmoid_backward", [](const TensorList& in) { return sigmoid_backward(in[0], in[1]); }},
    };
    for (auto& [name, fn] : fns) {
        INFO(name);
        auto& f = fn;  // clang 14 cannot capture a structured binding in a lambda
        for (const TensorList& in : {TensorList{g, y}, TensorList{g, y_col}, TensorList{g_row, y},
                                     TensorList{g_row, y_col}}) {
            CHECK(gradcheck(f, in).ok);
            CHECK(gradgradcheck(f, in).ok);
        }
    }
    auto thr = [](const TensorList& in) { return threshold_backward(in[0], in[1], 0.0); };
    for (const TensorList& in : {TensorList{g, x}, TensorList{g, x_row}, TensorList{g_row, x}}) {
        CHECK(gradcheck(thr, in).ok);
        CHECK(gradgradcheck(thr, in).ok);
    }
    // A non-zero threshold, inputs away from it.
    Tensor x_shift = (x + 0.5).detach().requires_grad_();
    auto thr_half = [](const TensorList& in) { return threshold_backward(in[0], in[1], 0.5); };
    CHECK(gradcheck(thr_half, {g, x_shift}).ok);
    CHECK(gradgradcheck(thr_half, {g, x_shift}).ok);
}

TEST_CASE("activation backward ops: their own backward formulas",
          "[elementwise][activation_backward]") {
    Tensor g = leaf({4}, 31, -2, 2), y = leaf({4}, 32, -0.9, 0.9), gg = leaf({4}, 33).detach();
    Tensor gd = g.detach(), yd = y.detach();
    auto grads = autograd::grad({tanh_backward(g, y)}, {g, y}, {gg});
    check_close(grads[0], tanh_backward(gg, yd));
    check_close(grads[1], gg * gd * yd * -2.0);
    grads = autograd::grad({sigmoid_backward(g, y)}, {g, y}, {gg});
    check_close(grads[0], sigmoid_backward(gg, yd));
    check_close(grads[1], gg * gd * (1.0 - yd * 2.0));
    grads = autograd::grad({threshold_backward(g, y, 0.0)}, {g, y}, {gg}, {.allow_unused = true});
    check_close(grads[0], threshold_backward(gg, yd, 0.0));
    CHECK_FALSE(grads[1].defined());  // zero: the mask is piecewise constant
    // Recorded only when an input requires grad, and then under the op's own node.
    CHECK_FALSE(tanh_backward(gd, yd).requires_grad());
    CHECK(std::string(tanh_backward(gd, y).grad_fn()->name()) == "TanhBackwardBackward");
    CHECK(std::string(sigmoid_backward(g, yd).grad_fn()->name()) == "SigmoidBackwardBackward");
    CHECK(std::string(threshold_backward(g, yd, 0.0).grad_fn()->name()) ==
          "ThresholdBackwardBackward");
    CHECK_FALSE(threshold_backward(gd, y, 0.0).requires_grad());  // d/dx = 0
}

TEST_CASE("third derivatives of tanh, sigmoid and relu",
          "[elementwise][activation_backward][gradcheck]") {
    Tensor x = leaf({3, 4}, 41, -2, 2);
    Tensor k = off_kink({3, 4}, 42);
    using Fn = Tensor (*)(const Tensor&);
    const Fn tanh_fn = [](const Tensor& v) { return tanh(v); };
    const Fn sigmoid_fn = [](const Tensor& v) { return sigmoid(v); };
    const Fn relu_fn = [](const Tensor& v) { return relu(v); };
    for (Fn f : {tanh_fn, sigmoid_fn}) {
        // gradcheck of the second derivative and gradgradcheck of the first: both check the
        // third derivative against finite differences.
        CHECK(gradcheck([f](const TensorList& in) { return nth_derivative(f, in[0], 2); }, {x}).ok);
        CHECK(gradgradcheck([f](const TensorList& in) { return nth_derivative(f, in[0], 1); }, {x})
                  .ok);
    }
    // relu: past the first, its derivatives are zero and not recorded; through a weight the
    // first derivative threshold_backward(w, relu(x)) is differentiable in w, to any order.
    CHECK(gradcheck([relu_fn](const TensorList& in) { return nth_derivative(relu_fn, in[0], 1); },
                    {k})
              .ok);
    CHECK(gradgradcheck([relu_fn](const TensorList& in) { return relu_fn(in[0]); }, {k}).ok);
    Tensor w = leaf({3, 4}, 43, -2, 2);
    auto relu_grad = [](const TensorList& in) {
        AutoGradMode enable(true);
        return autograd::grad({(relu(in[0]) * in[1] * in[1]).sum()}, {in[0]}, {},
                              {.create_graph = true})[0];
    };
    CHECK(gradcheck(relu_grad, {k, w}).ok);
    CHECK(gradgradcheck(relu_grad, {k, w}).ok);

    // Against the closed forms.
    const Tensor xd = x.detach();
    const Tensor t = tanh(xd), dt = 1.0 - t * t;
    check_close(nth_derivative(tanh_fn, x, 3), dt * (t * t * 6.0 - 2.0));
    const Tensor s = sigmoid(xd), ds = s * (1.0 - s);
    check_close(nth_derivative(sigmoid_fn, x, 3),
                ds * (1.0 - s * 2.0) * (1.0 - s * 2.0) - ds * ds * 2.0);
    check_close(nth_derivative(relu_fn, k, 1), (k.detach() > 0.0).to(kFloat64));
    // relu'' is zero: relu's first derivative depends on x only through a constant mask.
    CHECK_FALSE(nth_derivative(relu_fn, k, 1).requires_grad());
}

TEST_CASE("tanh, sigmoid and relu gradients: one kernel with and without create_graph",
          "[elementwise][activation_backward]") {
    // The usual backward (nothing recorded) and create_graph (the op recorded) run the same
    // fused kernel: the same bits, those of the *_backward op; and the composed formula within
    // rounding (a fused kernel may contract a * b + c).
    for (Dtype dt : {kFloat32, kFloat64}) {
        Generator gen(51);
        Tensor x = (rand({5, 7}, gen, {dt}) * 6.0 - 3.0).detach().requires_grad_();
        Tensor g = (rand({5, 7}, gen, {dt}) * 4.0 - 2.0).detach();
        auto bits = [](const Tensor& a) { return a.to(kFloat64).to_vector<double>(); };
        for (int op = 0; op < 3; ++op) {
            INFO("op " << op << " dtype " << dtype_name(dt));
            auto f = [op](const Tensor& v) {
                return op == 0 ? tanh(v) : op == 1 ? sigmoid(v) : relu(v);
            };
            Tensor y = f(x);
            const Tensor yd = y.detach();
            const Tensor plain = autograd::grad({y}, {x}, {g})[0];
            const Tensor recorded = autograd::grad({f(x)}, {x}, {g}, {.create_graph = true})[0];
            const Tensor direct = op == 0   ? tanh_backward(g, yd)
                                  : op == 1 ? sigmoid_backward(g, yd)
                                            : threshold_backward(g, yd, 0.0);
            const Tensor composed = op == 0   ? g * (1.0 - yd * yd)
                                    : op == 1 ? g * yd * (1.0 - yd)
                                              : where(yd > 0.0, g, zeros_like(g));
            CHECK(bits(plain) == bits(direct));
            CHECK(bits(recorded) == bits(direct));
            check_close(plain, composed, dt == kFloat32 ? 1e-6 : 1e-15);
        }
    }
}
