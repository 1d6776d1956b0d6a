// matmul: values and gradients against PyTorch, every 1-D / 2-D / batched / transpose case
// through gradcheck and gradgradcheck, a Hessian-vector product, and the error paths.
//
// Reference numbers come from tests/reference/matmul_unfold_reference.py (torch 1.13), pasted
// here as literals. Inputs are seq(shape, s), a pattern the script computes identically.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;

namespace {

using test::seq;

void check_values(const Tensor& t, const std::vector<double>& expected, double tol) {
    const std::vector<double> got = t.to_vector<double>();
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(got[i] == Approx(expected[i]).margin(tol));
    }
}

struct MatmulCase {
    const char* name;
    Shape a, b;
    bool ta, tb;
    Shape out;
    std::vector<double> c, grad_a, grad_b;  // grads of sum(C * seq(C.shape, 3))
};

// Printed by tests/reference/matmul_unfold_reference.py.
const std::vector<MatmulCase>& torch_cases() {
    static const std::vector<MatmulCase> cases = {
        {"dot",
         {4},
         {4},
         false,
         false,
         {},
         {-3.1875},
         {0, -1.125, 0.1875, -0.9375},
         {-0.5625, 0.75, -0.375, 0.9375}},
        {"vec_mat",
         {4},
         {4, 3},
         false,
         false,
         {3},
         {-2.25, 3.5625, -2},
         {1.375, -2.3125, 2.125, -1.5625},
         {-0.5625, 0.5625, -0.75, 0.75, -0.75, 1, -0.375, 0.375, -0.5, 0.9375, -0.9375, 1.25}},
        {"mat_vec",
         {3, 4},
         {4},
         false,
         false,
         {3},
         {-3.1875, -0.375, 3.25},
         {0, -1.125, 0.1875, -0.9375, -0, 1.125, -0.1875, 0.9375, 0, -1.5, 0.25, -1.25},
         {-0.125, -1.625, 0.125, 1.0625}},
        {"mat_mat",
         {2, 3},
         {3, 4},
         false,
         false,
         {2, 4},
         {0, 0.375, -0.0625, 0.3125, 1.375, -2.375, 2, -1.75},
         {2, 2.25, 2.5, 0.75, 2, 3.25},
         {1, 0.25, 1.125, 0.375, 0.4375, -0.6875, 0.625, -0.5, 1.5, 0, 1.75, 0.25}},
        {"mat_mat_ta",
         {3, 2},
         {3, 4},
         true,
         false,
         {2, 4},
         {-0.5, 1.75, -0.875, 1.375, 2.125, -3.5, 3.0625, -2.5625},
         {2, 0.75, 2.25, 2, 2.5, 3.25},
         {0.6875, 0.3125, 0.75, 0.375, 1.1875, 0.0625, 1.375, 0.25, 1.6875, -0.1875, 2, 0.125}},
        {"mat_mat_tb",
         {2, 3},
         {4, 3},
         false,
         true,
         {2, 4},
         {-1.625, 1.9375, -1.8125, 1.75, 0.75, -3.1875, 2.625, -1.3125},
         {1.9375, -2.875, 2.0625, 1.4375, -3.125, 2.0625},
         {1, 0.4375, 1.5, 0.25, -0.6875, 0, 1.125, 0.625, 1.75, 0.375, -0.5, 0.25}},
        {"mat_mat_tatb",
         {3, 2},
         {4, 3},
         true,
         true,
         {2, 4},
         {0.6875, 0.9375, -0.4375, -0.1875, -1.5, -2.125, 1.3125, 0.6875},
         {1.9375, 1.4375, -2.875, -3.125, 2.0625, 2.0625},
         {0.6875, 1.1875, 1.6875, 0.3125, 0.0625, -0.1875, 0.75, 1.375, 2, 0.375, 0.25, 0.125}},
        {"batched_broadcast",
         {2, 1, 3, 4},
         {5, 4, 2},
         false,
         false,
         {2, 5, 3, 2},
         {0.9375,  -0.5625, -0.75,   -0.375,  -0.8125, 1.4375,  -2.125,  0.4375,  3.875,   -0.625,
          0.9375,  -0.0625, -0.3125, 1.4375,  -0.4375, -0.875,  1.0625,  -1.5625, 0.6875,  -3.25,
          -0.6875, -1.125,  -0.4375, 2.625,   1.6875,  0.1875,  -0.9375, -0.5625, -1.9375, 0.3125,
          -0.0625, -0.8125, 0.6875,  -3.0625, -0.1875, 2.8125,  2.0625,  -0.3125, 3.1875,  -0.5625,
          -3.8125, 0.8125,  -0.6875, 0.1875,  -2.4375, 1.9375,  2.3125,  -1.1875, -0.1875, 1.5,
          0.0625,  0.375,   0.3125,  -1.5625, 0.3125,  -0.4375, 2.5625,  -1.1875, -1.6875, 1.3125},
         {7.6875,  3.3125, 3.8125, -0.5625, -0.5625, 3.8125, 3.3125, 7.6875,
          -0.6875, 3.5,    3.625,  7.8125,  -0.6875, 3.5,    3.625,  7.8125,
          -0.8125, 3.1875, 3.9375, 7.9375,  -2.5625, -0.375, -0.625, 1.5625},
         {4.5625,  0.0625,  -1,      -0.9375, 5.625,   -0.3125, -3.1875, 0.3125, -2.125,  -0.125,
          1.8125,  -0.5625, -3.1875, 0.625,   5.625,   -0.625,  0.125,   4.5625, -1.0625, -1,
          -0.625,  5.625,   0.625,   -3.1875, -0.0625, -2.125,  -0.6875, 1.8125, 0.3125,  -3.1875,
          -0.3125, 5.625,   -0.25,   0.125,   -0.3125, -1.0625, 1.25,    -0.625, -1.25,   0.625}},
        {"batched_broadcast_tatb",
         {2, 1, 4, 3},
         {5, 2, 4},
         true,
         true,
         {2, 5, 3, 2},
         {-0.3125, -0.6875, -0.625,  -0.75,   -0.9375, -0.8125, -1.0625, -1.4375, -0.875,  3.875,
          -0.6875, -1.375,  0.625,   0.25,    0.5,     0.375,   0.375,   0.5,     3.9375,  -0.5,
          -1.375,  -0.6875, 3.875,   -0.875,  -0.875,  -1.25,   -0.8125, -0.9375, -0.75,   -0.625,
          0.8125,  1.8125,  -0.3125, -0.6875, -0.625,  -0.75,   2.8125,  -1.0625, -1.0625, -1.4375,
          -0.875,  3.875,   -2.5,    -1.5,    0.625,   0.25,    0.5,     0.375,   -1.3125, 1.3125,
          3.9375,  -0.5,    -1.375,  -0.6875, 2.3125,  3.3125,  -0.875,  -1.25,   -0.8125, -0.9375},
         {1.375,   -1.9375, -1.1875, -3.25,  1.875,   1.3125,  1.875,  -3.25,
          -2.6875, -1.9375, 1.375,   0.625,  -1.1875, -0.4375, 2.75,   1.3125,
          0.75,    1.8125,  -2.6875, -2.125, -0.75,   0.625,   -0.125, -0.875},
         {-1.875, 4.1875,  2.9375, -4,    0.25,   -1.125,  -0.0625, 1,      -2.9375, -0.0625,
          1.1875, -0.8125, 0.8125, 1.125, -1,     -0.6875, 0.0625,  -1.875, 0.25,    1.5625,
          -1.875, 4.1875,  2.9375, -4,    0.625,  0.375,   -0.6875, -0.125, -2.9375, -0.0625,
          1.1875, -0.8125, 1.1875, 2.625, -1.625, -1.8125, 0.0625,  -1.875, 0.25,    1.5625}},
        {"mat_batched",
         {3, 4},
         {2, 4, 5},
         false,
         false,
         {2, 3, 5},
         {-1.3125, 0.4375,  -1.0625, 0.6875,  0.8125,  -1.875,  3.375,  -1.9375, 3.3125, -2,
          1.625,   -0.1875, 1.25,    -0.5625, -0.75,   1.1875,  1.3125, -1.8125, 1.5625, -1.5625,
          3.1875,  -2.125,  -1.75,   -2.1875, -1.8125, -1.3125, -1.5,   2.375,   -1.875, 2},
         {0.0625, -5.5, 4.375, 1.25, -3.5625, -1.5625, 2.0625, -4.0625, 0.9375, 4, -5.125, 0.375},
         {-0.8125, 0.3125, -1,      0.9375, -1.1875, 1.9375, 0.875,   2.25,   -3.6875, 2.5625,
          -1,      0.625,  -1,      0.625,  -1,      2.5625, -3.6875, 2.25,   0.875,   1.9375,
          -1,      0.9375, -1.1875, 0.75,   -1.375,  2.25,   -3.6875, 2.5625, -3.375,  2.875,
          -1,      0.625,  -1,      0.625,  -1,      2.25,   0.875,   1.9375, 0.5625,  1.625}},
        {"mat_batched_tb",
         {3, 4},
         {2, 5, 4},
         false,
         true,
         {2, 3, 5},
         {-3.1875, -2.6875, -2.1875, -0.0625, 2.875,   -0.375,  -0.5,    -0.625,  -0.75,   -0.0625,
          3.25,    2.5,     1.75,    -0.625,  -2.1875, 3.375,   -0.1875, -2.9375, -2.4375, -1.9375,
          -0.1875, 4.5625,  -0.4375, -0.5625, -0.6875, -2.9375, -0.4375, 2.875,   2.125,   1.375},
         {-0.3125, -1.75, 2.5, 1.0625, -1.6875, -2.75, 2.6875, 1.625, 1.8125, 1.9375, -1.1875,
          -1.0625},
         {-0.8125, 1.9375, -1,     2.5625,  0.3125, 0.875,   0.625,   -3.6875, -1,      2.25,
          -1,      2.25,   0.9375, -3.6875, 0.625,  0.875,   -1.1875, 2.5625,  -1,      1.9375,
          -1,      2.25,   -1,     2.25,    0.9375, -3.6875, 0.625,   0.875,   -1.1875, 2.5625,
          -1,      1.9375, 0.75,   -3.375,  0.625,  0.5625,  -1.375,  2.875,   -1,      1.625}},
        {"batched_mat",
         {2, 3, 4},
         {4, 5},
         false,
         false,
         {2, 3, 5},
         {-1.3125, 0.4375,  -1.0625, 0.6875,  0.8125, -1.875,  3.375,   -1.9375, 3.3125,  -2,
          1.625,   -0.1875, 1.25,    -0.5625, -0.75,  1.875,   -1.3125, 2,       -1.1875, -1.125,
          2.125,   -2.4375, 2.75,    -1.8125, -1.5,   -1.6875, 2.125,   -2.1875, 1.625,   1.375},
         {2.625,   -3.1875, 0.75,    3.0625, -0.25,   -0.25,   -1.0625, -0.25,
          -2.3125, 3.5,     -2.0625, -2.75,  2.125,   -3.3125, 1,       2.875,
          4.125,   -2.8125, 0,       3.625,  -2.8125, 3.375,   -1.8125, -2.9375},
         {1.4375, -3.0625, 1.375,  -2.3125, 1.3125, 0.9375, 1.8125,  1.0625, -2.9375, 1.1875,
          1.25,   -3.0625, 1.5625, -2.75,   1.875,  1.5625, -3.0625, 1.25,   1.5,     0.9375}},
        {"batched_mat_ta",
         {2, 4, 3},
         {4, 5},
         true,
         false,
         {2, 3, 5},
         {-1.5625, 3.625,  -1.75,  3.4375, -1.9375, -1.5,   -1.9375, -1.5625, -2,      3.25,
          -1.4375, 3.0625, -1.375, 3.125,  -2.125,  2.4375, -2.1875, 2.9375,  -1.6875, -1.4375,
          -1.5625, 3.625,  -1.75,  3.4375, -1.9375, -1.5,   -1.9375, -1.5625, -2,      3.25},
         {2.625,   -0.25,  -2.3125, -3.1875, -0.25,   3.5,   0.75,    -1.0625,
          -2.0625, 3.0625, -0.25,   -2.75,   2.125,   4.125, -2.8125, -3.3125,
          -2.8125, 3.375,  1,       0,       -1.8125, 2.875, 3.625,   -2.9375},
         {-0.4375, 3.3125, -0.25, 0.25,   -0.0625, -1.125,  -2.375, -0.375, -0.8125, 0.375,
          3.0625,  -4,     2.75,  0.5625, 2.4375,  -0.0625, 3.3125, -0.625, 1.125,   -1.1875}},
        {"vec_batched",
         {4},
         {2, 4, 3},
         false,
         false,
         {2, 3},
         {-2.25, 3.5625, -2, 0.875, -2.25, 3.5625},
         {1, -4.125, 3.75, -3},
         {-0.5625, 0.5625, -0.75,   0.75,   -0.75, 1,       -0.375, 0.375,
          -0.5,    0.9375, -0.9375, 1.25,   0.375, -0.9375, 0.1875, -0.5,
          1.25,    -0.25,  0.25,    -0.625, 0.125, -0.625,  1.5625, -0.3125}},
        {"batched_vec",
         {2, 3, 4},
         {4},
         false,
         false,
         {2, 3},
         {-3.1875, -0.375, 3.25, 2, 0.75, -1.3125},
         {0,  -1.125, 0.1875, -0.9375, -0, 1.125,  -0.1875, 0.9375,  0,  -1.5,  0.25,    -1.25,
          -0, 0.75,   -0.125, 0.625,   0,  -1.875, 0.3125,  -1.5625, -0, 0.375, -0.0625, 0.3125},
         {1.4375, -1.625, 1.8125, 1.1875}},
    };
    return cases;
}

}  // namespace

TEST_CASE("matmul: values and gradients match PyTorch", "[matmul]") {
    for (const auto& mc : torch_cases()) {
        for (Dtype dt : {kFloat64, kFloat32}) {
            INFO("case " << mc.name << ", " << dtype_name(dt));
            Tensor a = seq(mc.a, 1, dt, true);
            Tensor b = seq(mc.b, 2, dt, true);
            Tensor c = matmul(a, b, {mc.ta, mc.tb});
            CHECK(c.dtype() == dt);
            CHECK(c.shape() == mc.out);
            check_values(c, mc.c, dt == kFloat64 ? 1e-12 : 1e-5);
            (c * seq(c.shape(), 3, dt)).sum().backward();
            REQUIRE(a.grad().defined());
            REQUIRE(b.grad().defined());
            CHECK(a.grad().shape() == mc.a);
            CHECK(b.grad().shape() == mc.b);
            check_values(a.grad(), mc.grad_a, dt == kFloat64 ? 1e-12 : 1e-5);
            check_values(b.grad(), mc.grad_b, dt == kFloat64 ? 1e-12 : 1e-5);
            if (!mc.ta && !mc.tb) {  // the method form is the same op
                Tensor m = a.matmul(b);
                CHECK(m.shape() == mc.out);
                check_values(m, mc.c, dt == kFloat64 ? 1e-12 : 1e-5);
            }
        }
    }
}

TEST_CASE("matmul: float32 64x64 agrees with float64 and a naive product", "[matmul]") {
    Generator gen(7);
    const std::int64_t n = 64;
    Tensor a64 = randn({n, n}, gen, TensorOptions{kFloat64});
    Tensor b64 = randn({n, n}, gen, TensorOptions{kFloat64});
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            INFO("transpose_a " << ta << " transpose_b " << tb);
            const std::vector<double> c64 = matmul(a64, b64, {ta, tb}).to_vector<double>();
            const std::vector<double> c32 =
                matmul(a64.to(kFloat32), b64.to(kFloat32), {ta, tb}).to_vector<double>();
            const std::vector<double> av = a64.to_vector<double>(), bv = b64.to_vector<double>();
            double worst64 = 0, worst32 = 0;
            for (std::int64_t i = 0; i < n; ++i)
                for (std::int64_t j = 0; j < n; ++j) {
                    double ref = 0;
                    for (std::int64_t k = 0; k < n; ++k)
                        ref += av[ta ? k * n + i : i * n + k] * bv[tb ? j * n + k : k * n + j];
                    worst64 = std::max(worst64, std::fabs(c64[i * n + j] - ref));
                    worst32 = std::max(worst32, std::fabs(c32[i * n + j] - ref));
                }
            CHECK(worst64 < 1e-11);
            CHECK(worst32 < 1e-4);
        }
}

TEST_CASE("matmul: gradcheck in float64 for every case", "[matmul]") {
    struct Case {
        Shape a, b;
        bool ta, tb;
    };
    const std::vector<Case> cases = {
        {{4}, {4}, false, false},                   // 1-D . 1-D
        {{4}, {4, 3}, false, false},                // 1-D . 2-D
        {{4}, {3, 4}, false, true},                 // 1-D . 2-D^T
        {{3, 4}, {4}, false, false},                // 2-D . 1-D
        {{4, 3}, {4}, true, false},                 // 2-D^T . 1-D
        {{2, 3}, {3, 4}, false, false},             // 2-D
        {{3, 2}, {3, 4}, true, false},              // transpose flags, each combination
        {{2, 3}, {4, 3}, false, true},              //
        {{3, 2}, {4, 3}, true, true},               //
        {{2, 1, 3, 4}, {5, 4, 2}, false, false},    // batched with broadcasting
        {{2, 1, 4, 3}, {5, 2, 4}, true, true},      //
        {{2, 1, 4, 3}, {1, 3, 4, 2}, true, false},  //
        {{3, 4}, {2, 4, 5}, false, false},          // 2-D . 3-D
        {{4, 3}, {2, 5, 4}, true, true},            //
        {{2, 3, 4}, {4, 5}, false, false},          // 3-D . 2-D (folded into one gemm)
        {{2, 3, 4}, {1, 5, 4}, false, true},        //
        {{2, 4, 3}, {4, 5}, true, false},           //
        {{4}, {2, 4, 3}, false, false},             // 1-D . 3-D
        {{2, 3, 4}, {4}, false, false},             // 3-D . 1-D
    };
    Generator gen(11);
    for (const auto& c : cases) {
        INFO("a " << shape_str(c.a) << " b " << shape_str(c.b) << " ta " << c.ta << " tb " << c.tb);
        Tensor a = randn(c.a, gen, TensorOptions{kFloat64, true});
        Tensor b = randn(c.b, gen, TensorOptions{kFloat64, true});
        const MatmulOptions opt{c.ta, c.tb};
        auto f = [opt](const TensorList& in) { return matmul(in[0], in[1], opt); };
        auto r = autograd::gradcheck(f, {a, b}, test::no_throw());
        INFO(r.report);
        CHECK(r.ok);
        CHECK(r.max_abs_error < 1e-6);
    }
}

TEST_CASE("matmul: gradgradcheck in float64", "[matmul]") {
    struct Case {
        Shape a, b;
        bool ta, tb;
    };
    const std::vector<Case> cases = {
        {{4}, {4}, false, false},
        {{4}, {4, 3}, false, false},
        {{3, 4}, {4}, false, false},
        {{2, 3}, {3, 4}, false, false},
        {{3, 2}, {3, 4}, true, false},
        {{2, 3}, {4, 3}, false, true},
        {{3, 2}, {4, 3}, true, true},
        {{2, 1, 3, 4}, {3, 4, 2}, false, false},
        {{2, 1, 4, 3}, {3, 2, 4}, true, true},
        {{3, 4}, {2, 4, 5}, false, false},
        {{4}, {2, 4, 3}, false, false},
        {{2, 3, 4}, {4, 5}, false, false},
        {{2, 3, 4}, {1, 5, 4}, false, true},
        {{2, 3, 4}, {4}, false, false},
    };
    Generator gen(13);
    for (const auto& c : cases) {
        INFO("a " << shape_str(c.a) << " b " << shape_str(c.b) << " ta " << c.ta << " tb " << c.tb);
        Tensor a = randn(c.a, gen, TensorOptions{kFloat64, true});
        Tensor b = randn(c.b, gen, TensorOptions{kFloat64, true});
        const MatmulOptions opt{c.ta, c.tb};
        // tanh makes the second derivative non-trivial (matmul alone is bilinear).
        auto f = [opt](const TensorList& in) { return tanh(matmul(in[0], in[1], opt)); };
        auto r = autograd::gradgradcheck(f, {a, b}, test::no_throw());
        INFO(r.report);
        CHECK(r.ok);
    }
}

TEST_CASE("matmul: Hessian-vector product through sigmoid", "[matmul]") {
    // f(x) = sum(sigmoid(W x)), Hv by double backward, against PyTorch and finite differences.
    const Tensor W = seq({3, 5}, 4);
    const Tensor v = seq({5}, 6);
    auto gradient = [&W](const Tensor& x, bool create_graph) {
        Tensor f = sigmoid(matmul(W, x)).sum();
        autograd::GradOptions o;
        o.create_graph = create_graph;
        return autograd::grad({f}, {x}, {}, o)[0];
    };
    Tensor x = seq({5}, 5, kFloat64, true);
    CHECK(sigmoid(matmul(W, x)).sum().item<double>() == Approx(1.625052473558886).epsilon(1e-14));
    Tensor g = gradient(x, true);
    REQUIRE(g.requires_grad());
    check_values(
        g,
        std::vector<double>{0.35368963781729634, 0.0077109487388208262, -0.33057128849277512,
                            0.087212087083931578, -0.25107015014766432},
        1e-14);
    Tensor hv = autograd::grad({g}, {x}, {v})[0];
    CHECK(hv.shape() == Shape{5});
    const std::vector<double> torch_hv = {0.082257037593425314, 0.021255877395257396,
                                          -0.10132696011890632, 0.036422686907345875,
                                          -0.086160150606817823};
    check_values(hv, torch_hv, 1e-14);

    const double eps = 1e-5;
    const std::vector<double> xv = x.to_vector<double>(), vv = v.to_vector<double>();
    std::vector<double> xp(5), xm(5);
    for (std::size_t i = 0; i < 5; ++i) {
        xp[i] = xv[i] + eps * vv[i];
        xm[i] = xv[i] - eps * vv[i];
    }
    const std::vector<double> gp =
        gradient(tensor(xp, TensorOptions{kFloat64, true}), false).to_vector<double>();
    const std::vector<double> gm =
        gradient(tensor(xm, TensorOptions{kFloat64, true}), false).to_vector<double>();
    const std::vector<double> hvv = hv.to_vector<double>();
    for (std::size_t i = 0; i < 5; ++i) {
        INFO("element " << i);
        CHECK(hvv[i] == Approx((gp[i] - gm[i]) / (2 * eps)).margin(1e-8));
    }
}

TEST_CASE("matmul: batch folding, unit batch dims and 1-D transpose flags", "[matmul]") {
    // [2,3,4] . [4,5] takes the one-gemm path, [2,3,4] . [1,4,5] and [1,1,4,5] too (unit
    // batch), [2,4,3]^T . [4,5] loops: all must agree with per-batch 2-D products.
    Tensor a = seq({2, 3, 4}, 1);
    Tensor b = seq({4, 5}, 2);
    Tensor ref = matmul(a, b);
    for (const Shape& bs : {Shape{1, 4, 5}, Shape{1, 1, 4, 5}}) {
        Tensor c = matmul(a, b.reshape(bs));
        CHECK(c.shape() == (bs.size() == 3 ? Shape{2, 3, 5} : Shape{1, 2, 3, 5}));
        check_values(c, ref.to_vector<double>(), 1e-12);
    }
    for (std::int64_t i = 0; i < 2; ++i)
        check_values(matmul(a.select(0, i), b), ref.select(0, i).to_vector<double>(), 1e-12);
    Tensor at = a.transpose(1, 2);  // [2,4,3], contiguous copy
    check_values(matmul(at, b, {true, false}), ref.to_vector<double>(), 1e-12);

    // Transpose flags on 1-D operands are ignored (as t() on a 1-D tensor).
    Tensor v = seq({4}, 3);
    check_values(matmul(v, b, {true, false}), matmul(v, b).to_vector<double>(), 0);
    check_values(matmul(b.t(), v, {false, true}), matmul(b.t(), v).to_vector<double>(), 0);
    CHECK(matmul(v, v, {true, true}).item<double>() == Approx(matmul(v, v).item<double>()));
    CHECK(matmul(v, v).dim() == 0);
}

TEST_CASE("matmul: empty inner dimension gives zeros, empty batch gives empty", "[matmul]") {
    Tensor a = zeros({2, 0});
    Tensor b = zeros({0, 3});
    Tensor c = matmul(a, b);
    CHECK(c.shape() == Shape{2, 3});
    check_values(c, std::vector<double>(6, 0.0), 0);
    Tensor e = matmul(zeros({0, 2, 3}), ones({3, 4}));
    CHECK(e.shape() == Shape{0, 2, 4});
    CHECK(e.numel() == 0);
    // Gradients through an empty batch: zeros for the shared matrix, empty for the batch.
    Tensor ea = zeros({0, 2, 3}, TensorOptions{kFloat64, true});
    Tensor eb = ones({3, 4}, TensorOptions{kFloat64, true});
    matmul(ea, eb).sum().backward();
    CHECK(ea.grad().shape() == Shape{0, 2, 3});
    CHECK(eb.grad().shape() == Shape{3, 4});
    check_values(eb.grad(), std::vector<double>(12, 0.0), 0);
}

TEST_CASE("matmul: gradient only for inputs that require it", "[matmul]") {
    Tensor a = seq({2, 3}, 1, kFloat64, true);
    Tensor b = seq({3, 4}, 2);
    Tensor c = matmul(a, b);
    REQUIRE(c.requires_grad());
    CHECK(std::string(c.grad_fn()->name()) == "MatmulBackward");
    c.sum().backward();
    CHECK(a.grad().defined());
    CHECK_FALSE(b.grad().defined());
    {
        NoGradGuard no_grad;
        CHECK_FALSE(matmul(a, b).requires_grad());
    }
}

TEST_CASE("matmul: errors name the op and the shapes", "[matmul]") {
    Tensor a23 = zeros({2, 3}), a45 = zeros({4, 5});
    CHECK_THROWS_AS(matmul(a23, a45), ShapeError);
    CHECK_THROWS_WITH(matmul(a23, a45), Catch::Contains("xgrad::matmul") &&
                                            Catch::Contains("[2, 3]") && Catch::Contains("[4, 5]"));
    // With flags the inner dims change: [2,3]^T . [2,5] works, [2,3] . [2,5] does not.
    CHECK(matmul(a23, zeros({2, 5}), {true, false}).shape() == Shape{3, 5});
    CHECK_THROWS_WITH(matmul(a23, zeros({2, 5})), Catch::Contains("inner dimensions 3 and 2"));
    CHECK_THROWS_WITH(matmul(a23, zeros({3, 5}), {false, true}),
                      Catch::Contains("xgrad::matmul") && Catch::Contains("transpose_b=true"));
    CHECK_THROWS_AS(matmul(zeros({3}), zeros({4})), ShapeError);
    CHECK_THROWS_WITH(matmul(zeros({3}), zeros({4})), Catch::Contains("xgrad::matmul") &&
                                                          Catch::Contains("[3]") &&
                                                          Catch::Contains("[4]"));
    // Non-broadcastable batch dims.
    CHECK_THROWS_AS(matmul(zeros({2, 3, 4}), zeros({3, 4, 5})), ShapeError);
    CHECK_THROWS_WITH(matmul(zeros({2, 3, 4}), zeros({3, 4, 5})),
                      Catch::Contains("xgrad::matmul") && Catch::Contains("do not broadcast") &&
                          Catch::Contains("[2, 3, 4]") && Catch::Contains("[3, 4, 5]"));
    // 0-d operands.
    CHECK_THROWS_AS(matmul(scalar_tensor(1.0), zeros({3})), ShapeError);
    CHECK_THROWS_WITH(matmul(zeros({3}), scalar_tensor(1.0)), Catch::Contains("xgrad::matmul"));
    // dtypes: mixed, integer, bool.
    CHECK_THROWS_AS(matmul(zeros({2, 3}), zeros({3, 2}, TensorOptions{kFloat64})), DtypeError);
    CHECK_THROWS_WITH(matmul(zeros({2, 3}), zeros({3, 2}, TensorOptions{kFloat64})),
                      Catch::Contains("xgrad::matmul") && Catch::Contains("float64"));
    Tensor i1 = zeros({2, 3}, TensorOptions{kInt64}), i2 = zeros({3, 2}, TensorOptions{kInt64});
    CHECK_THROWS_AS(matmul(i1, i2), DtypeError);
    CHECK_THROWS_WITH(matmul(i1, i2), Catch::Contains("xgrad::matmul") && Catch::Contains("int64"));
    CHECK_THROWS_AS(matmul(zeros({2}, TensorOptions{kBool}), zeros({2}, TensorOptions{kBool})),
                    DtypeError);
    CHECK_THROWS_AS(matmul(Tensor(), a23), ValueError);
}
