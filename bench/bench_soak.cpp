// Soak: trains a small MLP (32-64-64-10, ReLU, Adam, batch 64) on synthetic data for many steps
// and watches the resident memory. A leak of even one small tensor, node or optimizer buffer per
// step shows up as a steady climb over 100 000 steps; a healthy run is flat once the allocator's
// cache and the optimizer state have warmed up (the first report, at step 10 000).
//
//   bench_soak [--steps N] [--every N] [--threads N]
//
// Prints step, the mean loss over the last interval, VmRSS (from /proc/self/status, MiB) and the
// time per step every `--every` steps (default 10 000), then the spread of VmRSS over the reports
// (max - min, as a percentage of the first report). Exits 1 unless the spread is within 2 %.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

using namespace xgrad;

namespace {

constexpr double kFlatPercent = 2.0;

// VmRSS of this process in MiB, from /proc/self/status (-1 if it cannot be read).
double vm_rss_mib() {
    std::ifstream f("/proc/self/status");
    for (std::string line; std::getline(f, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    }
    return -1;
}

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int usage() {
    std::fprintf(stderr, "usage: bench_soak [--steps N] [--every N] [--threads N]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    long long steps = 100000, every = 10000;
    int threads = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return usage();
        if (a == "--steps") {
            steps = std::atoll(argv[++i]);
        } else if (a == "--every") {
            every = std::atoll(argv[++i]);
        } else if (a == "--threads") {
            threads = std::atoi(argv[++i]);
        } else {
            return usage();
        }
    }
    if (steps < 1 || every < 1 || threads < 1) return usage();
    set_num_threads(threads);

    // Synthetic data from fixed seeds: 4096 samples of 32 features, labelled by a random linear
    // teacher (the argmax of 10 scores), so the loss falls.
    constexpr std::int64_t kSamples = 4096, kIn = 32, kClasses = 10, kBatch = 64;
    Generator data_gen(2024);
    const Tensor X = randn({kSamples, kIn}, data_gen);
    const Tensor teacher = randn({kIn, kClasses}, data_gen);
    const Tensor Y = matmul(X, teacher).argmax(1);

    manual_seed(7);
    nn::Sequential model(nn::Linear(kIn, 64), nn::ReLU(), nn::Linear(64, 64), nn::ReLU(),
                         nn::Linear(64, kClasses));
    optim::Adam opt(model.parameters(), {.lr = 1e-3});

    std::printf("# xgrad soak: MLP %lld-64-64-%lld, Adam, batch %lld, %lld steps, threads=%d\n",
                static_cast<long long>(kIn), static_cast<long long>(kClasses),
                static_cast<long long>(kBatch), steps, get_num_threads());
    std::printf("# VmRSS before training: %.2f MiB\n", vm_rss_mib());
    std::printf("%10s | %10s | %10s | %10s\n", "step", "mean loss", "VmRSS MiB", "us/step");
    std::fflush(stdout);

    std::vector<double> rss;
    double loss_sum = 0, t0 = now();
    long long in_interval = 0;
    const std::int64_t batches = kSamples / kBatch;
    for (long long step = 1; step <= steps; ++step) {
        const std::int64_t start = ((step - 1) % batches) * kBatch;
        opt.zero_grad();
        Tensor loss =
            nn::cross_entropy(model(X.narrow(0, start, kBatch)), Y.narrow(0, start, kBatch));
        loss.backward();
        opt.step();
        loss_sum += loss.item<double>();
        ++in_interval;
        if (step % every == 0 || step == steps) {
            const double t1 = now();
            rss.push_back(vm_rss_mib());
            std::printf("%10lld | %10.3g | %10.2f | %10.1f\n", step, loss_sum / in_interval,
                        rss.back(), (t1 - t0) / in_interval * 1e6);
            std::fflush(stdout);
            loss_sum = 0;
            in_interval = 0;
            t0 = now();
        }
    }

    const double first = rss.front(), last = rss.back();
    const auto [lo, hi] = std::minmax_element(rss.begin(), rss.end());
    const double spread = first > 0 ? (*hi - *lo) / first * 100.0 : 0.0;
    const bool flat = first > 0 && spread <= kFlatPercent;
    std::printf("# VmRSS first report %.2f MiB, last %.2f MiB (%+.2f %%), min %.2f, max %.2f\n",
                first, last, first > 0 ? (last - first) / first * 100.0 : 0.0, *lo, *hi);
    std::printf("# spread (max - min) / first: %.2f %% -> %s (limit %.0f %%)\n", spread,
                flat ? "flat" : "NOT flat", kFlatPercent);
    return flat ? 0 : 1;
}
