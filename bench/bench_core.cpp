// Foundation benchmarks: matmul against a direct cblas_sgemm call, per-op overhead of a chain of
// tiny ops (the same chain as ../shared/peers: cycle of x*1.0001, x+0.0001, tanh on a [4]
// tensor), and a large elementwise expression against a plain copy. Prints medians as a table.
//
//   ./build/bench/bench_core            (OPENBLAS_NUM_THREADS is set by the program per row)
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include <xgrad/xgrad.hpp>

using namespace xgrad;

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Median seconds per call over `trials` trials of `inner` calls, after `warm` calls.
double median_time(const std::function<void()>& fn, int trials, int inner, int warm = 3) {
    for (int i = 0; i < warm; ++i) fn();
    std::vector<double> t;
    for (int r = 0; r < trials; ++r) {
        const double t0 = now();
        for (int i = 0; i < inner; ++i) fn();
        t.push_back((now() - t0) / inner);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

void bench_matmul() {
    std::printf("\n## matmul (float32, C = A B), GFLOP/s, median\n\n");
    std::printf(
        "| n | threads | xgrad matmul | direct cblas_sgemm | ratio |\n|---|---|---|---|---|\n");
    for (int threads : {1, 2}) {
        set_num_threads(threads);
        for (std::int64_t n : {256, 512, 1024}) {
            Generator g(1);
            Tensor a = randn({n, n}, g), b = randn({n, n}, g);
            Tensor c = empty({n, n});
            const int inner = n <= 256 ? 40 : (n <= 512 ? 10 : 3);
            auto xgrad_call = [&] { c = matmul(a, b); };
            auto cblas_call = [&] {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.f,
                            a.data_ptr<float>(), int(n), b.data_ptr<float>(), int(n), 0.f,
                            c.data_ptr<float>(), int(n));
            };
            // Trials alternate between the two, so a stretch of contention on this shared
            // machine hits both sides alike; the medians are compared.
            std::vector<double> tx, tc;
            for (int trial = 0; trial < 15; ++trial) {
                tx.push_back(median_time(xgrad_call, 1, inner, trial == 0 ? 3 : 0));
                tc.push_back(median_time(cblas_call, 1, inner, trial == 0 ? 3 : 0));
            }
            std::sort(tx.begin(), tx.end());
            std::sort(tc.begin(), tc.end());
            const double t_x = tx[tx.size() / 2], t_c = tc[tc.size() / 2];
            const double flop = 2.0 * n * n * n;
            std::printf("| %lld | %d | %.1f | %.1f | %.2f |\n", static_cast<long long>(n), threads,
                        flop / t_x / 1e9, flop / t_c / 1e9, t_c / t_x);
        }
    }
    set_num_threads(1);
}

void bench_chain() {
    std::printf(
        "\n## per-op overhead: 100 ops on a [4] tensor (x*1.0001, x+0.0001, tanh), us/op\n\n");
    Tensor x = randn({4}).requires_grad_();
    auto chain = [&] {
        Tensor y = x;
        for (int i = 0; i < 100; ++i) {
            const int k = i % 3;
            y = k == 0 ? y * 1.0001 : (k == 1 ? y + 0.0001 : tanh(y));
        }
        return y;
    };
    const double nograd = median_time(
        [&] {
            NoGradGuard g;
            chain();
        },
        15, 200);
    const double fwd = median_time([&] { chain(); }, 15, 200);
    const double fwdbwd = median_time(
        [&] {
            x.zero_grad();
            chain().sum().backward();
        },
        15, 200);
    std::printf("| mode | us/op |\n|---|---|\n");
    std::printf("| forward, no_grad | %.3f |\n| forward, recording | %.3f |\n", nograd * 1e4,
                fwd * 1e4);
    std::printf("| forward + backward | %.3f |\n", fwdbwd * 1e4);
}

void bench_elementwise() {
    const std::int64_t n = 4 * 1024 * 1024;
    const double mb = double(n) * 4 / 1e9;  // GB per 4M-float array
    std::printf(
        "\n## (a*b+c).sum() on 4M floats, effective GB/s (3 arrays read forward; "
        "+3 gradients written backward)\n\n");
    Generator g(2);
    Tensor a = randn({n}, g).requires_grad_(), b = randn({n}, g).requires_grad_(),
           c = randn({n}, g).requires_grad_();
    std::vector<float> src(n, 1.f), dst(n);
    const double copy = median_time([&] { std::memcpy(dst.data(), src.data(), n * 4); }, 9, 5);
    const double nograd = median_time(
        [&] {
            NoGradGuard ng;
            (a * b + c).sum();
        },
        9, 3);
    const double fwd = median_time([&] { (a * b + c).sum(); }, 9, 3);
    const double fwdbwd = median_time(
        [&] {
            a.zero_grad();
            b.zero_grad();
            c.zero_grad();
            (a * b + c).sum().backward();
        },
        9, 3);
    std::printf("| what | GB/s |\n|---|---|\n");
    std::printf("| plain memcpy of 4M floats (read + write) | %.1f |\n", 2 * mb / copy);
    std::printf("| forward, no_grad | %.1f |\n| forward, recording | %.1f |\n", 3 * mb / nograd,
                3 * mb / fwd);
    std::printf("| forward + backward | %.1f |\n", 6 * mb / fwdbwd);
}

}  // namespace

int main() {
    std::printf("# xgrad foundation benchmarks\n");
    bench_matmul();
    bench_chain();
    bench_elementwise();
    return 0;
}
