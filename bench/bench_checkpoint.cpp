// Gradient checkpointing: peak tensor memory and time of a forward + backward step through a
// deep MLP (Linear + tanh layers of one width), plain and with autograd::checkpoint around
// every segment of k layers.
//
//   bench_checkpoint [--depth N] [--width N] [--batch N] [--steps N] [--threads N]
//
// Per mode it prints, from the allocator's statistics (xgrad/core/memory.hpp), in MiB:
//   kept     tensor bytes live after the forward minus before it: what the graph keeps for
//            backward (the activations; the loss is a scalar)
//   peak     the most bytes live at once during the step, minus those live before it (the
//            parameters and the input): activations, recomputed segments, gradients
//   total    the most bytes live at once during the step, parameters included
// then the median time per step and the largest difference of any parameter's gradient from
// the plain run's (the checkpointed step computes the same thing, so it should be 0).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

using namespace xgrad;

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double mib(std::size_t bytes) {
    return double(bytes) / double(1 << 20);
}

int usage() {
    std::fprintf(stderr,
                 "usage: bench_checkpoint [--depth N] [--width N] [--batch N] [--steps N] "
                 "[--threads N]\n");
    return 2;
}

struct Result {
    double kept = 0, peak = 0, total = 0, ms = 0, grad_diff = 0;
};

}  // namespace

int main(int argc, char** argv) {
    // Many rows per layer width, as the tokens of a transformer batch: activations (depth x
    // batch x width) then outweigh the parameters' gradients (depth x width^2), which every mode
    // holds at the end of backward, so the peak shows what checkpointing saves.
    std::int64_t depth = 32, width = 512, batch = 4096;
    int steps = 3, threads = 2;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return usage();
        if (a == "--depth")
            depth = std::atoll(argv[++i]);
        else if (a == "--width")
            width = std::atoll(argv[++i]);
        else if (a == "--batch")
            batch = std::atoll(argv[++i]);
        else if (a == "--steps")
            steps = std::atoi(argv[++i]);
        else if (a == "--threads")
            threads = std::atoi(argv[++i]);
        else
            return usage();
    }
    if (depth < 1 || width < 1 || batch < 1 || steps < 1 || threads < 1) return usage();
    set_num_threads(threads);

    manual_seed(0);
    std::vector<std::shared_ptr<nn::Linear>> layers;
    for (std::int64_t i = 0; i < depth; ++i)
        layers.push_back(std::make_shared<nn::Linear>(width, width));
    const Tensor x = randn({batch, width});

    // Layers [from, to) on h.
    auto run_layers = [&](Tensor h, std::int64_t from, std::int64_t to) {
        for (std::int64_t i = from; i < to; ++i) h = tanh((*layers[std::size_t(i)])(h));
        return h;
    };
    // k = 0: plain; otherwise a checkpoint around every k layers.
    auto forward = [&](std::int64_t k) {
        if (k == 0) return run_layers(x, 0, depth);
        Tensor h = x;
        for (std::int64_t from = 0; from < depth; from += k) {
            const std::int64_t to = std::min(depth, from + k);
            h = autograd::checkpoint(
                [&run_layers, from, to](const Tensor& t) { return run_layers(t, from, to); }, h);
        }
        return h;
    };
    auto zero_grads = [&] {
        for (auto& l : layers) l->zero_grad();
    };

    std::vector<std::int64_t> modes = {0, 1, 2, 4, 8};
    const auto root = std::int64_t(std::lround(std::sqrt(double(depth))));
    if (std::find(modes.begin(), modes.end(), root) == modes.end()) modes.push_back(root);
    std::sort(modes.begin() + 1, modes.end());

    std::printf(
        "# xgrad checkpoint bench: MLP of %lld x (Linear %lld->%lld + tanh), batch %lld, "
        "float32, forward + backward, median of %d steps, threads=%d\n",
        (long long)depth, (long long)width, (long long)width, (long long)batch, steps, threads);
    std::printf("# parameters %.1f MiB, one activation %.1f MiB\n",
                mib(std::size_t(depth * (width * width + width)) * 4),
                mib(std::size_t(batch * width) * 4));
    std::printf("%-16s | %9s | %9s | %10s | %9s | %10s | %14s\n", "mode", "kept MiB", "peak MiB",
                "total MiB", "ms/step", "vs plain", "max |dgrad|");
    std::printf(
        "-----------------+-----------+-----------+------------+-----------+------------+"
        "---------------\n");

    // The plain run's gradients, outside the allocator so they do not count in later modes.
    std::vector<std::vector<float>> plain_grads;
    double plain_ms = 0, plain_peak = 0;
    for (const std::int64_t k : modes) {
        Result r;
        std::vector<double> times;
        for (int s = 0; s <= steps; ++s) {  // step 0 warms the allocator's cache up
            zero_grads();
            const std::size_t before = memory_stats().allocated_bytes;
            reset_peak_memory_stats();
            const double t0 = now();
            Tensor loss = forward(k).pow(2.0).mean();
            const std::size_t after_forward = memory_stats().allocated_bytes;
            loss.backward();
            const double t1 = now();
            loss = Tensor();
            if (s == 0) continue;
            times.push_back(t1 - t0);
            const MemoryStats m = memory_stats();
            r.kept = mib(after_forward - before);
            r.peak = mib(m.peak_allocated_bytes - before);
            r.total = mib(m.peak_allocated_bytes);
        }
        std::sort(times.begin(), times.end());
        r.ms = 1e3 * times[times.size() / 2];
        std::vector<std::vector<float>> grads;
        for (auto& l : layers)
            for (const Tensor& p : l->parameters()) grads.push_back(p.grad().to_vector<float>());
        if (k == 0) {
            plain_grads = grads;
            plain_ms = r.ms;
            plain_peak = r.peak;
        }
        for (std::size_t i = 0; i < grads.size(); ++i)
            for (std::size_t j = 0; j < grads[i].size(); ++j)
                r.grad_diff =
                    std::max(r.grad_diff, std::abs(double(grads[i][j]) - plain_grads[i][j]));
        const std::string name =
            k == 0 ? std::string("plain") : "every " + std::to_string(k) + " layers";
        std::printf("%-16s | %9.1f | %9.1f | %10.1f | %9.1f | %4.2fx %4.2f | %14.3g\n",
                    name.c_str(), r.kept, r.peak, r.total, r.ms, r.ms / plain_ms,
                    r.peak / plain_peak, r.grad_diff);
    }
    std::printf("# vs plain: time ratio, then peak ratio (peak above the parameters)\n");
    return 0;
}
