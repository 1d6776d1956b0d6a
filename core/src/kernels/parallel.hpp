// Splitting large memory-bound loops (elementwise maps, full sums, fills and copies) across the
// threads set with xgrad::set_num_threads, which is also OpenBLAS's thread count: one setting
// for both, so the two never ask for more cores than the user gave.
//
// The workers sleep on a condition variable between jobs (no spinning), so a worker never takes
// a core from OpenBLAS's own threads, and OpenBLAS's idle threads (which spin a while after a
// matrix product, then yield) give way to ours. Only loops of at least kParallelGrain elements
// are split: below that, waking a worker costs more than it saves.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>

namespace xgrad::kernels {

// Elements per chunk. Chunk boundaries are multiples of this whatever the thread count, so
// that a chunked reduction adds the same partial sums in the same order with 1 or 2 threads.
constexpr std::int64_t kParallelGrain = std::int64_t(1) << 18;

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

// Elementwise loops over n elements: grain kParallelGrain.
inline void parallel_for(std::int64_t n,
                         const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& fn) {
    parallel_for(n, kParallelGrain, fn);
}

// Loops over `items` independent pieces of `work_per_item` elements each (image planes, say):
// chunks of about kParallelGrain elements. (Measured: with chunks of 32K elements, LeNet's
// pooling and im2col ran slower on 2 threads than on 1; waking a sleeping worker on this VM costs
// tens of microseconds.)
inline void parallel_for_items(
    std::int64_t items, std::int64_t work_per_item,
    const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& fn) {
    parallel_for(
        items, std::max<std::int64_t>(1, kParallelGrain / std::max<std::int64_t>(1, work_per_item)),
        fn);
}

}  // namespace xgrad::kernels
