// Splitting large memory-bound loops (elementwise maps, full sums, fills and copies), image
// planes and batches of small matrix products across the threads set with
// xgrad::set_num_threads, which is also the thread count of oneDNN (float32 products) and
// OpenBLAS (float64 products): one setting for all, so they never ask for more cores than the
// user gave. A large single product is threaded by the BLAS itself; xgrad splits only batches of
// small products, each piece then running its products on one thread.
//
// A worker that finished a job spins briefly (1 ms) for the next one, then sleeps on a
// condition variable: waking a sleeping thread costs tens of microseconds on the benchmark VM,
// and each sleep and wake is a futex call. With 200 us the main job (2 threads) spent 5-12 % of
// its user time in the kernel; with 1 ms, 3-4 % (`time`, 2026-12-03), at the same wall time.
// Measured on a LeNet step with 2 threads: sleeping workers gave no gain over 1 thread, briefly
// spinning ones 12 %; OpenBLAS's own idle threads yield, so the two pools share the second core.
// Only loops of at least two grains are split: below that a split costs more than it saves.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>

namespace xgrad::kernels {

// Elements per chunk. Chunk boundaries are multiples of this whatever the thread count, so
// that a chunked reduction adds the same partial sums in the same order with 1 or 2 threads.
constexpr std::int64_t kParallelGrain = std::int64_t(1) << 16;

// [0, n) in chunks of `grain` items: chunk c covers [c * grain, (c + 1) * grain), the last one
// up to n (so a loop of fewer than 2 grains is one chunk).
inline std::int64_t chunk_count(std::int64_t n, std::int64_t grain = kParallelGrain) {
    return std::max<std::int64_t>(1, n / grain);
}
inline std::int64_t chunk_end(std::int64_t c, std::int64_t n, std::int64_t grain = kParallelGrain) {
    return c + 1 == chunk_count(n, grain) ? n : (c + 1) * grain;
}

// Runs fn(c, begin, end) for every chunk c of [0, n), on up to get_num_threads() threads, the
// caller's among them; serial when there is one chunk, one thread, or the call comes from
// inside a parallel region. Chunks must write disjoint outputs.
void parallel_for(std::int64_t n, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& fn);

// True on a thread that is running a chunk of parallel_for (there, work is not split again, and
// a matrix product runs on that one thread).
bool in_parallel_region();

// Elementwise loops over n elements: grain kParallelGrain. A loop of one chunk (every tensor of
// fewer than 2 grains) calls fn directly, without building a std::function: the op overhead of
// small tensors stays as it was.
template <class F>
void parallel_for(std::int64_t n, F&& fn) {
    if (chunk_count(n) == 1) {
        fn(std::int64_t(0), std::int64_t(0), n);
        return;
    }
    parallel_for(n, kParallelGrain,
                 std::function<void(std::int64_t, std::int64_t, std::int64_t)>(fn));
}

// Loops over `items` independent pieces of `work_per_item` elements each (image planes, say):
// chunks of about kItemsGrain elements, finer than a map's, since these loops do more work per
// element (a window of reads). Measured on a LeNet step with 2 threads: 2.05 ms with chunks of
// kParallelGrain, 1.8 ms with these.
constexpr std::int64_t kItemsGrain = std::int64_t(1) << 15;

template <class F>
void parallel_for_items(std::int64_t items, std::int64_t work_per_item, F&& fn) {
    const std::int64_t grain =
        std::max<std::int64_t>(1, kItemsGrain / std::max<std::int64_t>(1, work_per_item));
    if (chunk_count(items, grain) == 1) {
        fn(std::int64_t(0), std::int64_t(0), items);
        return;
    }
    parallel_for(items, grain, std::function<void(std::int64_t, std::int64_t, std::int64_t)>(fn));
}
}  // namespace xgrad::kernels
