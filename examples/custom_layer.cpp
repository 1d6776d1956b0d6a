// Extending xgrad the way research code does: a new activation and a new layer, each written two
// ways, all checked against finite differences with autograd::gradcheck, then trained together.
//
// Composed from ops (the usual way): write the forward computation with tensor ops; the tape
// records it and backpropagation comes for free.
//   - activation `squareplus(x) = (x + sqrt(x^2 + b)) / 2`, a smooth ReLU (one line);
//   - layer `GatedLinear`: (x W^T + b) * sigmoid(x V^T + c), an nn::Module with two sublayers.
// Through the custom-op API (autograd::Function): forward and backward written by hand, e.g. for
// a fused kernel or a gradient the ops cannot express.
//   - activation `Squareplus`: the same function with its derivative (1 + x / sqrt(x^2 + b)) / 2;
//   - layer `FunctionLinear`: y = x W^T + b with dx = g W, dW = g^T x, db = sum g.
//
//   custom_layer            # gradchecks, then trains the four on a 3-class spiral
//   custom_layer --quick    # 60 training steps (CTest): exits 1 unless the checks pass and the
//                           # cost fell
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <xgrad/utils.hpp>
#include <xgrad/xgrad.hpp>

#include "common/args.hpp"

using namespace xgrad;

namespace {

constexpr double kSquareplusB = 4.0;

// ---- an activation composed from ops --------------------------------------------------------

Tensor squareplus(const Tensor& x) {
    return (x + sqrt(x * x + kSquareplusB)) * 0.5;
}

// ---- the same activation through the custom-op API ------------------------------------------

struct Squareplus : autograd::Function<Squareplus> {
    // Runs with recording off; whatever backward needs is saved explicitly.
    static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x) {
        ctx->save_for_backward({x});
        return (x + sqrt(x * x + kSquareplusB)) * 0.5;
    }
    // One gradient per Tensor argument of forward. Written in ops, so it is differentiable
    // itself (second derivatives work when the caller asks for create_graph).
    static TensorList backward(autograd::AutogradContext* ctx, const TensorList& grads) {
        const Tensor x = ctx->get_saved_variables()[0];
        return {grads[0] * (1.0 + x / sqrt(x * x + kSquareplusB)) * 0.5};
    }
};

// ---- a layer composed from ops ----------------------------------------------------------------

class GatedLinear : public nn::Module {
  public:
    GatedLinear(std::int64_t in, std::int64_t out)
        : value(register_module("value", nn::Linear(in, out))),
          gate(register_module("gate", nn::Linear(in, out))) {}
    Tensor forward(const Tensor& x) override { return (*value)(x)*sigmoid((*gate)(x)); }
    std::string name() const override { return "GatedLinear"; }

    std::shared_ptr<nn::Linear> value, gate;
};

// ---- a layer through the custom-op API ------------------------------------------------------

struct LinearFunction : autograd::Function<LinearFunction> {
    static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x, const Tensor& weight,
                          const Tensor& bias) {
        ctx->save_for_backward({x, weight});
        return matmul(x, weight, {.transpose_b = true}) + bias;  // [N, in] x [out, in]^T
    }
    static TensorList backward(autograd::AutogradContext* ctx, const TensorList& grads) {
        const TensorList saved = ctx->get_saved_variables();
        const Tensor &x = saved[0], &weight = saved[1], &g = grads[0];  // g: [N, out]
        // Skip work nobody needs: the network's input does not require a gradient.
        Tensor dx = ctx->needs_input_grad(0) ? matmul(g, weight) : Tensor();
        return {dx, matmul(g, x, {.transpose_a = true}), g.sum({0})};
    }
};

class FunctionLinear : public nn::Module {
  public:
    FunctionLinear(std::int64_t in, std::int64_t out) {
        const double bound = 1.0 / std::sqrt(double(in));  // PyTorch's default for Linear
        Tensor w = empty({out, in}), b = empty({out});
        nn::init::uniform_(w, -bound, bound);
        nn::init::uniform_(b, -bound, bound);
        weight = register_parameter("weight", w);
        bias = register_parameter("bias", b);
    }
    Tensor forward(const Tensor& x) override { return LinearFunction::apply(x, weight, bias); }
    std::string name() const override { return "FunctionLinear"; }

    Tensor weight, bias;
};

// ---- checks ---------------------------------------------------------------------------------

bool report(const char* what, const autograd::GradcheckResult& r) {
    std::printf("  %-40s %s (max |analytic - numeric| %.1e)\n", what, r.ok ? "ok    " : "FAILED",
                r.max_abs_error);
    if (!r.ok) std::printf("    %s\n", r.report.c_str());
    return r.ok;
}

bool check_all() {
    std::printf("gradcheck (float64 central differences against the tape):\n");
    const autograd::GradcheckOptions no_throw{.raise_exception = false};
    Tensor x = randn({5, 3}, {.dtype = kFloat64}).requires_grad_();
    bool ok = true;
    ok &= report(
        "squareplus (ops)",
        autograd::gradcheck([](const TensorList& in) { return squareplus(in[0]); }, {x}, no_throw));
    ok &= report("Squareplus (autograd::Function)",
                 autograd::gradcheck([](const TensorList& in) { return Squareplus::apply(in[0]); },
                                     {x}, no_throw));
    ok &= report("Squareplus second derivative",
                 autograd::gradgradcheck(
                     [](const TensorList& in) { return Squareplus::apply(in[0]); }, {x}, no_throw));
    {
        NoGradGuard no_grad;
        const double diff = (squareplus(x) - Squareplus::apply(x)).abs().max().item<double>();
        std::printf("  %-40s %.1e\n", "ops vs Function forward, max difference", diff);
        ok &= diff < 1e-12;
    }

    // Layers: check with respect to the input and every parameter (gradcheck perturbs the
    // tensors in place, so passing the module's own parameters checks them too).
    GatedLinear gated(3, 4);
    gated.to(kFloat64);
    TensorList gated_inputs{x};
    for (const Tensor& p : gated.parameters()) gated_inputs.push_back(p);
    ok &= report("GatedLinear (ops) wrt input and params",
                 autograd::gradcheck([&](const TensorList& in) { return gated(in[0]); },
                                     gated_inputs, no_throw));
    FunctionLinear fl(3, 4);
    fl.to(kFloat64);
    ok &= report("FunctionLinear (autograd::Function)",
                 autograd::gradcheck([&](const TensorList& in) { return fl(in[0]); },
                                     {x, fl.weight, fl.bias}, no_throw));
    return ok;
}

// Three spiral arms, class k at radius r and angle 4k + 4r plus noise.
std::pair<Tensor, Tensor> make_spiral(std::int64_t per_class, Generator& gen) {
    std::vector<float> xs;
    std::vector<std::int64_t> ys;
    for (int k = 0; k < 3; ++k)
        for (std::int64_t i = 0; i < per_class; ++i) {
            const double r = double(i) / double(per_class - 1);
            const double angle = 4.0 * k + 4.0 * r + 0.2 * gen.normal();
            xs.push_back(float(r * std::sin(angle)));
            xs.push_back(float(r * std::cos(angle)));
            ys.push_back(k);
        }
    const auto n = static_cast<std::int64_t>(ys.size());
    return {tensor(xs, {n, 2}), tensor(ys)};
}

}  // namespace

int main(int argc, char** argv) {
    int steps = 1000;
    bool quick = false;
    examples::Args args("custom_layer", "User-defined layers and activations, gradchecked.");
    args.option("--steps", steps, "training steps on the spiral");
    args.flag("--quick", quick, "tiny configuration for CTest");
    args.parse(argc, argv);
    args.print_config();
    if (quick) steps = 60;

    manual_seed(0);
    const bool checks_ok = check_all();

    // The four pieces in one network, trained like any other.
    nn::Sequential net(
        FunctionLinear(2, 32),
        nn::Functional([](const Tensor& x) { return Squareplus::apply(x); }, "Squareplus"),
        GatedLinear(32, 32), nn::Functional(squareplus, "squareplus"), nn::Linear(32, 3));
    std::cout << "\n" << net << "\n";
    Generator gen(7);
    const auto [x, y] = make_spiral(100, gen);
    optim::Adam opt(net.parameters(), {.lr = 0.01});
    double first = 0, last = 0;
    for (int step = 0; step < steps; ++step) {
        Tensor cost = nn::cross_entropy(net(x), y);
        opt.zero_grad();
        cost.backward();
        opt.step();
        if (step == 0) first = cost.item<double>();
        last = cost.item<double>();
    }
    NoGradGuard inference;
    std::printf("spiral: cost %.4f -> %.4f in %d steps, training accuracy %.1f%%\n", first, last,
                steps, 100 * metrics::accuracy(net(x), y));
    return checks_ok && last < first ? 0 : 1;
}
