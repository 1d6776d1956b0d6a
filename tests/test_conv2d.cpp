// conv2d, conv2d_backward_input and conv2d_backward_weight: values, gradients and double
// backward against PyTorch; gradcheck and gradgradcheck in float64 (the unfold + matmul path);
// float32 (oneDNN) against float64 for forward, both adjoints and double backward over strides,
// padding, dilation, groups, non-square kernels, batch 1 and odd channel counts; error paths.
//
// Reference numbers come from tests/reference/conv2d_reference.py (torch 1.13), committed as
// tests/reference/conv2d_reference_data.hpp. Inputs are seq(shape, s), a pattern the script
// computes identically.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

#include "reference/conv2d_reference_data.hpp"
#include "test_helpers.hpp"

using namespace xgrad;

namespace {

using test::seq;

const conv2d_reference::Entry& reference_entry(const std::string& name) {
    for (const auto& e : conv2d_reference::kEntries)
        if (e.name == name) return e;
    FAIL("no reference entry " << name);
    throw;  // unreachable
}

// Shapes equal and every element within tol * max(1, largest |expected|).
void check_close(const Tensor& got, const Shape& shape, const std::vector<double>& expected,
                 double tol, const std::string& what) {
    INFO(what);
    REQUIRE(got.defined());
    REQUIRE(shape_str(got.shape()) == shape_str(shape));
    const std::vector<double> g = got.to_vector<double>();
    REQUIRE(g.size() == expected.size());
    double scale = 1.0;
    for (double e : expected) scale = std::max(scale, std::fabs(e));
    double worst = 0.0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
        const double err = std::fabs(g[i] - expected[i]);
        if (!(err <= worst)) {  // NaN counts as the worst
            worst = std::isnan(err) ? INFINITY : err;
            at = i;
        }
    }
    INFO("worst element " << at << ": got " << g[at] << ", expected " << expected[at] << " (scale "
                          << scale << ")");
    CHECK(worst <= tol * scale);
}

void check_close(const Tensor& got, const Tensor& expected, double tol, const std::string& what) {
    check_close(got, expected.shape(), expected.to_vector<double>(), tol, what);
}

Conv2dOptions conv_options(std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding,
                           std::array<std::int64_t, 2> dilation, std::int64_t groups) {
    Conv2dOptions o;
    o.stride = stride;
    o.padding = padding;
    o.dilation = dilation;
    o.groups = groups;
    return o;
}

// Everything one case computes: the output, first gradients for the output gradient v, and the
// gradients of s = sum(gx * cx) + sum(gw * cw) with respect to x, w and v (double backward).
struct Results {
    Tensor y, gx, gw, gb, ggx, ggw, ggv;
};

Results run_case(const Tensor& x0, const Tensor& w0, const Tensor& b0, const Tensor& v0,
                 const Tensor& cx, const Tensor& cw, const Conv2dOptions& o) {
    Tensor x = x0.detach().requires_grad_();
    Tensor w = w0.detach().requires_grad_();
    Tensor b = b0.defined() ? b0.detach().requires_grad_() : Tensor();
    Tensor v = v0.detach().requires_grad_();
    Results r;
    r.y = conv2d(x, w, b, o);
    TensorList wrt{x, w};
    if (b.defined()) wrt.push_back(b);
    autograd::GradOptions go;
    go.create_graph = true;
    const TensorList g = autograd::grad({(r.y * v).sum()}, wrt, {}, go);
    r.gx = g[0];
    r.gw = g[1];
    if (b.defined()) r.gb = g[2];
    const Tensor s = (r.gx * cx).sum() + (r.gw * cw).sum();
    autograd::GradOptions go2;
    go2.allow_unused = true;
    const TensorList gg = autograd::grad({s}, {x, w, v}, {}, go2);
    r.ggx = gg[0].defined() ? gg[0] : zeros_like(x);
    r.ggw = gg[1];
    r.ggv = gg[2];
    return r;
}

struct Case {
    const char* name;
    Shape x, w;
    bool bias;
    Conv2dOptions o;
};

std::vector<Case> cases() {
    return {
        {"3x3 plain", {2, 3, 8, 8}, {4, 3, 3, 3}, true, conv_options({1, 1}, {0, 0}, {1, 1}, 1)},
        {"batch 1, 3x2 kernel, stride (2, 1), odd channels",
         {1, 5, 9, 7},
         {7, 5, 3, 2},
         true,
         conv_options({2, 1}, {1, 0}, {1, 1}, 1)},
        {"groups 3, dilation (2, 1)",
         {1, 6, 6, 5},
         {9, 2, 3, 3},
         true,
         conv_options({1, 1}, {2, 1}, {2, 1}, 3)},
        {"depthwise, stride 2, padding 1, no bias",
         {3, 4, 6, 6},
         {4, 1, 3, 3},
         false,
         conv_options({2, 2}, {1, 1}, {1, 1}, 4)},
        {"1x4 kernel, stride (3, 2), dilation (1, 3)",
         {2, 3, 7, 11},
         {5, 3, 1, 4},
         false,
         conv_options({3, 2}, {0, 3}, {1, 3}, 1)},
        {"LeNet first layer",
         {2, 1, 28, 28},
         {6, 1, 5, 5},
         true,
         conv_options({1, 1}, {0, 0}, {1, 1}, 1)},
        {"stride 3 leaves the last rows unused",
         {1, 2, 8, 8},
         {2, 2, 3, 3},
         true,
         conv_options({3, 3}, {0, 0}, {1, 1}, 1)},
        {"kernel wider than the image, padding 2",
         {2, 2, 3, 3},
         {3, 2, 4, 4},
         true,
         conv_options({1, 1}, {2, 2}, {1, 1}, 1)},
        {"groups 2, 16 channels, 5x5 padding 2",
         {2, 16, 12, 12},
         {10, 8, 5, 5},
         true,
         conv_options({1, 1}, {2, 2}, {1, 1}, 2)},
    };
}

void expect_message(const std::function<void()>& f, const std::vector<std::string>& parts) {
    try {
        f();
        FAIL("no exception");
    } catch (const Error& e) {
        const std::string msg = e.what();
        INFO(msg);
        for (const std::string& p : parts) CHECK(msg.find(p) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("conv2d: values, gradients and double backward match PyTorch", "[conv]") {
    struct Spec {
        const char* name;
        Shape x, w;
        bool bias;
        Conv2dOptions o;
    };
    // The cases of tests/reference/conv2d_reference.py.
    const std::vector<Spec> specs = {
        {"grouped", {2, 4, 7, 6}, {6, 2, 3, 2}, true, conv_options({2, 1}, {1, 2}, {1, 2}, 2)},
        {"dilated_nobias",
         {1, 3, 5, 5},
         {5, 3, 2, 3},
         false,
         conv_options({1, 1}, {0, 1}, {2, 1}, 1)},
    };
    for (const Spec& sp : specs) {
        for (Dtype dtype : {kFloat64, kFloat32}) {
            const std::string name = std::string(sp.name) + " " + dtype_name(dtype);
            SECTION(name) {
                const double tol = dtype == kFloat64 ? 1e-12 : 2e-6;
                const Tensor b = sp.bias ? seq({sp.w[0]}, 3, dtype) : Tensor();
                const Tensor y0 = conv2d(seq(sp.x, 1, dtype), seq(sp.w, 2, dtype), b, sp.o);
                const Results r =
                    run_case(seq(sp.x, 1, dtype), seq(sp.w, 2, dtype), b, seq(y0.shape(), 9, dtype),
                             seq(sp.x, 5, dtype), seq(sp.w, 6, dtype), sp.o);
                auto check = [&](const Tensor& t, const char* key) {
                    const auto& e = reference_entry(std::string(sp.name) + "." + key);
                    check_close(t, e.shape, e.values, tol, name + " " + key);
                };
                check(r.y, "y");
                check(r.gx, "gx");
                check(r.gw, "gw");
                if (sp.bias) check(r.gb, "gb");
                check(r.ggx, "ggx");
                check(r.ggw, "ggw");
                check(r.ggv, "ggv");
            }
        }
    }
}

TEST_CASE("conv2d: float32 (oneDNN) matches float64 (unfold + matmul), gradients of two orders",
          "[conv]") {
    for (const Case& c : cases()) {
        SECTION(c.name) {
            manual_seed(7);
            const Tensor x = randn(c.x, {kFloat64});
            const Tensor w = randn(c.w, {kFloat64});
            const Tensor b = c.bias ? randn({c.w[0]}, {kFloat64}) : Tensor();
            const Tensor y_shape_probe = conv2d(x, w, b, c.o);
            const Tensor v = randn(y_shape_probe.shape(), {kFloat64});
            const Tensor cx = randn(c.x, {kFloat64});
            const Tensor cw = randn(c.w, {kFloat64});
            const Results r64 = run_case(x, w, b, v, cx, cw, c.o);
            auto f32 = [](const Tensor& t) { return t.defined() ? t.to(kFloat32) : Tensor(); };
            const Results r32 = run_case(f32(x), f32(w), f32(b), f32(v), f32(cx), f32(cw), c.o);
            REQUIRE(r32.y.dtype() == kFloat32);
            // Sums of up to a few hundred float32 products of O(1) values.
            const double tol = 2e-5;
            check_close(r32.y, r64.y, tol, "forward");
            check_close(r32.gx, r64.gx, tol, "backward input");
            check_close(r32.gw, r64.gw, tol, "backward weight");
            if (c.bias) check_close(r32.gb, r64.gb, tol, "bias gradient");
            check_close(r32.ggx, r64.ggx, tol, "double backward: x");
            check_close(r32.ggw, r64.ggw, tol, "double backward: w");
            check_close(r32.ggv, r64.ggv, tol, "double backward: grad_output");

            // The adjoints as ops of their own, against each other in float64: <Bi(v, w), h> ==
            // <v, conv(h, w)> and <Bw(v, x), k> == <v, conv(x, k)>.
            const Tensor bi = conv2d_backward_input(f32(v), f32(w), c.x, c.o);
            const Tensor bw = conv2d_backward_weight(f32(v), f32(x), c.w, c.o);
            check_close(bi, r64.gx, tol, "conv2d_backward_input op");
            check_close(bw, r64.gw, tol, "conv2d_backward_weight op");
            const double lhs = (conv2d_backward_input(v, w, c.x, c.o) * cx).sum().item<double>();
            const double rhs = (v * conv2d(cx, w, Tensor(), c.o)).sum().item<double>();
            CHECK(lhs == Approx(rhs).epsilon(1e-10));
        }
    }
}

TEST_CASE("conv2d: gradcheck and gradgradcheck in float64", "[conv]") {
    const auto o = test::no_throw();
    for (const Case& c : cases()) {
        // The 28x28 and 16-channel cases are covered by the float32 comparison; here the
        // finite differences would take too long.
        if (shape_numel(c.x) > 500) continue;
        SECTION(c.name) {
            manual_seed(3);
            const Tensor x = randn(c.x, {kFloat64, true});
            const Tensor w = randn(c.w, {kFloat64, true});
            const Tensor b = c.bias ? randn({c.w[0]}, {kFloat64, true}) : Tensor();
            const Conv2dOptions opts = c.o;
            TensorList inputs{x, w};
            if (c.bias) inputs.push_back(b);
            const autograd::TensorFunction f = [opts](const TensorList& in) {
                return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), opts);
            };
            const auto r1 = autograd::gradcheck(f, inputs, o);
            INFO(r1.report);
            CHECK(r1.ok);
            const auto r2 = autograd::gradgradcheck(f, inputs, o);
            INFO(r2.report);
            CHECK(r2.ok);

            // The two adjoints, each as a function of both its tensor arguments.
            Tensor g = randn(conv2d(x, w, Tensor(), opts).shape(), {kFloat64, true});
            const Shape xs = c.x, ws = c.w;
            const autograd::TensorFunction bi = [opts, xs](const TensorList& in) {
                return conv2d_backward_input(in[0], in[1], xs, opts);
            };
            const autograd::TensorFunction bw = [opts, ws](const TensorList& in) {
                return conv2d_backward_weight(in[0], in[1], ws, opts);
            };
            for (const auto& [fn, args, what] :
                 {std::make_tuple(bi, TensorList{g, w}, "backward_input"),
                  std::make_tuple(bw, TensorList{g, x}, "backward_weight")}) {
                INFO(what);
                const auto a = autograd::gradcheck(fn, args, o);
                INFO(a.report);
                CHECK(a.ok);
                const auto aa = autograd::gradgradcheck(fn, args, o);
                INFO(aa.report);
                CHECK(aa.ok);
            }
        }
    }
}

TEST_CASE("conv2d: nn::Conv2d in float32 and float64 agree, biasless and grouped", "[conv]") {
    manual_seed(11);
    nn::Conv2d conv(6, 9, {3, 2},
                    {.stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}, .groups = 3});
    nn::Conv2d no_bias(6, 4, 3, {.padding = 1, .bias = false});
    const Tensor x = randn({2, 6, 9, 8});
    for (nn::Conv2d* m : {&conv, &no_bias}) {
        Tensor x32 = x.detach().requires_grad_();
        (*m)(x32).pow(2.0).sum().backward();
        const Tensor gx32 = x32.grad(), gw32 = m->weight.grad();
        m->zero_grad();
        m->to(kFloat64);
        Tensor x64 = x.to(kFloat64).requires_grad_();
        (*m)(x64).pow(2.0).sum().backward();
        check_close(gx32, x64.grad(), 1e-5, "input gradient");
        check_close(gw32, m->weight.grad(), 1e-5, "weight gradient");
        m->zero_grad();
    }
}

TEST_CASE("conv2d: an empty batch gives an empty output and zero weight gradients", "[conv]") {
    for (Dtype dtype : {kFloat32, kFloat64}) {
        Tensor x = zeros({0, 3, 5, 5}, {dtype, true});
        Tensor w = ones({4, 3, 3, 3}, {dtype, true});
        Tensor b = ones({4}, {dtype, true});
        Tensor y = conv2d(x, w, b);
        CHECK(shape_str(y.shape()) == "[0, 4, 3, 3]");
        y.sum().backward();
        CHECK(shape_str(x.grad().shape()) == "[0, 3, 5, 5]");
        CHECK(w.grad().abs().sum().item<double>() == 0.0);
        CHECK(b.grad().abs().sum().item<double>() == 0.0);
    }
}

TEST_CASE("conv2d: bad shapes, groups and dtypes throw errors naming the op and the shapes",
          "[conv]") {
    const Tensor x = zeros({1, 4, 5, 5});
    const Tensor w = zeros({6, 2, 3, 3});
    SECTION("shapes") {
        expect_message(
            [&] {
                conv2d(zeros({4, 5, 5}), w, Tensor(), conv_options({1, 1}, {0, 0}, {1, 1}, 2));
            },
            {"conv2d", "4-D input", "[4, 5, 5]", "[6, 2, 3, 3]"});
        CHECK_THROWS_AS(conv2d(x, zeros({6, 2, 3})), ShapeError);
        expect_message([&] { conv2d(x, w); },  // groups 1: the weight takes 2 channels, not 4
                       {"conv2d", "[1, 4, 5, 5]", "[6, 2, 3, 3]", "2 input channels per group"});
        CHECK_THROWS_AS(conv2d(x, w), ShapeError);
        expect_message(
            [&] {
                conv2d(x, zeros({6, 4, 7, 3}));
            },
            {"conv2d", "too small", "[1, 4, 5, 5]", "[6, 4, 7, 3]"});
        expect_message(
            [&] {
                conv2d(x, zeros({6, 4, 3, 3}), zeros({5}));
            },
            {"conv2d", "bias shape [5]", "[1, 4, 5, 5]"});
        CHECK_THROWS_AS(conv2d(x, zeros({6, 4, 3, 3}), zeros({5})), ShapeError);
    }
    SECTION("groups") {
        expect_message(
            [&] {
                conv2d(x, zeros({6, 1, 3, 3}), Tensor(), conv_options({1, 1}, {0, 0}, {1, 1}, 3));
            },
            {"conv2d", "groups (3)", "[1, 4, 5, 5]", "[6, 1, 3, 3]"});
        CHECK_THROWS_AS(
            conv2d(x, zeros({6, 1, 3, 3}), Tensor(), conv_options({1, 1}, {0, 0}, {1, 1}, 3)),
            ValueError);
        CHECK_THROWS_AS(
            conv2d(x, zeros({6, 1, 3, 3}), Tensor(), conv_options({1, 1}, {0, 0}, {1, 1}, 0)),
            ValueError);
        CHECK_THROWS_AS(
            conv2d(x, zeros({5, 2, 3, 3}), Tensor(), conv_options({1, 1}, {0, 0}, {1, 1}, 2)),
            ValueError);  // 5 output channels in 2 groups
    }
    SECTION("options") {
        expect_message(
            [&] {
                conv2d(x, zeros({6, 4, 3, 3}), Tensor(), conv_options({0, 1}, {0, 0}, {1, 1}, 1));
            },
            {"conv2d", "stride", "[0, 1]"});
        CHECK_THROWS_AS(
            conv2d(x, zeros({6, 4, 3, 3}), Tensor(), conv_options({1, 1}, {-1, 0}, {1, 1}, 1)),
            ValueError);
        CHECK_THROWS_AS(
            conv2d(x, zeros({6, 4, 3, 3}), Tensor(), conv_options({1, 1}, {0, 0}, {1, 0}, 1)),
            ValueError);
    }
    SECTION("dtypes") {
        expect_message(
            [&] {
                conv2d(x, zeros({6, 4, 3, 3}, {kFloat64}));
            },
            {"conv2d", "float32", "float64", "[1, 4, 5, 5]", "[6, 4, 3, 3]"});
        CHECK_THROWS_AS(conv2d(x, zeros({6, 4, 3, 3}, {kFloat64})), DtypeError);
        CHECK_THROWS_AS(conv2d(x, zeros({6, 4, 3, 3}), zeros({6}, {kFloat64})), DtypeError);
        CHECK_THROWS_AS(conv2d(zeros({1, 4, 5, 5}, {kInt64}), zeros({6, 4, 3, 3}, {kInt64})),
                        DtypeError);
        CHECK_THROWS_AS(conv2d(Tensor(), w), ValueError);
    }
    SECTION("adjoints") {
        const Tensor w4 = zeros({6, 4, 3, 3});
        expect_message(
            [&] {
                conv2d_backward_input(zeros({1, 6, 3, 4}), w4, {1, 4, 5, 5});
            },
            {"conv2d_backward_input", "[1, 6, 3, 4]", "[1, 6, 3, 3]", "[1, 4, 5, 5]"});
        CHECK_THROWS_AS(conv2d_backward_input(zeros({1, 6, 3, 4}), w4, {1, 4, 5, 5}), ShapeError);
        expect_message(
            [&] {
                conv2d_backward_weight(zeros({1, 6, 3, 3}), x, {6, 4, 3});
            },
            {"conv2d_backward_weight", "[6, 4, 3]"});
        CHECK_THROWS_AS(conv2d_backward_weight(zeros({1, 6, 3, 3}, {kFloat64}), x, {6, 4, 3, 3}),
                        DtypeError);
        CHECK_THROWS_AS(conv2d_backward_input(zeros({1, 6, 3, 3}), w4, {1, 4, -5, 5}), ValueError);
    }
}
