// autograd::functional (vjp, jvp, jacobian, hessian, hvp, vhp): against central finite
// differences, differentiability of create_graph results (gradcheck), zeros and strict mode for
// unused inputs, error messages, and torch.autograd.functional numbers
// (tests/reference/functional_reference.py).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>
#include <string>
#include <xgrad/autograd/functional.hpp>
#include <xgrad/xgrad.hpp>

#include "reference/functional_reference_data.hpp"

using namespace xgrad;
namespace fn = xgrad::autograd::functional;

namespace {

Tensor ref(const std::string& name) {
    for (const auto& e : functional_reference::kEntries)
        if (e.name == name) return tensor(e.values, e.shape, {kFloat64});
    throw std::runtime_error("no reference entry " + name);
}

// The functions of functional_reference.py, op for op.
TensorList f_multi(const TensorList& in) {
    const Tensor& x = in[0];
    const Tensor& w = in[1];
    const Tensor& b = in[2];
    Tensor h = tanh(matmul(x, w) + b);  // b broadcast over the rows
    Tensor r = (x * x.sin()).logsumexp({1}) + (x.exp() * w.t()).sum({1});
    return {h, r};
}
Tensor s_multi(const TensorList& in) {
    const Tensor& x = in[0];
    const Tensor& w = in[1];
    const Tensor& b = in[2];
    return tanh(matmul(x, w) + b).pow(2.0).sum() + (x.exp() * x).mean() +
           w.logsumexp({0}).sum() * b.sum();
}
Tensor g_unary(const Tensor& u) {
    return u.sin() * u.pow(3.0) + u.exp().sum();
}
Tensor s_unary(const Tensor& u) {
    return (u.sin() * u.pow(3.0)).sum() + u.exp().mean();
}

TensorList inputs_multi() {
    return {ref("x"), ref("w"), ref("b")};
}
TensorList v_outputs() {
    return {ref("v_h"), ref("v_r")};
}
TensorList v_inputs() {
    return {ref("v_x"), ref("v_w"), ref("v_b")};
}

// |actual - expected| <= atol + rtol |expected| everywhere, and the same shape; reports the
// worst element.
void check_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-6,
                 double atol = 1e-7) {
    REQUIRE(actual.defined());
    REQUIRE(actual.shape() == expected.shape());
    const auto a = actual.to_vector<double>();
    const auto e = expected.to_vector<double>();
    double worst = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double excess = std::abs(a[i] - e[i]) - (atol + rtol * std::abs(e[i]));
        if (!(excess <= worst)) worst = std::isnan(excess) ? INFINITY : excess, at = i;
    }
    INFO("element " << at << ": " << (a.empty() ? 0 : a[at]) << " vs " << (e.empty() ? 0 : e[at]));
    CHECK(worst <= 0);
}

bool all_zero(const Tensor& t) {
    const auto v = t.to_vector<double>();
    return std::all_of(v.begin(), v.end(), [](double x) { return x == 0; });
}

Shape cat(const Shape& a, const Shape& b) {
    Shape s = a;
    s.insert(s.end(), b.begin(), b.end());
    return s;
}

// Central differences: result[i][j] = d out_i / d in_j, shaped out_i.shape + in_j.shape like
// functional::jacobian. Independent of functional (and of the tape).
std::vector<TensorList> numeric_jacobian(const fn::ListFunction& f, const TensorList& inputs,
                                         double eps = 1e-6) {
    NoGradGuard no_grad;
    TensorList x;
    for (const Tensor& t : inputs) x.push_back(t.detach().clone());
    const TensorList out = f(x);
    std::vector<std::vector<std::vector<double>>> cols(out.size(),
                                                       std::vector<std::vector<double>>(x.size()));
    for (std::size_t i = 0; i < out.size(); ++i)
        for (std::size_t j = 0; j < x.size(); ++j)
            cols[i][j].assign(static_cast<std::size_t>(out[i].numel() * x[j].numel()), 0.0);
    for (std::size_t j = 0; j < x.size(); ++j) {
        double* p = x[j].data_ptr<double>();
        const std::int64_t n = x[j].numel();
        for (std::int64_t k = 0; k < n; ++k) {
            const double orig = p[k];
            p[k] = orig + eps;
            const TensorList plus = f(x);
            p[k] = orig - eps;
            const TensorList minus = f(x);
            p[k] = orig;
            for (std::size_t i = 0; i < out.size(); ++i) {
                const auto d = ((plus[i] - minus[i]) / (2 * eps)).to_vector<double>();
                for (std::size_t m = 0; m < d.size(); ++m) cols[i][j][m * n + k] = d[m];
            }
        }
    }
    std::vector<TensorList> jac(out.size());
    for (std::size_t i = 0; i < out.size(); ++i)
        for (std::size_t j = 0; j < x.size(); ++j)
            jac[i].push_back(tensor(cols[i][j], cat(out[i].shape(), x[j].shape()), {kFloat64}));
    return jac;
}

// The Hessian as central differences of the tape's gradient (autograd::grad, not functional).
std::vector<TensorList> numeric_hessian(const fn::ScalarFunction& s, const TensorList& inputs) {
    auto gradient = [&s](const TensorList& x) {
        AutoGradMode enable(true);
        TensorList leaves;
        for (const Tensor& t : x) leaves.push_back(t.detach().requires_grad_());
        TensorList g = autograd::grad({s(leaves)}, leaves, {}, {.allow_unused = true});
        for (std::size_t i = 0; i < g.size(); ++i)
            if (!g[i].defined()) g[i] = zeros_like(x[i]);
        return g;
    };
    return numeric_jacobian(gradient, inputs);
}

// sum_i over the first operand's dims: J [a.shape + b.shape] contracted with v (shaped a) -> b.
Tensor v_times(const Tensor& v, const Tensor& jac) {
    return matmul(v.reshape({1, -1}), jac.reshape({v.numel(), -1}))
        .reshape(Shape(jac.shape().begin() + v.dim(), jac.shape().end()));
}
// J [a.shape + b.shape] times v (shaped b) -> a.
Tensor times_v(const Tensor& jac, const Tensor& v) {
    return matmul(jac.reshape({-1, v.numel()}), v.reshape({-1, 1}))
        .reshape(Shape(jac.shape().begin(), jac.shape().end() - v.dim()));
}

TensorList requiring_grad(const TensorList& ts) {
    TensorList r;
    for (const Tensor& t : ts) r.push_back(t.detach().clone().requires_grad_());
    return r;
}

}  // namespace

TEST_CASE(
    "vjp, jvp and jacobian of a function of several inputs and outputs match finite "
    "differences",
    "[functional]") {
    const TensorList in = inputs_multi();
    const TensorList vo = v_outputs();
    const TensorList vi = v_inputs();
    const std::vector<TensorList> fd = numeric_jacobian(f_multi, in);

    const std::vector<TensorList> jac = fn::jacobian(f_multi, in);
    REQUIRE(jac.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        REQUIRE(jac[i].size() == 3);
        for (std::size_t j = 0; j < 3; ++j) {
            INFO("output " << i << ", input " << j);
            CHECK(jac[i][j].shape() == cat(f_multi(in)[i].shape(), in[j].shape()));
            check_close(jac[i][j], fd[i][j]);
            CHECK_FALSE(jac[i][j].requires_grad());
        }
    }

    const fn::VjpResult r = fn::vjp(f_multi, in, vo);
    REQUIRE(r.outputs.size() == 2);
    REQUIRE(r.vjp.size() == 3);
    for (std::size_t i = 0; i < 2; ++i) check_close(r.outputs[i], f_multi(in)[i], 0, 0);
    for (std::size_t j = 0; j < 3; ++j) {
        INFO("input " << j);
        check_close(r.vjp[j], v_times(vo[0], fd[0][j]) + v_times(vo[1], fd[1][j]));
        CHECK_FALSE(r.vjp[j].requires_grad());
    }

    const fn::JvpResult t = fn::jvp(f_multi, in, vi);
    REQUIRE(t.jvp.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        INFO("output " << i);
        check_close(t.outputs[i], f_multi(in)[i], 0, 0);
        check_close(t.jvp[i],
                    times_v(fd[i][0], vi[0]) + times_v(fd[i][1], vi[1]) + times_v(fd[i][2], vi[2]));
        CHECK_FALSE(t.jvp[i].requires_grad());
        CHECK_FALSE(t.outputs[i].requires_grad());
    }
}

TEST_CASE("single-tensor forms, and v omitted for a single-element output or input",
          "[functional]") {
    const Tensor u = ref("u");
    const Tensor vu = ref("v_u");
    auto list_g = [](const TensorList& x) { return TensorList{g_unary(x[0])}; };
    const Tensor fd = numeric_jacobian(list_g, {u})[0][0];

    const Tensor jac = fn::jacobian(g_unary, u);
    CHECK(jac.shape() == Shape{4, 4});
    check_close(jac, fd);

    const fn::TensorVjpResult r = fn::vjp(g_unary, u, vu);
    check_close(r.output, g_unary(u), 0, 0);
    check_close(r.vjp, v_times(vu, fd));
    const fn::TensorJvpResult t = fn::jvp(g_unary, u, vu);
    check_close(t.output, g_unary(u), 0, 0);
    check_close(t.jvp, times_v(fd, vu));

    // A scalar output: v defaults to 1 and vjp is the gradient.
    auto list_s = [](const TensorList& x) { return TensorList{s_unary(x[0])}; };
    const fn::TensorVjpResult g = fn::vjp(s_unary, u);
    check_close(g.vjp, numeric_jacobian(list_s, {u})[0][0]);

    // A single-element input: v defaults to 1 and jvp is the derivative.
    const Tensor c = tensor({0.5, -1.0, 2.0}, {kFloat64});
    auto curve = [&c](const Tensor& s) { return (c * s).sin(); };
    const Tensor s0 = tensor({0.3}, {kFloat64});
    const fn::TensorJvpResult d = fn::jvp(curve, s0);
    check_close(d.jvp, c * (c * 0.3).cos());

    // The identity returns its (prepared) input itself: J = I, vjp = jvp = v, and the Hessian
    // of x.x / 2 is I.
    auto identity = [](const Tensor& z) { return z; };
    check_close(fn::jacobian(identity, u), eye(4, -1, {kFloat64}), 0, 0);
    check_close(fn::vjp(identity, u, vu).vjp, vu, 0, 0);
    check_close(fn::jvp(identity, u, vu).jvp, vu, 0, 0);
    auto half_square = [](const Tensor& z) { return (z * z).sum() * 0.5; };
    check_close(fn::hessian(half_square, u), eye(4, -1, {kFloat64}), 0, 0);
    check_close(fn::hvp(half_square, u, vu).hvp, vu, 0, 0);
}

TEST_CASE("hessian, hvp and vhp match finite differences of the gradient", "[functional]") {
    const TensorList in = inputs_multi();
    const TensorList vi = v_inputs();
    const std::vector<TensorList> fd = numeric_hessian(s_multi, in);

    const std::vector<TensorList> h = fn::hessian(s_multi, in);
    REQUIRE(h.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        REQUIRE(h[i].size() == 3);
        for (std::size_t j = 0; j < 3; ++j) {
            INFO("inputs " << i << ", " << j);
            CHECK(h[i][j].shape() == cat(in[i].shape(), in[j].shape()));
            check_close(h[i][j], fd[i][j], 1e-5, 1e-6);
        }
    }

    const fn::HvpResult hv = fn::hvp(s_multi, in, vi);
    const fn::VhpResult vh = fn::vhp(s_multi, in, vi);
    check_close(hv.output, s_multi(in), 0, 0);
    check_close(vh.output, s_multi(in), 0, 0);
    REQUIRE(hv.hvp.size() == 3);
    REQUIRE(vh.vhp.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        INFO("input " << i);
        check_close(hv.hvp[i],
                    times_v(fd[i][0], vi[0]) + times_v(fd[i][1], vi[1]) + times_v(fd[i][2], vi[2]),
                    1e-5, 1e-6);
        check_close(vh.vhp[i],
                    v_times(vi[0], fd[0][i]) + v_times(vi[1], fd[1][i]) + v_times(vi[2], fd[2][i]),
                    1e-5, 1e-6);
        CHECK_FALSE(hv.hvp[i].requires_grad());
        CHECK_FALSE(vh.vhp[i].requires_grad());
    }

    const Tensor u = ref("u");
    const Tensor vu = ref("v_u");
    auto list_s = [](const TensorList& x) { return s_unary(x[0]); };
    const Tensor fdu = numeric_hessian(list_s, {u})[0][0];
    const Tensor hu = fn::hessian(s_unary, u);
    check_close(hu, fdu, 1e-5, 1e-6);
    check_close(hu, hu.t(), 1e-12, 1e-12);
    check_close(fn::hvp(s_unary, u, vu).hvp, times_v(fdu, vu), 1e-5, 1e-6);
    check_close(fn::vhp(s_unary, u, vu).vhp, v_times(vu, fdu), 1e-5, 1e-6);
    // A single-element input: v defaults to 1 and hvp is f''(s) = (s^3 sin s)'' + e^s.
    const double s = 0.7;
    const double f2 =
        6 * s * std::sin(s) + 6 * s * s * std::cos(s) - s * s * s * std::sin(s) + std::exp(s);
    check_close(fn::hvp(s_unary, tensor({s}, {kFloat64})).hvp, tensor({f2}, {kFloat64}));
}

TEST_CASE("create_graph results are differentiable with respect to the original inputs",
          "[functional]") {
    const TensorList in = requiring_grad(inputs_multi());
    const TensorList vo = requiring_grad(v_outputs());
    const TensorList vi = requiring_grad(v_inputs());
    fn::FunctionalOptions cg{.create_graph = true};

    // gradcheck differentiates each result by the tape with respect to its leaves and compares
    // with finite differences of the result itself; v is differentiated too.
    auto vjp_fn = [&cg](const TensorList& z) {
        return fn::vjp(f_multi, {z[0], z[1], z[2]}, {z[3], z[4]}, cg).vjp[1];
    };
    CHECK(autograd::gradcheck(vjp_fn, {in[0], in[1], in[2], vo[0], vo[1]}).ok);
    auto jvp_fn = [&cg](const TensorList& z) {
        return fn::jvp(f_multi, {z[0], z[1], z[2]}, {z[3], z[4], z[5]}, cg).jvp[0];
    };
    CHECK(autograd::gradcheck(jvp_fn, {in[0], in[1], in[2], vi[0], vi[1], vi[2]}).ok);
    auto jac_fn = [&cg](const TensorList& z) { return fn::jacobian(f_multi, z, cg)[1][0]; };
    CHECK(autograd::gradcheck(jac_fn, in).ok);
    auto hvp_fn = [&cg](const TensorList& z) {
        return fn::hvp(s_multi, {z[0], z[1], z[2]}, {z[3], z[4], z[5]}, cg).hvp[0];
    };
    CHECK(autograd::gradcheck(hvp_fn, {in[0], in[1], in[2], vi[0], vi[1], vi[2]}).ok);
    auto vhp_fn = [&cg](const TensorList& z) {
        return fn::vhp(s_multi, {z[0], z[1], z[2]}, {z[3], z[4], z[5]}, cg).vhp[1];
    };
    CHECK(autograd::gradcheck(vhp_fn, {in[0], in[1], in[2], vi[0], vi[1], vi[2]}).ok);
    auto hess_fn = [&cg](const TensorList& z) { return fn::hessian(s_unary, z[0], cg); };
    CHECK(autograd::gradcheck(hess_fn, {ref("u").requires_grad_()}).ok);

    // The outputs keep their graph too, and nothing is accumulated into the inputs' grad().
    const fn::VjpResult r = fn::vjp(f_multi, in, vo, cg);
    CHECK(r.outputs[0].requires_grad());
    CHECK(r.vjp[0].requires_grad());
    const Tensor dx = autograd::grad({r.outputs[1].sum()}, {in[0]})[0];
    check_close(dx, v_times(ones({2}, {kFloat64}), numeric_jacobian(f_multi, in)[1][0]));
    for (const Tensor& t : in) CHECK_FALSE(t.grad().defined());

    // Without create_graph nothing returned keeps a graph, even for inputs that require grad.
    const fn::VjpResult plain = fn::vjp(f_multi, in, vo);
    CHECK_FALSE(plain.outputs[0].requires_grad());
    CHECK_FALSE(plain.vjp[0].requires_grad());
    CHECK_FALSE(fn::hessian(s_multi, in)[0][1].requires_grad());
    for (const Tensor& t : in) CHECK_FALSE(t.grad().defined());
}

TEST_CASE("an output independent of an input gives zeros, or an error in strict mode",
          "[functional]") {
    const Tensor x = tensor({0.2, -0.4, 0.9}, {kFloat64});
    const Tensor y = tensor({1.5, 2.5}, {kFloat64});  // never used
    auto f = [](const TensorList& in) { return TensorList{in[0].sin() * 2.0, in[0].exp().sum()}; };
    const fn::FunctionalOptions strict{.strict = true};

    const fn::VjpResult r = fn::vjp(f, {x, y}, {ones({3}, {kFloat64}), ones({}, {kFloat64})});
    CHECK(r.vjp[1].shape() == Shape{2});
    CHECK(all_zero(r.vjp[1]));
    check_close(r.vjp[0], 2.0 * x.cos() + x.exp());
    CHECK_THROWS_AS(fn::vjp(f, {x, y}, {ones({3}, {kFloat64}), ones({}, {kFloat64})}, strict),
                    AutogradError);
    CHECK_THROWS_WITH(fn::vjp(f, {x, y}, {ones({3}, {kFloat64}), ones({}, {kFloat64})}, strict),
                      Catch::Contains("autograd::functional::vjp") && Catch::Contains("input 1"));

    const std::vector<TensorList> jac = fn::jacobian(f, {x, y});
    CHECK(jac[0][1].shape() == Shape{3, 2});
    CHECK(jac[1][1].shape() == Shape{2});
    CHECK((all_zero(jac[0][1]) && all_zero(jac[1][1])));
    CHECK_THROWS_WITH(fn::jacobian(f, {x, y}, strict),
                      Catch::Contains("independent of input 1") && Catch::Contains("[2]"));

    // An output that does not require grad at all (a constant).
    auto with_constant = [](const TensorList& in) {
        return TensorList{in[0] * 3.0, ones({2}, {kFloat64})};
    };
    const fn::JvpResult t = fn::jvp(with_constant, {x}, {ones({3}, {kFloat64})});
    check_close(t.jvp[0], full({3}, 3.0, {kFloat64}), 0, 0);
    CHECK(t.jvp[1].shape() == Shape{2});
    CHECK(all_zero(t.jvp[1]));
    CHECK_THROWS_WITH(fn::jvp(with_constant, {x}, {ones({3}, {kFloat64})}, strict),
                      Catch::Contains("output 1") && Catch::Contains("does not require grad"));
    CHECK_THROWS_AS(fn::jacobian(with_constant, {x}, strict), AutogradError);
    CHECK(all_zero(fn::jacobian(with_constant, {x})[1][0]));

    // Second order: a linear function has a zero Hessian; an unused input zero blocks.
    auto linear = [](const Tensor& z) { return (z * 3.0).sum(); };
    const Tensor hl = fn::hessian(linear, x);
    CHECK(hl.shape() == Shape{3, 3});
    CHECK(all_zero(hl));
    CHECK_THROWS_WITH(
        fn::hessian(linear, x, strict),
        Catch::Contains("autograd::functional::hessian") && Catch::Contains("linear"));
    CHECK(all_zero(fn::hvp(linear, x, ones({3}, {kFloat64})).hvp));
    CHECK_THROWS_AS(fn::hvp(linear, x, ones({3}, {kFloat64}), strict), AutogradError);
    CHECK_THROWS_AS(fn::vhp(linear, x, ones({3}, {kFloat64}), strict), AutogradError);

    auto s = [](const TensorList& in) { return (in[0].sin() * in[0]).sum(); };
    const TensorList v = {ones({3}, {kFloat64}), ones({2}, {kFloat64})};
    const std::vector<TensorList> h = fn::hessian(s, {x, y});
    CHECK(h[0][1].shape() == Shape{3, 2});
    CHECK(h[1][0].shape() == Shape{2, 3});
    CHECK(h[1][1].shape() == Shape{2, 2});
    CHECK((all_zero(h[0][1]) && all_zero(h[1][0]) && all_zero(h[1][1])));
    check_close(h[0][0], numeric_hessian(s, {x, y})[0][0], 1e-5, 1e-6);
    const fn::HvpResult hv = fn::hvp(s, {x, y}, v);
    const fn::VhpResult vh = fn::vhp(s, {x, y}, v);
    CHECK((all_zero(hv.hvp[1]) && all_zero(vh.vhp[1])));
    check_close(hv.hvp[0], vh.vhp[0], 1e-12, 1e-12);
    CHECK_THROWS_AS(fn::hessian(s, {x, y}, strict), AutogradError);
    CHECK_THROWS_AS(fn::hvp(s, {x, y}, v, strict), AutogradError);
    CHECK_THROWS_AS(fn::vhp(s, {x, y}, v, strict), AutogradError);
    // Strict mode accepts what depends on every input.
    CHECK_NOTHROW(fn::hessian(s_multi, inputs_multi(), strict));
    CHECK_NOTHROW(fn::jvp(f_multi, inputs_multi(), v_inputs(), strict));
}

TEST_CASE("functional runs with grad mode on inside NoGradGuard and restores it", "[functional]") {
    const Tensor u = ref("u");
    const Tensor vu = ref("v_u");
    const Tensor expected = fn::hvp(s_unary, u, vu).hvp;
    NoGradGuard no_grad;
    check_close(fn::hvp(s_unary, u, vu).hvp, expected, 0, 0);
    CHECK_FALSE(GradMode::is_enabled());
    auto throwing = [](const Tensor&) -> Tensor { throw std::runtime_error("inside"); };
    CHECK_THROWS_WITH(fn::jacobian(throwing, u), "inside");
    CHECK_FALSE(GradMode::is_enabled());
}

TEST_CASE("functional errors name the function and the shapes at fault", "[functional]") {
    const TensorList in = inputs_multi();
    const TensorList vo = v_outputs();
    const TensorList vi = v_inputs();

    // v against the outputs (vjp) or the inputs (jvp, hvp, vhp).
    CHECK_THROWS_AS(fn::vjp(f_multi, in, {vo[0], ones({3}, {kFloat64})}), ShapeError);
    CHECK_THROWS_WITH(fn::vjp(f_multi, in, {vo[0], ones({3}, {kFloat64})}),
                      Catch::StartsWith("xgrad::autograd::functional::vjp: v[1] has shape [3]") &&
                          Catch::Contains("output 1 has shape [2]"));
    CHECK_THROWS_AS(fn::vjp(f_multi, in, {vo[0]}), ValueError);
    CHECK_THROWS_WITH(fn::vjp(f_multi, in, {vo[0]}),
                      Catch::Contains("v has 1 tensors but the function has 2 outputs") &&
                          Catch::Contains("[2, 2], [2]"));
    CHECK_THROWS_AS(fn::vjp(f_multi, in), ValueError);
    CHECK_THROWS_WITH(fn::vjp(g_unary, ref("u")),
                      Catch::Contains("v can be omitted only") && Catch::Contains("[4]"));
    CHECK_THROWS_WITH(fn::jvp(f_multi, in, {vi[0], vi[2], vi[1]}),
                      Catch::StartsWith("xgrad::autograd::functional::jvp: v[1] has shape [2]") &&
                          Catch::Contains("input 1 has shape [3, 2]"));
    CHECK_THROWS_AS(fn::jvp(g_unary, ref("u")), ValueError);
    CHECK_THROWS_AS(fn::hvp(s_multi, in, {vi[0], vi[1]}), ValueError);
    CHECK_THROWS_AS(fn::vhp(s_unary, ref("u"), ones({5}, {kFloat64})), ShapeError);
    CHECK_THROWS_AS(fn::vjp(g_unary, ref("u"), ones({4})), DtypeError);  // float32 v
    CHECK_THROWS_AS(fn::vjp(f_multi, in, {vo[0], Tensor()}), ValueError);

    // Second order needs a single-element result.
    CHECK_THROWS_AS(fn::hessian(g_unary, ref("u")), ValueError);
    CHECK_THROWS_WITH(fn::hessian(g_unary, ref("u")),
                      Catch::StartsWith("xgrad::autograd::functional::hessian:") &&
                          Catch::Contains("single-element") && Catch::Contains("[4]"));
    CHECK_THROWS_WITH(
        fn::hvp(g_unary, ref("u"), ref("v_u")),
        Catch::StartsWith("xgrad::autograd::functional::hvp:") && Catch::Contains("[4]"));
    CHECK_THROWS_WITH(
        fn::vhp(g_unary, ref("u"), ref("v_u")),
        Catch::StartsWith("xgrad::autograd::functional::vhp:") && Catch::Contains("[4]"));

    // Inputs, outputs and the function itself.
    CHECK_THROWS_WITH(fn::jacobian(f_multi, {in[0], Tensor(), in[2]}),
                      Catch::Contains("jacobian") && Catch::Contains("input 1 is undefined"));
    CHECK_THROWS_AS(fn::jacobian(f_multi, TensorList{}), ValueError);
    CHECK_THROWS_AS(fn::jacobian(g_unary, tensor({1, 2, 3})), DtypeError);  // int64
    CHECK_THROWS_WITH(fn::jacobian(g_unary, tensor({1, 2, 3})), Catch::Contains("int64"));
    auto undefined_out = [](const TensorList& x) { return TensorList{x[0], Tensor()}; };
    CHECK_THROWS_WITH(fn::jacobian(undefined_out, in),
                      Catch::Contains("output 1 of the function is undefined"));
    auto nothing = [](const TensorList&) { return TensorList{}; };
    CHECK_THROWS_AS(fn::vjp(nothing, in), ValueError);
    CHECK_THROWS_AS(fn::jvp(fn::ListFunction(), in, vi), ValueError);
    CHECK_THROWS_AS(fn::hessian(fn::UnaryFunction(), ref("u")), ValueError);
}

TEST_CASE("functional agrees with torch.autograd.functional", "[functional]") {
    const TensorList in = inputs_multi();
    const double rtol = 1e-10, atol = 1e-12;
    auto close = [&](const Tensor& a, const std::string& name) {
        INFO(name);
        check_close(a, ref(name), rtol, atol);
    };

    const fn::VjpResult r = fn::vjp(f_multi, in, v_outputs());
    for (int i = 0; i < 2; ++i) close(r.outputs[i], "vjp.f_multi.outputs." + std::to_string(i));
    for (int j = 0; j < 3; ++j) close(r.vjp[j], "vjp.f_multi.vjp." + std::to_string(j));
    const fn::JvpResult t = fn::jvp(f_multi, in, v_inputs());
    for (int i = 0; i < 2; ++i) close(t.jvp[i], "jvp.f_multi.jvp." + std::to_string(i));
    const std::vector<TensorList> jac = fn::jacobian(f_multi, in);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            close(jac[i][j], "jacobian.f_multi." + std::to_string(i) + "." + std::to_string(j));
    const std::vector<TensorList> h = fn::hessian(s_multi, in);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            close(h[i][j], "hessian.s_multi." + std::to_string(i) + "." + std::to_string(j));
    const fn::HvpResult hv = fn::hvp(s_multi, in, v_inputs());
    close(hv.output, "hvp.s_multi.output");
    const fn::VhpResult vh = fn::vhp(s_multi, in, v_inputs());
    for (int j = 0; j < 3; ++j) {
        close(hv.hvp[j], "hvp.s_multi.hvp." + std::to_string(j));
        close(vh.vhp[j], "vhp.s_multi.vhp." + std::to_string(j));
    }

    const Tensor u = ref("u");
    const Tensor vu = ref("v_u");
    close(fn::vjp(g_unary, u, vu).vjp, "vjp.g_unary.vjp");
    close(fn::jvp(g_unary, u, vu).jvp, "jvp.g_unary.jvp");
    close(fn::jacobian(g_unary, u), "jacobian.g_unary");
    close(fn::hessian(s_unary, u), "hessian.s_unary");
    close(fn::hvp(s_unary, u, vu).hvp, "hvp.s_unary.hvp");

    // Derivatives of create_graph results with respect to the original inputs.
    const TensorList xs = requiring_grad(in);
    const Tensor jv0 = fn::jvp(f_multi, xs, v_inputs(), {.create_graph = true}).jvp[0];
    const TensorList dj = autograd::grad({(jv0 * ref("c_h")).sum()}, xs);
    for (int j = 0; j < 3; ++j) close(dj[j], "grad.jvp.f_multi." + std::to_string(j));
    const Tensor ur = u.detach().clone().requires_grad_();
    const Tensor hvu = fn::hvp(s_unary, ur, vu, {.create_graph = true}).hvp;
    close(autograd::grad({(hvu * ref("c_u")).sum()}, {ur})[0], "grad.hvp.s_unary");
}
