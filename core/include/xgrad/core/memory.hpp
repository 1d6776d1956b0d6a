// Statistics of tensor memory, named after torch.cuda's memory_allocated /
// max_memory_allocated / reset_peak_memory_stats: how many bytes of tensor data are live now,
// and the most that were live at once since the last reset. Benchmarks use them to compare
// the peak memory of two ways to compute the same thing (e.g. autograd::checkpoint).
#pragma once
#include <cstddef>

namespace xgrad {

struct MemoryStats {
    // Bytes of tensor storage handed out and not yet freed (requested sizes: a float tensor of
    // n elements counts 4 n bytes), over all threads.
    std::size_t allocated_bytes = 0;
    // The largest allocated_bytes seen since the start or the last reset_peak_memory_stats().
    std::size_t peak_allocated_bytes = 0;
    // Bytes of freed large blocks kept for reuse by the allocator's cache (not counted above).
    std::size_t cached_bytes = 0;
};

MemoryStats memory_stats();
// Sets the peak to the bytes allocated now, so that the next peak measures one region of code.
void reset_peak_memory_stats();

}  // namespace xgrad
