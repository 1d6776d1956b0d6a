// Writing your own kernel: a fused activation in xtensor, inside the autograd graph.
//
// GELU (tanh approximation) composed from xgrad's ops takes about 8 passes over memory forward
// and twice as many backward; written as one xtensor expression per direction over zero-copy
// views of the tensors (<xgrad/xtensor.hpp>, examples/kernels/gelu_tanh.hpp) it takes one each.
// This program checks the hand-written derivative against finite differences (gradcheck in
// float64), checks that both versions agree in float32, trains a small network with the fused
// activation, and times the two versions on a million values (bench/bench_custom_kernel.cpp
// has the full table).
//
//   custom_kernel           # checks, a short training, the timing
//   custom_kernel --quick   # the checks and a few steps (CTest): exits 1 unless all pass
//
// Built as C++17: Debian's xtensor 0.24.3 does not compile as C++20 under g++ 12.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "common/args.hpp"
#include "kernels/gelu_tanh.hpp"

using namespace xgrad;

namespace {

// The largest |a - b| over two tensors of the same shape.
double max_diff(const Tensor& a, const Tensor& b) {
    return abs(a - b).max().item<double>();
}

// Median seconds of `reps` calls of f.
template <class F>
double median_seconds(int reps, F&& f) {
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        examples::Stopwatch sw;
        f();
        t.push_back(sw.seconds());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    examples::Args args("custom_kernel",
                        "A fused GELU written in xtensor inside autograd::Function, checked and "
                        "timed against the same activation composed from ops.");
    args.flag("--quick", quick, "the checks and a few training steps only (CTest)");
    args.parse(argc, argv);
    bool ok = true;

    // 1. The hand-written derivative against central differences, in float64.
    Generator gen(0);
    const Tensor x64 = randn({4, 5}, gen, {.dtype = kFloat64}) * 2.0;
    const auto check =
        autograd::gradcheck([](const TensorList& in) { return gelu::gelu_fused(in[0]); },
                            {x64.clone().requires_grad_()}, {.raise_exception = false});
    std::printf("gradcheck of the fused GELU (float64): %s, worst error %.2e\n",
                check.ok ? "passed" : "FAILED", check.max_abs_error);
    ok = ok && check.ok;

    // 2. Both versions agree in float32, values and gradients.
    const Tensor x32 = randn({1000, 100}, gen) * 3.0;
    Tensor a = x32.clone().requires_grad_(), b = x32.clone().requires_grad_();
    const Tensor ya = gelu::gelu_composed(a), yb = gelu::gelu_fused(b);
    const Tensor weights = randn({1000, 100}, gen);
    (ya * weights).sum().backward();
    (yb * weights).sum().backward();
    const double dy = max_diff(ya, yb), dg = max_diff(a.grad(), b.grad());
    std::printf("fused vs composed, float32, 100 000 values: max |dy| %.2e, max |dx| %.2e\n", dy,
                dg);
    ok = ok && dy < 1e-5 && dg < 1e-5;

    // 3. The fused activation in a network, trained as any other (regression of sin on [-3, 3]).
    manual_seed(0);
    nn::Linear l1(1, 32), l2(32, 1);
    optim::Adam opt(std::vector<Tensor>{l1.weight, l1.bias, l2.weight, l2.bias}, {.lr = 1e-2});
    const Tensor xs = linspace(-3, 3, 256).reshape({256, 1});
    const Tensor ys = sin(xs);
    const int steps = quick ? 50 : 500;
    double first = 0, last = 0;
    for (int s = 0; s < steps; ++s) {
        Tensor loss = nn::mse_loss(l2(gelu::gelu_fused(l1(xs))), ys);
        opt.zero_grad();
        loss.backward();
        opt.step();
        if (s == 0) first = loss.item<double>();
        last = loss.item<double>();
    }
    std::printf(
        "a 1-32-1 network with the fused GELU fitting sin(x): cost %.4f -> %.5f in %d "
        "steps\n",
        first, last, steps);
    ok = ok && last < first;

    // 4. Forward + backward on a million values, each version.
    if (!quick) {
        const Tensor big = randn({1000, 1000}, gen);
        auto run = [&](Tensor (*f)(const Tensor&)) {
            Tensor v = big.clone().requires_grad_();
            return median_seconds(15, [&] {
                v.zero_grad();
                f(v).sum().backward();
            });
        };
        const double composed = run(gelu::gelu_composed), fused = run(gelu::gelu_fused);
        std::printf(
            "forward + backward, 10^6 float32 values, 1 call: composed %.2f ms, fused "
            "%.2f ms (composed / fused = %.1f)\n",
            composed * 1e3, fused * 1e3, composed / fused);
    }
    std::printf("%s\n", ok ? "all checks passed" : "a check FAILED");
    return ok ? 0 : 1;
}
