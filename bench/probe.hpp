// Contention probe for benchmarks on a shared host: a dependent chain of register adds (one per
// cycle) on `threads` threads at once; returns the slowest thread's effective clock in GHz.
// An uncontended core of the benchmark machine reads about 4.2 GHz; about half that at 2 threads
// means the host ran both vCPUs on one physical core during the trial. The same method as the
// peers' probe (bench/peers/hw/probe.h), so both sides' trials are filtered alike. It first
// sleeps so that worker threads the benchmark left spinning (OpenBLAS spins ~0.1 s) park.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace xgrad::bench {

inline double probe_ghz(int threads, double ms = 30.0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    std::vector<double> ghz(static_cast<std::size_t>(threads), 0.0);
    auto worker = [ms](double* out) {
        std::uint64_t x = 0;
        const std::uint64_t one = 1;
        std::int64_t iters = 0;
        const auto t0 = std::chrono::steady_clock::now();
        double t = 0;
        do {
            for (int k = 0; k < 2000; ++k)
                __asm__ volatile(
                    "add %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\t"
                    "add %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\tadd %1,%0\n\t"
                    : "+r"(x)
                    : "r"(one));
            iters += 2000;
            t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        } while (t < ms * 1e-3);
        *out = 10.0 * double(iters) / t / 1e9;
    };
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back(worker, &ghz[static_cast<std::size_t>(i)]);
    worker(&ghz[0]);
    for (auto& th : pool) th.join();
    return *std::min_element(ghz.begin(), ghz.end());
}

}  // namespace xgrad::bench
