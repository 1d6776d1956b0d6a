// Higher-order gradients: differentiating through backpropagation itself.
//
// Every backward rule in xgrad is written with differentiable ops, so with create_graph the
// backward pass is recorded on the tape like any forward computation and can be differentiated
// again. Two uses:
//
// 1. Hessian-vector products through a network: Hv = d/dw (dL/dw . v), without ever forming the
//    Hessian. Checked against finite differences of gradients, then used in a power iteration
//    to find the largest Hessian eigenvalue (the "sharpness" of the minimum).
// 2. A gradient penalty (double backpropagation): a classifier is trained with
//    cost = cross-entropy + lambda * mean ||d margin / d input||^2 (margin = logit_1 - logit_0),
//    which needs the gradient of a gradient. The penalised network ends up much less sensitive to
//    its input; both decision boundaries are written as SVGs.
//
//   higher_order                 # writes penalty_off.svg and penalty_on.svg
//   higher_order --quick         # 60 steps (CTest): exits 1 unless the cost fell
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <xgrad/utils.hpp>
#include <xgrad/xgrad.hpp>

#include "common/args.hpp"

using namespace xgrad;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Two interleaving half circles ("moons"), 2 classes, in the given dtype.
std::pair<Tensor, Tensor> make_moons(std::int64_t per_class, Generator& gen, Dtype dtype) {
    std::vector<double> xs;
    std::vector<std::int64_t> ys;
    for (int k = 0; k < 2; ++k)
        for (std::int64_t i = 0; i < per_class; ++i) {
            const double t = kPi * double(i) / double(per_class - 1);
            const double x = k == 0 ? std::cos(t) : 1 - std::cos(t);
            const double y = k == 0 ? std::sin(t) : 0.5 - std::sin(t);
            xs.push_back(x + 0.12 * gen.normal());
            xs.push_back(y + 0.12 * gen.normal());
            ys.push_back(k);
        }
    const auto n = static_cast<std::int64_t>(ys.size());
    return {tensor(xs, {n, 2}, {.dtype = dtype}), tensor(ys)};
}

double dot(const TensorList& a, const TensorList& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] * b[i]).sum().item<double>();
    return s;
}

// ---- 1. Hessian-vector products -------------------------------------------------------------

int hessian_demo(Generator& gen) {
    std::printf("== Hessian-vector products through a 2-16-2 tanh network (float64)\n");
    auto [x, y] = make_moons(50, gen, kFloat64);
    nn::Sequential net(nn::Linear(2, 16), nn::Tanh(), nn::Linear(16, 2));
    net.to(kFloat64);
    const TensorList w = net.parameters();
    auto loss_fn = [&, &x = x, &y = y] { return nn::cross_entropy(net(x), y); };

    // Hv: the gradient, recorded (create_graph), dotted with v, differentiated again.
    auto hvp = [&](const TensorList& v) {
        const TensorList g = autograd::grad({loss_fn()}, w, {}, {.create_graph = true});
        Tensor gv = zeros({}, {.dtype = kFloat64});
        for (std::size_t i = 0; i < w.size(); ++i) gv = gv + (g[i] * v[i]).sum();
        return autograd::grad({gv}, w);
    };
    auto gradient = [&] { return autograd::grad({loss_fn()}, w); };

    TensorList v;
    for (const Tensor& p : w) v.push_back(randn(p.shape(), gen, {.dtype = kFloat64}));
    const TensorList hv = hvp(v);

    // Check: (g(w + eps v) - g(w - eps v)) / (2 eps) approximates Hv.
    const double eps = 1e-5;
    auto shift = [&](double s) {
        NoGradGuard no_grad;
        for (std::size_t i = 0; i < w.size(); ++i) Tensor(w[i]).copy_(w[i] + v[i] * s);
    };
    shift(eps);
    const TensorList g_plus = gradient();
    shift(-2 * eps);
    const TensorList g_minus = gradient();
    shift(eps);
    double err = 0, norm = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const Tensor fd = (g_plus[i] - g_minus[i]) / (2 * eps);
        err += (hv[i] - fd).pow(2.0).sum().item<double>();
        norm += hv[i].pow(2.0).sum().item<double>();
    }
    const double rel = std::sqrt(err / norm);
    std::printf("|Hv| = %.5f; relative difference from finite differences of gradients: %.2e\n",
                std::sqrt(norm), rel);

    // Power iteration: v <- Hv / |Hv| converges to the eigenvector of the largest |eigenvalue|.
    double lambda = 0;
    for (int it = 0; it < 30; ++it) {
        const double n = std::sqrt(dot(v, v));
        for (Tensor& t : v) t = t / n;
        const TensorList h = hvp(v);
        lambda = dot(v, h);  // Rayleigh quotient v.Hv with |v| = 1
        v = h;
    }
    std::printf("largest Hessian eigenvalue at the initial weights (power iteration): %.5f\n",
                lambda);
    return rel < 1e-4 ? 0 : 1;
}

// ---- 2. Gradient penalty ----------------------------------------------------------------------

struct PenaltyOutcome {
    double first_cost = 0, last_cost = 0, accuracy = 0, input_grad_norm = 0;
};

PenaltyOutcome train_with_penalty(double lambda, int steps, const Tensor& x_data, const Tensor& y,
                                  const std::filesystem::path& svg) {
    manual_seed(3);
    nn::Sequential net(nn::Linear(2, 64), nn::Tanh(), nn::Linear(64, 64), nn::Tanh(),
                       nn::Linear(64, 2));
    optim::Adam opt(net.parameters(), {.lr = 0.01});
    const double n = double(x_data.size(0));
    // The input gradient of the margin f(x) = logit_1 - logit_0, one row per sample: the samples
    // are independent, so the gradient of the summed margins with respect to x holds each
    // sample's own gradient in its row. Its size is how sharply the prediction changes when the
    // input moves.
    auto input_gradients = [&](const Tensor& x, bool create_graph) {
        Tensor logits = net(x);
        Tensor margin = (logits.select(1, 1) - logits.select(1, 0)).sum();
        return autograd::grad({margin}, {x}, {}, {.create_graph = create_graph})[0];
    };

    PenaltyOutcome out;
    for (int step = 0; step < steps; ++step) {
        Tensor x = x_data.detach().requires_grad_();
        Tensor ce = nn::cross_entropy(net(x), y);
        Tensor cost = ce;
        if (lambda > 0) {
            // create_graph: the input gradient stays on the tape, so the penalty built from it
            // can be backpropagated to the weights (a gradient of a gradient).
            Tensor gx = input_gradients(x, true);
            cost = ce + lambda * gx.pow(2.0).sum() / n;
        }
        opt.zero_grad();
        cost.backward();
        opt.step();
        if (step == 0) out.first_cost = cost.item<double>();
        out.last_cost = cost.item<double>();
    }
    Tensor x = x_data.detach().requires_grad_();
    out.input_grad_norm = input_gradients(x, false).pow(2.0).sum({1}).sqrt().mean().item<double>();
    {
        NoGradGuard inference;
        out.accuracy = metrics::accuracy(net(x_data), y);
    }
    char title[96];
    std::snprintf(title, sizeof title, "lambda %g: mean |d margin / d x| = %.3f", lambda,
                  out.input_grad_norm);
    plot::decision_boundary([&](const Tensor& p) { return net(p); }, x_data, y, svg,
                            {.title = title});
    std::printf(
        "lambda %.2f: cost %.4f -> %.4f, training accuracy %.1f%%, mean |d margin/d x| %.4f"
        " (%s)\n",
        lambda, out.first_cost, out.last_cost, 100 * out.accuracy, out.input_grad_norm,
        svg.c_str());
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    int steps = 800;
    double lambda = 0.1;
    std::string out_dir = ".";
    bool quick = false;
    examples::Args args("higher_order", "Hessian-vector products and a gradient penalty.");
    args.option("--steps", steps, "training steps of each gradient-penalty run");
    args.option("--lambda", lambda, "weight of the gradient penalty");
    args.option("--out-dir", out_dir, "where the SVG files go");
    args.flag("--quick", quick, "tiny configuration for CTest");
    args.parse(argc, argv);
    args.print_config();
    if (quick) steps = 60;
    std::filesystem::create_directories(out_dir);

    manual_seed(0);
    Generator gen(11);
    const int hessian_status = hessian_demo(gen);

    std::printf("\n== Gradient penalty (double backpropagation) on two moons\n");
    auto [x, y] = make_moons(150, gen, kFloat32);
    const std::filesystem::path out(out_dir);
    const PenaltyOutcome off = train_with_penalty(0.0, steps, x, y, out / "penalty_off.svg");
    const PenaltyOutcome on = train_with_penalty(lambda, steps, x, y, out / "penalty_on.svg");
    std::printf("the penalty made the network %.1fx less sensitive to its input\n",
                off.input_grad_norm / on.input_grad_norm);

    const bool fell = off.last_cost < off.first_cost && on.last_cost < on.first_cost;
    return fell && hessian_status == 0 ? 0 : 1;
}
