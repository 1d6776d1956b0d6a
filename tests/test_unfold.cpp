// unfold / fold (im2col / col2im): values against PyTorch, the adjoint identity, gradcheck and
// gradgradcheck with stride, padding and dilation, and the error paths.
//
// Reference numbers come from tests/reference/matmul_unfold_reference.py (torch 1.13), pasted
// here as literals. Inputs are seq(shape, s), a pattern the script computes identically.
#include <array>
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

double weighted_sum(const Tensor& t, int s) {
    return (t.to(kFloat64) * seq(t.shape(), s)).sum().item<double>();
}

}  // namespace

TEST_CASE("unfold/fold: values match PyTorch", "[unfold]") {
    struct Case {
        const char* name;
        Shape x;
        std::array<std::int64_t, 2> k, d, p, s;
        Shape cols;
        std::vector<double> unfolded;  // F.unfold(seq(x, 7))
        Shape folded_shape;
        std::vector<double> folded;  // F.fold(seq(cols, 8), x's H, W)
    };
    // Printed by tests/reference/matmul_unfold_reference.py.
    const std::vector<Case> cases = {
        {"k2x2_d1x2_p1x0_s2x1",
         {1, 2, 4, 5},
         {2, 2},
         {1, 2},
         {1, 0},
         {2, 1},
         {1, 8, 9},
         {0,     0,    0,     -0.5,  1.25,  -0.25, 0.75,  -0.75, 1,    0,    0,    0,
          -0.25, 1.5,  0,     1,     -0.5,  1.25,  0.5,   -1,    0.75, -1.5, 0.25, -1.25,
          0,     0,    0,     0.75,  -0.75, 1,     -1.25, 0.5,   -1,   0,    0,    0,
          0,     0,    0,     -1.25, 0.5,   -1,    0,     -1.5,  0.25, 0,    0,    0,
          -1,    0.75, -0.75, 0.25,  -1.25, 0.5,   -0.25, 1.5,   0,    1,    -0.5, 1.25,
          0,     0,    0,     0,     -1.5,  0.25,  1.25,  -0.25, 1.5,  0,    0,    0},
         {1, 2, 4, 5},
         {0.25,  -1.25, 0.25, 1.5,   0,    0,    -1.5, -0.25, 1.25, -0.25, -1,   0.75, -2.25, 0.25,
          -1.25, -1.25, 0.5,  0.5,   0,    -1.5, 1.5,  0,     -0.5, -0.5,  1.25, 1.25, -0.25, 2.25,
          -0.75, 1,     0.25, -1.25, 0.25, 1.5,  0,    0,     -1.5, -0.25, 1.25, -0.25}},
        {"k3x2_s2_p1",
         {2, 1, 5, 4},
         {3, 2},
         {1, 1},
         {1, 1},
         {2, 2},
         {2, 6, 9},
         {0,     0,     0,     0,     -0.5,  -0.25, 0,    0.5,   0.75,  0,     0,     0,
          1,     1.25,  0,     -1.25, -1,    0,     0,    -1,    -0.75, 0,     0,     0.25,
          0,     1,     1.25,  0.5,   0.75,  0,     1.5,  -1.5,  0,     -0.75, -0.5,  0,
          0,     -0.5,  -0.25, 0,     0.5,   0.75,  0,    0,     0,     1,     1.25,  0,
          -1.25, -1,    0,     0,     0,     0,     0,    0,     0,     0,     -1.25, -1,
          0,     -0.25, 0,     0,     0,     0,     0.25, 0.5,   0,     1.25,  1.5,   0,
          0,     1.5,   -1.5,  0,     -0.75, -0.5,  0,    0.25,  0.5,   -0.25, 0,     0,
          0.75,  1,     0,     -1.5,  -1.25, 0,     0,    -1.25, -1,    0,     -0.25, 0,
          0,     0,     0,     0.25,  0.5,   0,     1.25, 1.5,   0,     0,     0,     0},
         {2, 1, 5, 4},
         {-0.25, -1.25, 1.5, 0.5,  -1.75, -0.5, 1.75,  -0.25, -1.5, 0.75,  0.25,  -0.75, 2.25, 0.25,
          -0.75, 0.5,   0.5, -0.5, -1,    1.25, 0,     -1,    -1.5, 0.75,  -1.25, 0,     2.25, 0.25,
          -1.25, 1,     0.5, -0.5, -0.5,  0.75, -0.25, -2.25, 0.75, -0.25, -0.75, 1.5}},
        {"k1_plain",
         {1, 2, 2, 3},
         {1, 1},
         {1, 1},
         {0, 0},
         {1, 1},
         {1, 2, 6},
         {0.5, -1, 0.75, -0.75, 1, -0.5, 1.25, -0.25, 1.5, 0, -1.5, 0.25},
         {1, 2, 2, 3},
         {1.25, -0.25, 1.5, 0, -1.5, 0.25, -1.25, 0.5, -1, 0.75, -0.75, 1}},
    };
    for (const auto& c : cases)
        for (Dtype dt : {kFloat64, kFloat32}) {
            INFO("case " << c.name << ", " << dtype_name(dt));
            const UnfoldOptions o = test::window(c.k, c.d, c.p, c.s);
            Tensor u = unfold(seq(c.x, 7, dt), o);
            CHECK(u.dtype() == dt);
            CHECK(u.shape() == c.cols);
            check_values(u, c.unfolded, 0);
            Tensor f = fold(seq(c.cols, 8, dt), {c.x[2], c.x[3]}, o);
            CHECK(f.dtype() == dt);
            CHECK(f.shape() == c.folded_shape);
            check_values(f, c.folded, 1e-12);
        }
}

TEST_CASE("unfold/fold: a larger case by weighted sums", "[unfold]") {
    // x [2,3,7,6], kernel [3,2], dilation [2,1], padding [2,1], stride [1,2].
    const UnfoldOptions o = test::window({3, 2}, {2, 1}, {2, 1}, {1, 2});
    for (Dtype dt : {kFloat64, kFloat32}) {
        INFO(dtype_name(dt));
        Tensor u = unfold(seq({2, 3, 7, 6}, 7, dt), o);
        CHECK(u.shape() == Shape{2, 18, 28});
        CHECK(weighted_sum(u, 9) == Approx(5.6875).margin(1e-9));
        Tensor f = fold(seq(u.shape(), 8, dt), {7, 6}, o);
        CHECK(f.shape() == Shape{2, 3, 7, 6});
        CHECK(weighted_sum(f, 10) == Approx(1.875).margin(1e-9));
    }
}

TEST_CASE("unfold/fold: each is the other's adjoint", "[unfold]") {
    // <unfold(x), c> == <x, fold(c)> for random x and c.
    Generator gen(3);
    const std::vector<UnfoldOptions> opts = {
        test::window({3, 3}, {1, 1}, {1, 1}, {1, 1}), test::window({2, 3}, {2, 1}, {0, 2}, {2, 1}),
        test::window({1, 2}, {1, 3}, {1, 0}, {3, 2}), test::window({4, 4}, {1, 1}, {0, 0}, {4, 4})};
    for (const auto& o : opts) {
        INFO("kernel " << o.kernel_size[0] << "x" << o.kernel_size[1]);
        Tensor x = randn({2, 3, 8, 9}, gen, TensorOptions{kFloat64});
        Tensor u = unfold(x, o);
        Tensor c = randn(u.shape(), gen, TensorOptions{kFloat64});
        const double lhs = (u * c).sum().item<double>();
        const double rhs = (x * fold(c, {8, 9}, o)).sum().item<double>();
        CHECK(lhs == Approx(rhs).epsilon(1e-12));
        CHECK(lhs != 0.0);
    }
}

TEST_CASE("unfold/fold: gradcheck with stride, padding and dilation", "[unfold]") {
    const std::vector<UnfoldOptions> opts = {test::window({2, 2}, {1, 1}, {0, 0}, {1, 1}),
                                             test::window({2, 3}, {2, 1}, {1, 2}, {2, 1}),
                                             test::window({3, 2}, {1, 2}, {1, 1}, {2, 3})};
    Generator gen(5);
    for (const auto& o : opts) {
        INFO("kernel " << o.kernel_size[0] << "x" << o.kernel_size[1] << " stride " << o.stride[0]
                       << "x" << o.stride[1]);
        Tensor x = randn({2, 2, 5, 6}, gen, TensorOptions{kFloat64, true});
        auto fu = [o](const TensorList& in) { return unfold(in[0], o); };
        auto ru = autograd::gradcheck(fu, {x}, test::no_throw());
        INFO(ru.report);
        CHECK(ru.ok);
        Shape cols_shape;
        {
            NoGradGuard no_grad;
            cols_shape = unfold(x, o).shape();
        }
        Tensor c = randn(cols_shape, gen, TensorOptions{kFloat64, true});
        auto ff = [o](const TensorList& in) { return fold(in[0], {5, 6}, o); };
        auto rf = autograd::gradcheck(ff, {c}, test::no_throw());
        INFO(rf.report);
        CHECK(rf.ok);
        // Second order, through a non-linearity so that the double backward is not trivial.
        auto fu2 = [o](const TensorList& in) { return tanh(unfold(in[0], o)); };
        auto rg = autograd::gradgradcheck(fu2, {x}, test::no_throw());
        INFO(rg.report);
        CHECK(rg.ok);
        auto ff2 = [o](const TensorList& in) { return tanh(fold(in[0], {5, 6}, o)); };
        auto rg2 = autograd::gradgradcheck(ff2, {c}, test::no_throw());
        INFO(rg2.report);
        CHECK(rg2.ok);
    }
}

TEST_CASE("unfold/fold: backward nodes and gradient values", "[unfold]") {
    // With kernel 2x2 stride 1 on a 3x3 image every pixel is counted once per block covering it.
    const UnfoldOptions o = test::window({2, 2}, {1, 1}, {0, 0}, {1, 1});
    Tensor x = zeros({1, 1, 3, 3}, TensorOptions{kFloat64, true});
    Tensor u = unfold(x, o);
    REQUIRE(u.requires_grad());
    CHECK(std::string(u.grad_fn()->name()) == "UnfoldBackward");
    u.sum().backward();
    check_values(x.grad(), {1, 2, 1, 2, 4, 2, 1, 2, 1}, 0);
    Tensor c = zeros({1, 4, 4}, TensorOptions{kFloat64, true});
    Tensor f = fold(c, {3, 3}, o);
    CHECK(std::string(f.grad_fn()->name()) == "FoldBackward");
    (f * seq({1, 1, 3, 3}, 1)).sum().backward();
    CHECK(c.grad().shape() == Shape{1, 4, 4});
    check_values(c.grad(), unfold(seq({1, 1, 3, 3}, 1), o).to_vector<double>(), 0);
}

TEST_CASE("unfold/fold: errors name the op and the shapes", "[unfold]") {
    const UnfoldOptions o = test::window({2, 2}, {1, 1}, {0, 0}, {1, 1});
    // unfold needs a 4-D input.
    CHECK_THROWS_AS(unfold(zeros({2, 4, 5}), o), ShapeError);
    CHECK_THROWS_WITH(unfold(zeros({2, 4, 5}), o),
                      Catch::Contains("xgrad::unfold") && Catch::Contains("[2, 4, 5]"));
    // Non-positive kernel / stride / dilation, negative padding.
    CHECK_THROWS_AS(unfold(zeros({1, 1, 4, 4}), test::window({0, 2}, {1, 1}, {0, 0}, {1, 1})),
                    ValueError);
    CHECK_THROWS_WITH(unfold(zeros({1, 1, 4, 4}), test::window({0, 2}, {1, 1}, {0, 0}, {1, 1})),
                      Catch::Contains("xgrad::unfold") && Catch::Contains("kernel_size"));
    CHECK_THROWS_WITH(unfold(zeros({1, 1, 4, 4}), test::window({2, 2}, {1, 1}, {0, 0}, {1, 0})),
                      Catch::Contains("xgrad::unfold") && Catch::Contains("stride"));
    CHECK_THROWS_WITH(unfold(zeros({1, 1, 4, 4}), test::window({2, 2}, {0, 1}, {0, 0}, {1, 1})),
                      Catch::Contains("xgrad::unfold") && Catch::Contains("dilation"));
    CHECK_THROWS_WITH(unfold(zeros({1, 1, 4, 4}), test::window({2, 2}, {1, 1}, {0, -1}, {1, 1})),
                      Catch::Contains("xgrad::unfold") && Catch::Contains("padding"));
    // A (dilated) kernel larger than the padded image leaves no block.
    CHECK_THROWS_AS(unfold(zeros({1, 1, 4, 4}), test::window({3, 3}, {2, 2}, {0, 0}, {1, 1})),
                    ShapeError);
    CHECK_THROWS_WITH(unfold(zeros({1, 1, 4, 4}), test::window({3, 3}, {2, 2}, {0, 0}, {1, 1})),
                      Catch::Contains("xgrad::unfold") && Catch::Contains("[1, 1, 4, 4]"));
    // ... but padding can make it fit: 4 + 2*1 - 2*2 - 1 = 1 -> 2 blocks per side.
    CHECK(unfold(zeros({1, 1, 4, 4}), test::window({3, 3}, {2, 2}, {1, 1}, {1, 1})).shape() ==
          Shape{1, 9, 4});
    // Integer input.
    CHECK_THROWS_AS(unfold(zeros({1, 1, 4, 4}, TensorOptions{kInt64}), o), DtypeError);
    CHECK_THROWS_WITH(unfold(zeros({1, 1, 4, 4}, TensorOptions{kInt64}), o),
                      Catch::Contains("xgrad::unfold"));

    // fold: 3-D input, rows divisible by kh*kw, L matching the blocks of output_size.
    CHECK_THROWS_AS(fold(zeros({1, 4, 9, 1}), {4, 4}, o), ShapeError);
    CHECK_THROWS_WITH(fold(zeros({1, 4, 9, 1}), {4, 4}, o),
                      Catch::Contains("xgrad::fold") && Catch::Contains("[1, 4, 9, 1]"));
    CHECK_THROWS_AS(fold(zeros({1, 6, 9}), {4, 4}, o), ShapeError);
    CHECK_THROWS_WITH(fold(zeros({1, 6, 9}), {4, 4}, o), Catch::Contains("xgrad::fold") &&
                                                             Catch::Contains("[1, 6, 9]") &&
                                                             Catch::Contains("multiple"));
    CHECK_THROWS_AS(fold(zeros({1, 8, 8}), {4, 4}, o), ShapeError);
    CHECK_THROWS_WITH(fold(zeros({1, 8, 8}), {4, 4}, o), Catch::Contains("xgrad::fold") &&
                                                             Catch::Contains("[1, 8, 8]") &&
                                                             Catch::Contains("gives 9"));
    CHECK(fold(zeros({1, 8, 9}), {4, 4}, o).shape() == Shape{1, 2, 4, 4});
    CHECK_THROWS_AS(fold(zeros({1, 4, 1}), {0, 4}, o), ValueError);
    CHECK_THROWS_WITH(fold(zeros({1, 4, 1}), {1, 1}, o),
                      Catch::Contains("xgrad::fold") && Catch::Contains("no sliding blocks"));
    CHECK_THROWS_AS(fold(zeros({1, 4, 9}), {4, 4}, test::window({2, 2}, {1, 1}, {0, 0}, {0, 1})),
                    ValueError);
    CHECK_THROWS_AS(fold(zeros({1, 4, 9}, TensorOptions{kInt64}), {4, 4}, o), DtypeError);
    CHECK_THROWS_AS(unfold(Tensor(), o), ValueError);
}
