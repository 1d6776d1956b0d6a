// The tape engine: accumulation, ordering, graph release, higher order, hooks, custom ops.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <thread>
#include <xgrad/xgrad.hpp>

using namespace xgrad;

namespace {
std::vector<double> values(const Tensor& t) {
    return t.to_vector<double>();
}

// Resident memory of this process in KiB.
long resident_kib() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * 4;
}

int g_identity_backward_calls = 0;
struct CountingIdentity : autograd::Function<CountingIdentity> {
    static Tensor forward(autograd::AutogradContext*, const Tensor& x) { return x.clone(); }
    static TensorList backward(autograd::AutogradContext*, const TensorList& g) {
        ++g_identity_backward_calls;
        return {g[0]};
    }
};
}  // namespace

TEST_CASE("gradients accumulate across backward calls until zeroed", "[autograd]") {
    Tensor x = tensor({1.0, 2.0}, {kFloat64, true});
    (x * x).sum().backward();
    CHECK(values(x.grad()) == std::vector<double>{2, 4});
    (x * 3.0).sum().backward();
    CHECK(values(x.grad()) == std::vector<double>{5, 7});
    x.zero_grad(false);
    CHECK(values(x.grad()) == std::vector<double>{0, 0});
    x.zero_grad();
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("a diamond runs each backward once with the summed gradient", "[autograd]") {
    g_identity_backward_calls = 0;
    Tensor x = tensor({1.0, -1.0}, {kFloat64, true});
    Tensor a = CountingIdentity::apply(x);
    Tensor y = (a * 2.0 + a * 3.0).sum();
    y.backward();
    CHECK(g_identity_backward_calls == 1);
    CHECK(values(x.grad()) == std::vector<double>{5, 5});
}

TEST_CASE("backward twice through a released graph is a clear error", "[autograd]") {
    Tensor x = tensor({0.5}, {kFloat64, true});
    Tensor y = (x.tanh() * x).sum();
    y.backward();
    CHECK_THROWS_AS(y.backward(), AutogradError);
    CHECK_THROWS_WITH(y.backward(),
                      Catch::Contains("second time") && Catch::Contains("retain_graph"));
    Tensor z = (x.exp() * x).sum();
    x.zero_grad();
    z.backward({}, {.retain_graph = true});
    z.backward();
    CHECK(x.grad().item<double>() == Approx(2 * (std::exp(0.5) * 1.5)));
}

TEST_CASE("backward needs a gradient for non-scalar outputs", "[autograd]") {
    Tensor x = tensor({1.0, 2.0}, {kFloat64, true});
    Tensor y = x * 2.0;
    CHECK_THROWS_AS(y.backward(), AutogradError);
    CHECK_THROWS_WITH(y.backward(), Catch::Contains("scalar") && Catch::Contains("[2]"));
    CHECK_THROWS_AS(y.backward(ones({3}, {kFloat64})), ShapeError);
    CHECK_THROWS_AS(y.backward(ones({2})), ShapeError);  // float32 gradient for float64 output
    y.backward(tensor({1.0, 10.0}, {kFloat64}));
    CHECK(values(x.grad()) == std::vector<double>{2, 20});
    CHECK_THROWS_AS(ones({2}).backward(ones({2})), AutogradError);
}

TEST_CASE("higher-order gradients through create_graph", "[autograd]") {
    Tensor x = tensor({0.3, -1.2}, {kFloat64, true});
    // d/dx tanh = 1 - tanh^2 ; d2/dx2 tanh = -2 tanh (1 - tanh^2)
    Tensor g = autograd::grad({x.tanh().sum()}, {x}, {}, {.create_graph = true})[0];
    CHECK(g.requires_grad());
    Tensor g2 = autograd::grad({g.sum()}, {x})[0];
    for (int i = 0; i < 2; ++i) {
        const double v = values(x)[i], t = std::tanh(v);
        CHECK(values(g)[i] == Approx(1 - t * t));
        CHECK(values(g2)[i] == Approx(-2 * t * (1 - t * t)));
    }
    // Third order of x^4 via repeated grad.
    Tensor y = x.pow(4.0).sum();
    Tensor d1 = autograd::grad({y}, {x}, {}, {.create_graph = true})[0];
    Tensor d2 = autograd::grad({d1.sum()}, {x}, {}, {.create_graph = true})[0];
    Tensor d3 = autograd::grad({d2.sum()}, {x})[0];
    CHECK(values(d3)[0] == Approx(24 * 0.3));
    CHECK(values(d3)[1] == Approx(24 * -1.2));
    // backward(create_graph) leaves a differentiable grad in the leaf.
    Tensor w = tensor({2.0}, {kFloat64, true});
    (w * w * w).sum().backward({}, {.create_graph = true});
    Tensor gw = w.grad();
    CHECK(gw.item<double>() == Approx(12));
    Tensor h = autograd::grad({gw.sum()}, {w})[0];
    CHECK(h.item<double>() == Approx(12));
    // w.grad() now holds a graph that refers back to w (as in PyTorch): release it.
    w.zero_grad();
    CHECK_FALSE(w.grad().defined());
}

TEST_CASE("Hessian-vector product matches finite differences of the gradient", "[autograd]") {
    Generator gen(3);
    Tensor x = randn({4}, gen, {kFloat64}).requires_grad_();
    Tensor v = randn({4}, gen, {kFloat64});
    auto f = [](const Tensor& z) { return (z.sin() * z * z).sum() + (z.exp() * z).sum(); };
    Tensor g = autograd::grad({f(x)}, {x}, {}, {.create_graph = true})[0];
    Tensor hv = autograd::grad({(g * v).sum()}, {x})[0];
    const double eps = 1e-6;
    auto grad_at = [&](const Tensor& z0) {
        Tensor z = z0.detach().requires_grad_();
        return autograd::grad({f(z)}, {z})[0];
    };
    Tensor fd = (grad_at(x.detach() + v * eps) - grad_at(x.detach() - v * eps)) / (2 * eps);
    for (int i = 0; i < 4; ++i) CHECK(values(hv)[i] == Approx(values(fd)[i]).epsilon(1e-5));
}

TEST_CASE("autograd::grad on leaves and intermediates", "[autograd]") {
    Tensor x = tensor({1.0, 2.0}, {kFloat64, true});
    Tensor h = x * x;
    Tensor y = (h * 3.0).sum();
    TensorList g = autograd::grad({y}, {h, x});
    CHECK(values(g[0]) == std::vector<double>{3, 3});
    CHECK(values(g[1]) == std::vector<double>{6, 12});
    CHECK_FALSE(x.grad().defined());  // grad() returns, it does not accumulate
    Tensor unused = tensor({1.0}, {kFloat64, true});
    Tensor y2 = (x * 2.0).sum();
    CHECK_THROWS_AS(autograd::grad({y2}, {unused}, {}, {.retain_graph = true}), AutogradError);
    TensorList g2 = autograd::grad({y2}, {x, unused}, {}, {.allow_unused = true});
    CHECK(values(g2[0]) == std::vector<double>{2, 2});
    CHECK_FALSE(g2[1].defined());
    CHECK_THROWS_AS(autograd::grad({y2}, {ones({1})}), AutogradError);
    TensorList twice = autograd::grad({(x * x).sum()}, {x, x});
    CHECK(values(twice[0]) == std::vector<double>{2, 4});
    CHECK(values(twice[1]) == std::vector<double>{2, 4});
}

TEST_CASE("detach and NoGradGuard stop recording", "[autograd]") {
    Tensor x = tensor({2.0}, {kFloat64, true});
    Tensor y = x.detach() * x;
    y.sum().backward();
    CHECK(x.grad().item<double>() == 2.0);
    CHECK(x.detach().data_ptr<double>() == x.data_ptr<double>());
    {
        NoGradGuard no_grad;
        Tensor z = x * x;
        CHECK_FALSE(z.requires_grad());
        CHECK(z.grad_fn() == nullptr);
        // Grad mode is per thread.
        bool other_thread_enabled = false;
        std::thread t([&] { other_thread_enabled = GradMode::is_enabled(); });
        t.join();
        CHECK(other_thread_enabled);
    }
    CHECK((x * x).requires_grad());
}

TEST_CASE("in-place writes are refused on tensors that require grad", "[autograd]") {
    Tensor w = ones({2}, {kFloat32, true});
    CHECK_THROWS_AS(w.fill_(3), AutogradError);
    CHECK_THROWS_WITH(w.zero_(), Catch::Contains("xgrad::fill_"));
    {
        NoGradGuard no_grad;
        w.copy_(tensor({5.f, 6.f}));  // a parameter update
    }
    CHECK(w.to_vector<float>() == std::vector<float>{5, 6});
    CHECK_THROWS_AS(zeros({2}).copy_(ones({3})), ShapeError);
}

TEST_CASE("hooks see and may replace gradients", "[autograd]") {
    Tensor x = tensor({1.0, 2.0}, {kFloat64, true});
    std::vector<double> seen;
    x.register_hook([](const Tensor& g) { return g * 10.0; });
    Tensor h = x * 2.0;
    h.register_hook([&](const Tensor& g) {
        seen = g.to_vector<double>();
        return Tensor();
    });
    h.retain_grad();
    (h * h).sum().backward();
    CHECK(seen == std::vector<double>{4, 8});
    CHECK(values(h.grad()) == std::vector<double>{4, 8});
    CHECK(values(x.grad()) == std::vector<double>{80, 160});
    CHECK_THROWS_AS(ones({1}).register_hook([](const Tensor& g) { return g; }), AutogradError);
}

TEST_CASE("custom functions: straight-through estimator and saved tensors", "[autograd]") {
    struct RoundSTE : autograd::Function<RoundSTE> {
        static Tensor forward(autograd::AutogradContext*, const Tensor& x) {
            return ((x * 2.0).relu() / 2.0).detach();  // stands in for a non-differentiable op
        }
        static TensorList backward(autograd::AutogradContext*, const TensorList& g) {
            return {g[0]};
        }
    };
    struct ScaledCube : autograd::Function<ScaledCube> {
        static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x, double scale) {
            ctx->save_for_backward({x});
            ctx->saved_data["scale"] = scale;
            return x * x * x * scale;
        }
        static TensorList backward(autograd::AutogradContext* ctx, const TensorList& g) {
            Tensor x = ctx->get_saved_variables()[0];
            const double s = std::any_cast<double>(ctx->saved_data["scale"]);
            return {g[0] * x * x * (3.0 * s)};
        }
    };
    Tensor x = tensor({-1.0, 0.5}, {kFloat64, true});
    RoundSTE::apply(x).sum().backward();
    CHECK(values(x.grad()) == std::vector<double>{1, 1});
    CHECK(
        autograd::gradcheck([](const TensorList& in) { return ScaledCube::apply(in[0], 0.5); }, {x})
            .ok);
    // Written in differentiable ops, the custom backward also gives second derivatives.
    CHECK(autograd::gradgradcheck(
              [](const TensorList& in) { return ScaledCube::apply(in[0], 0.5); }, {x})
              .ok);
    struct TooMany : autograd::Function<TooMany> {
        static Tensor forward(autograd::AutogradContext*, const Tensor& x) { return x * 1.0; }
        static TensorList backward(autograd::AutogradContext*, const TensorList& g) {
            return {g[0], g[0]};
        }
    };
    CHECK_THROWS_AS(TooMany::apply(x).sum().backward(), AutogradError);
}

TEST_CASE("a very long chain builds, backpropagates and frees without recursion", "[autograd]") {
    Tensor x = tensor({1.0}, {kFloat64, true});
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) y = y * 1.0;
    y.sum().backward();
    CHECK(x.grad().item<double>() == 1.0);
    Tensor z = x;
    for (int i = 0; i < 200000; ++i) z = z + 0.0;
    z = Tensor();  // frees 200000 nodes: must not overflow the stack
    // Nodes that save their (non-leaf) input are held twice, by the edge and the saved tensor,
    // and a graph dropped without backward still holds them all.
    Tensor w = tensor({1.0}, {kFloat64, true});
    Tensor m = w;
    for (int i = 0; i < 200000; ++i) m = m * w;
    m.sum().backward({}, {.retain_graph = true});
    m = Tensor();
    Tensor never_backpropagated = w;
    for (int i = 0; i < 200000; ++i) never_backpropagated = never_backpropagated * w;
    never_backpropagated = Tensor();
    SUCCEED();
}

TEST_CASE("graphs are freed: resident memory stays flat over a training loop", "[autograd]") {
    Generator gen(1);
    Tensor w = randn({16, 8}, gen).requires_grad_();
    Tensor b = zeros({8}, {kFloat32, true});
    Tensor in = randn({4, 16}, gen);
    auto step = [&] {
        Tensor h = (in.unsqueeze(2) * w).sum({1}) + b;  // [4, 8]
        Tensor loss = (h.tanh() * h.sigmoid()).mean();
        loss.backward();
        NoGradGuard no_grad;
        w.copy_(w - w.grad() * 0.01f);
        b.copy_(b - b.grad() * 0.01f);
        w.zero_grad();
        b.zero_grad();
    };
    for (int i = 0; i < 20000; ++i) step();
    const long before = resident_kib();
    for (int i = 0; i < 100000; ++i) step();
    const long after = resident_kib();
    INFO("resident before " << before << " KiB, after " << after << " KiB");
    CHECK(after - before < 2048);
}
