// A user's fused kernel against the same function composed from ops: GELU (tanh approximation)
// as examples/kernels/gelu_tanh.hpp writes it both ways. Forward, and forward + backward, on
// float32 tensors of 10^4 to 10^7 values, 1 thread; medians of timed calls, then the ratio
// composed / fused (> 1: the fused kernel is faster).
//
//   bench_custom_kernel [--threads N]
//
// Built with -march=native like the example (bench/CMakeLists.txt): a hand-written kernel is
// compiled for the machine it runs on.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "../examples/kernels/gelu_tanh.hpp"

using namespace xgrad;

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

template <class F>
double median_ms(std::int64_t n, F&& f) {
    const int reps = n >= 10000000 ? 7 : n >= 1000000 ? 21 : 101;
    for (int i = 0; i < 3; ++i) f();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        const double t0 = now();
        f();
        t.push_back(now() - t0);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2] * 1e3;
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 1;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
    set_num_threads(threads);
    std::printf("# GELU-tanh, float32, %d thread(s): composed from ops vs fused (xtensor)\n\n",
                threads);
    std::printf(
        "| values | fwd composed [ms] | fwd fused [ms] | ratio | fwd+bwd composed [ms] | "
        "fwd+bwd fused [ms] | ratio |\n|---|---|---|---|---|---|---|\n");
    Generator gen(0);
    for (std::int64_t n : {10000, 100000, 1000000, 10000000}) {
        const Tensor x0 = randn({n}, gen);
        Tensor x = x0.clone().requires_grad_();
        auto fwd = [&](Tensor (*f)(const Tensor&)) {
            return median_ms(n, [&] {
                NoGradGuard no_grad;
                f(x0);
            });
        };
        auto both = [&](Tensor (*f)(const Tensor&)) {
            return median_ms(n, [&] {
                x.zero_grad();
                f(x).sum().backward();
            });
        };
        const double fc = fwd(gelu::gelu_composed), ff = fwd(gelu::gelu_fused);
        const double bc = both(gelu::gelu_composed), bf = both(gelu::gelu_fused);
        std::printf("| %lld | %.3f | %.3f | %.2f | %.3f | %.3f | %.2f |\n",
                    static_cast<long long>(n), fc, ff, fc / ff, bc, bf, bc / bf);
    }
    return 0;
}
