// The workloads of the PyTorch peers (bench/peers/torch_bench.py), in xgrad, with the same
// shapes, optimizer and data: MLP training steps, an MLP epoch, a LeNet-style CNN step, the
// per-op overhead chain, a large elementwise expression (with a plain memcpy as the memory
// limit), and matmul against a direct sgemm call. `bench/run_vs_pytorch.py` runs this program and
// the PyTorch ones interleaved and prints the side-by-side table; run alone, it prints its own
// medians.
//
//   bench_workloads [--threads N] [--only mlp64,cnn64,...] [--raw] [--no-probe]
//   bench_workloads --memory EPOCHS [--threads N]     (peak/current RSS after each MLP epoch)
//
// With --raw every trial is one line, "T <bench> <threads> <probe_before> <probe_after>
// <seconds per call>...", the format of the peers' libtorch program. The probe (probe.hpp) reads
// how much CPU the shared host gave us around each trial.
#include <cblas.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <xgrad/data.hpp>
#include <xgrad/xgrad.hpp>

#include "probe.hpp"

using namespace xgrad;

namespace {

const char* kData = "/usr/share/datasets/fashion-mnist";

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Runner {
    int threads = 1;
    bool raw = false;
    bool probe = true;  // --no-probe: for profilers, which would count the probe's spinning
    std::set<std::string> only;
    std::map<std::string, std::vector<double>> calls;  // bench -> seconds per call
    std::vector<std::string> order;

    bool wanted(const std::string& name) const { return only.empty() || only.count(name) > 0; }

    // n_trials trials of n_inner timed calls after `warm` untimed ones; a trial stops after
    // cap_s / min_trials seconds and the bench after cap_s, so a contended phase of the shared
    // host cannot stretch the run (the same caps as the peers' run_trials).
    void run(const std::string& name, const std::function<void()>& fn, int n_trials, int n_inner,
             int warm, double cap_s = 2.5, int min_trials = 3) {
        if (!wanted(name)) return;
        for (int i = 0; i < warm; ++i) fn();
        double spent = 0, p0 = probe_now();
        for (int t = 0; t < n_trials; ++t) {
            std::vector<double> ts;
            const double tt = now();
            // The first call after the probe's sleep runs with cold caches: not recorded.
            for (int i = 0; i < n_inner + (n_inner > 1 ? 1 : 0); ++i) {
                const double t0 = now();
                fn();
                if (i > 0 || n_inner == 1) ts.push_back(now() - t0);
                if (now() - tt > cap_s / min_trials) break;
            }
            spent += now() - tt;
            const double p1 = probe_now();
            record(name, ts, p0, p1);
            p0 = p1;
            if (spent > cap_s && t + 1 >= min_trials) break;
        }
    }

    double probe_now() const { return probe ? bench::probe_ghz(threads) : 0.0; }

    void record(const std::string& name, const std::vector<double>& ts, double p0, double p1) {
        if (raw) {
            std::printf("T %s %d %.2f %.2f", name.c_str(), threads, p0, p1);
            for (double x : ts) std::printf(" %.9f", x);
            std::printf("\n");
            std::fflush(stdout);
        }
        if (!calls.count(name)) order.push_back(name);
        auto& v = calls[name];
        v.insert(v.end(), ts.begin(), ts.end());
    }
};

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

nn::Sequential make_mlp() {
    return nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                          nn::Linear(128, 10));
}

nn::Sequential make_cnn() {
    return nn::Sequential(nn::Conv2d(1, 6, 5), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(6, 16, 5),
                          nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(256, 120),
                          nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
}

// One training step as the peers time it: zero_grad, forward, cross-entropy, backward, step.
void train_step(nn::Module& model, optim::Optimizer& opt, const Tensor& x, const Tensor& y) {
    opt.zero_grad();
    nn::cross_entropy(model(x), y).backward();
    opt.step();
}

// One epoch at batch 64 with a fresh permutation and a gather per batch, as the peers do.
void train_epoch(nn::Module& model, optim::Optimizer& opt, const Tensor& X, const Tensor& Y,
                 Generator& gen) {
    const std::int64_t n = X.size(0);
    const std::vector<std::int64_t> perm = data::randperm(n, gen);
    for (std::int64_t s = 0; s < n; s += 64) {
        const std::int64_t e = std::min(s + 64, n);
        const Tensor idx = tensor(std::vector<std::int64_t>(perm.begin() + s, perm.begin() + e));
        train_step(model, opt, index_select(X, 0, idx), index_select(Y, 0, idx));
    }
}

void bench_training(Runner& r, const Tensor& X, const Tensor& Y) {
    const std::int64_t n = X.size(0);
    for (std::int64_t bs : {64, 256}) {
        const std::string name = bs == 64 ? "mlp64" : "mlp256";
        if (!r.wanted(name)) continue;
        manual_seed(0);
        nn::Sequential model = make_mlp();
        optim::SGD opt(model.parameters(), {.lr = 0.05, .momentum = 0.9});
        std::int64_t i = 0;
        r.run(
            name,
            [&] {
                const std::int64_t s = (i++ * bs) % (n - bs);
                train_step(model, opt, X.narrow(0, s, bs), Y.narrow(0, s, bs));
            },
            7, bs == 64 ? 100 : 40, 10);
    }
    if (r.wanted("epoch64")) {
        manual_seed(0);
        nn::Sequential model = make_mlp();
        optim::SGD opt(model.parameters(), {.lr = 0.05, .momentum = 0.9});
        Generator gen(0);
        r.run(
            "epoch64", [&] { train_epoch(model, opt, X, Y, gen); }, 3, 1, 0, 3.0, 1);
    }
    // The same epoch with Adam (lr 1e-3), the main job's optimizer: the figure the example's
    // epoch (DataLoader, scheduler, progress bar, metrics) is compared with.
    if (r.wanted("epoch64_adam")) {
        manual_seed(0);
        nn::Sequential model = make_mlp();
        optim::Adam opt(model.parameters(), {.lr = 1e-3});
        Generator gen(0);
        r.run(
            "epoch64_adam", [&] { train_epoch(model, opt, X, Y, gen); }, 3, 1, 0, 3.0, 1);
    }
    if (r.wanted("cnn64")) {
        manual_seed(0);
        nn::Sequential cnn = make_cnn();
        optim::SGD opt(cnn.parameters(), {.lr = 0.05, .momentum = 0.9});
        std::int64_t i = 0;
        r.run(
            "cnn64",
            [&] {
                const std::int64_t s = (i++ * 64) % (n - 64);
                train_step(cnn, opt, X.narrow(0, s, 64).reshape({64, 1, 28, 28}),
                           Y.narrow(0, s, 64));
            },
            7, 30, 5);
    }
}

void bench_chain(Runner& r) {
    Tensor x = randn({4}).requires_grad_();
    auto chain = [&] {
        Tensor y = x;
        for (int i = 0; i < 100; ++i) {
            const int k = i % 3;
            y = k == 0 ? y * 1.0001 : (k == 1 ? y + 0.0001 : tanh(y));
        }
        return y;
    };
    r.run(
        "chain_nograd",
        [&] {
            NoGradGuard g;
            chain();
        },
        7, 50, 5, 1.5);
    r.run(
        "chain_fwd", [&] { chain(); }, 7, 50, 5, 1.5);
    r.run(
        "chain_fwdbwd",
        [&] {
            x.zero_grad();
            chain().sum().backward();
        },
        7, 50, 5, 1.5);
}

void bench_elementwise(Runner& r) {
    if (!r.wanted("bigew_fwd") && !r.wanted("bigew_fwdbwd") && !r.wanted("memcpy4M")) return;
    const std::int64_t n = 4 * 1024 * 1024;
    Generator g(2);
    Tensor a = randn({n}, g).requires_grad_(), b = randn({n}, g).requires_grad_(),
           c = randn({n}, g).requires_grad_();
    // The limit: one plain copy of a 4M-float array (read + write), on the calling thread.
    std::vector<float> src(static_cast<std::size_t>(n), 1.f), dst(static_cast<std::size_t>(n));
    r.run(
        "memcpy4M", [&] { std::memcpy(dst.data(), src.data(), src.size() * sizeof(float)); }, 7, 5,
        2, 1.5);
    r.run(
        "bigew_fwd", [&] { (a * b + c).sum(); }, 7, 5, 2, 1.5);
    r.run(
        "bigew_fwdbwd",
        [&] {
            a.zero_grad();
            b.zero_grad();
            c.zero_grad();
            (a * b + c).sum().backward();
        },
        7, 5, 2, 1.5);
}

// matmul against cblas_sgemm on the same buffers, trials alternating between the two.
void bench_matmul(Runner& r) {
    for (std::int64_t n : {256, 512, 1024}) {
        const std::string mm = "matmul" + std::to_string(n), sg = "sgemm" + std::to_string(n);
        if (!r.wanted(mm) && !r.wanted(sg)) continue;
        Generator g(1);
        Tensor a = randn({n, n}, g), b = randn({n, n}, g);
        Tensor c = empty({n, n});
        const int inner = n <= 256 ? 40 : (n <= 512 ? 10 : 3);
        auto ours = [&] { c = matmul(a, b); };
        auto direct = [&] {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.f,
                        a.data_ptr<float>(), int(n), b.data_ptr<float>(), int(n), 0.f,
                        c.data_ptr<float>(), int(n));
        };
        for (int trial = 0; trial < 7; ++trial) {
            r.run(mm, ours, 1, inner, trial == 0 ? 3 : 0, 1.0, 1);
            r.run(sg, direct, 1, inner, trial == 0 ? 3 : 0, 1.0, 1);
        }
    }
    // The MLP step's largest products, M x K times K x N: layer 1 forward, its weight gradient
    // (K = the batch), layer 2 forward. Named mm_M_K_N; run_vs_pytorch.py sets them against the
    // core's FMA peak and derives the step's arithmetic limit from them.
    for (auto [m, k, n] :
         {std::array<std::int64_t, 3>{64, 784, 256}, {256, 64, 784}, {64, 256, 128}}) {
        const std::string name =
            "mm_" + std::to_string(m) + "_" + std::to_string(k) + "_" + std::to_string(n);
        if (!r.wanted(name)) continue;
        Generator g(1);
        Tensor a = randn({m, k}, g), b = randn({k, n}, g);
        Tensor c;
        r.run(
            name, [&] { c = matmul(a, b); }, 7, 200, 20, 1.0, 1);
    }
}

// Resident set size now, from /proc/self/statm, in MiB.
double current_rss_mib() {
    std::ifstream f("/proc/self/statm");
    long pages_total = 0, pages_resident = 0;
    f >> pages_total >> pages_resident;
    return double(pages_resident) * 4096.0 / (1024.0 * 1024.0);
}

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

// Peak and current resident memory after loading the data and after each MLP epoch.
int run_memory(int epochs, const Tensor& X, const Tensor& Y) {
    std::printf("M loaded %.1f %.1f\n", peak_rss_mib(), current_rss_mib());
    manual_seed(0);
    nn::Sequential model = make_mlp();
    optim::SGD opt(model.parameters(), {.lr = 0.05, .momentum = 0.9});
    Generator gen(0);
    for (int e = 1; e <= epochs; ++e) {
        const double t0 = now();
        train_epoch(model, opt, X, Y, gen);
        std::printf("M epoch%d %.1f %.1f %.3f\n", e, peak_rss_mib(), current_rss_mib(), now() - t0);
        std::fflush(stdout);
    }
    return 0;
}

void print_summary(const Runner& r) {
    std::printf("\n| bench | threads | calls | median | unit |\n|---|---|---|---|---|\n");
    for (const std::string& name : r.order) {
        const std::vector<double>& v = r.calls.at(name);
        const double m = median(v);
        double shown = m * 1e3;
        const char* unit = "ms";
        if (name.rfind("chain", 0) == 0) {
            shown = m * 1e6 / 100;
            unit = "us/op";
        } else if (name.rfind("epoch64", 0) == 0) {
            shown = m;
            unit = "s";
        } else if (name.rfind("bigew", 0) == 0 || name == "memcpy4M") {
            const double gb = 4.0 * 4 * 1024 * 1024 / 1e9;
            shown = (name == "bigew_fwdbwd" ? 6 : name == "bigew_fwd" ? 3 : 2) * gb / m;
            unit = "GB/s effective";
        }
        std::printf("| %s | %d | %zu | %.3f | %s |\n", name.c_str(), r.threads, v.size(), shown,
                    unit);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Runner r;
    int memory_epochs = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--threads" && has_value) {
            r.threads = std::atoi(argv[++i]);
        } else if (a == "--only" && has_value) {
            std::stringstream ss(argv[++i]);
            for (std::string item; std::getline(ss, item, ',');) r.only.insert(item);
        } else if (a == "--memory" && has_value) {
            memory_epochs = std::atoi(argv[++i]);
        } else if (a == "--raw") {
            r.raw = true;
        } else if (a == "--no-probe") {
            r.probe = false;
        } else {
            std::fprintf(stderr,
                         "usage: bench_workloads [--threads N] [--only a,b] [--raw] "
                         "[--no-probe] [--memory EPOCHS]\n");
            return 2;
        }
    }
    if (r.threads < 1) r.threads = 1;
    set_num_threads(r.threads);

    data::TensorDataset train;
    try {
        train = data::FashionMNIST::load(kData, data::Split::Train, {.flatten = true});
    } catch (const Error& e) {
        std::fprintf(stderr, "bench_workloads: needs Fashion-MNIST (%s)\n", e.what());
        return 1;
    }
    const Tensor& X = train.inputs();
    const Tensor& Y = train.targets();
    if (memory_epochs > 0) return run_memory(memory_epochs, X, Y);

    std::printf("# xgrad workloads, threads=%d\n", r.threads);
    bench_training(r, X, Y);
    bench_chain(r);
    bench_elementwise(r);
    bench_matmul(r);
    print_summary(r);
    return 0;
}
