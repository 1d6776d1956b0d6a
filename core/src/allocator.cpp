#include "allocator.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <xgrad/core/check.hpp>
#include <xgrad/core/memory.hpp>
#include "per_thread.hpp"

namespace xgrad::detail {

namespace {

constexpr std::size_t kCacheFrom = std::size_t(1) << 16;   // blocks from 64 KiB are cached
constexpr std::size_t kCacheLimit = std::size_t(1) << 30;  // at most 1 GiB kept for reuse
// Blocks past 64 MiB go back to the system when freed. Such a block is mostly a one-off (a
// dataset, its conversion, a normalised copy): cached, it would stay resident for the rest of
// the run (the main job held three copies of the 188 MB training set). The page faults of
// allocating it afresh cost little next to the work done on 64 MiB.
constexpr std::size_t kCacheUpTo = std::size_t(64) << 20;

// Sizes past this are refused before rounding (which could wrap) and before asking the system.
constexpr std::size_t kMaxBytes = std::size_t(1) << 62;

[[noreturn]] void out_of_memory(std::size_t nbytes) {
    raise<OutOfMemoryError>("allocate", "out of memory: cannot allocate ", nbytes, " bytes (",
                            double(nbytes) / double(1 << 30), " GiB)");
}

std::size_t rounded(std::size_t n) {
    if (n <= 4096) return ((n + 63) / 64) * 64 + (n == 0 ? 64 : 0);
    if (n < kCacheFrom) return ((n + 1023) / 1024) * 1024;
    return ((n + 4095) / 4096) * 4096;  // whole pages, so sizes repeat across steps
}

// Small blocks (under 64 KiB: every tensor of the op chain, the MLP's activations) are kept in a
// per-thread cache, because glibc serves aligned_alloc outside its thread cache: each call went
// through _int_memalign and _int_free, which lock the arena in a process with threads, and that
// was half the time of a recorded op (perf, the 100-op chain at 2 threads). Size classes: 64
// bytes apart up to 4 KiB, then 1 KiB apart; a few blocks per class. (Not under ASan:
// per_thread.hpp.)
constexpr std::size_t kSmallClasses = 64 + 60;
constexpr int kSmallDepth = 16;
std::size_t small_class(std::size_t size) {
    return size <= 4096 ? size / 64 - 1 : 64 + (size - 4096) / 1024 - 1;
}

struct SmallCache {
    void* blocks[kSmallClasses][kSmallDepth];
    int count[kSmallClasses] = {};
    void release() {
        for (std::size_t c = 0; c < kSmallClasses; ++c)
            for (int i = 0; i < count[c]; ++i) std::free(blocks[c][i]);
        std::fill(count, count + kSmallClasses, 0);
    }
    ~SmallCache() { release(); }
};

SmallCache* small_cache() {
    return PerThread<SmallCache>::get();
}

struct BlockCache {
    std::mutex mutex;
    std::unordered_map<std::size_t, std::vector<void*>> free_blocks;
    std::size_t cached_bytes = 0;

    ~BlockCache() {
        for (auto& [size, blocks] : free_blocks)
            for (void* p : blocks) std::free(p);
    }
};

BlockCache& cache() {
    static BlockCache* c = new BlockCache();  // never destroyed: tensors may die after main
    return *c;
}

// Statistics: relaxed atomics, because they order nothing; they only count. The peak is raised
// with a compare-exchange loop that runs only when a new maximum is reached.
std::atomic<std::size_t> g_allocated{0};
std::atomic<std::size_t> g_peak{0};

void count_allocation(std::size_t nbytes) {
    const std::size_t now = g_allocated.fetch_add(nbytes, std::memory_order_relaxed) + nbytes;
    std::size_t peak = g_peak.load(std::memory_order_relaxed);
    while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
}

void release_cached_blocks() {
    BlockCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    for (auto& [size, blocks] : c.free_blocks) {
        for (void* p : blocks) std::free(p);
        blocks.clear();
    }
    c.cached_bytes = 0;
}

}  // namespace

void* allocate(std::size_t nbytes) {
    if (nbytes > kMaxBytes) out_of_memory(nbytes);
    const std::size_t size = rounded(nbytes);
    if (size < kCacheFrom) {
        if (SmallCache* c = small_cache()) {
            const std::size_t k = small_class(size);
            if (c->count[k] > 0) {
                count_allocation(nbytes);
                return c->blocks[k][--c->count[k]];
            }
        }
    }
    if (size >= kCacheFrom && size <= kCacheUpTo) {
        BlockCache& c = cache();
        std::lock_guard<std::mutex> lock(c.mutex);
        auto it = c.free_blocks.find(size);
        if (it != c.free_blocks.end() && !it->second.empty()) {
            void* p = it->second.back();
            it->second.pop_back();
            c.cached_bytes -= size;
            count_allocation(nbytes);
            return p;
        }
    }
    void* p = std::aligned_alloc(64, size);
    if (!p) {
        // The cache may hold the memory: give it back to the system and try once more.
        release_cached_blocks();
        if (SmallCache* c = PerThread<SmallCache>::existing()) c->release();
        p = std::aligned_alloc(64, size);
    }
    if (!p) out_of_memory(nbytes);
    count_allocation(nbytes);
    return p;
}

void deallocate(void* ptr, std::size_t nbytes) {
    if (!ptr) return;
    g_allocated.fetch_sub(nbytes, std::memory_order_relaxed);
    const std::size_t size = rounded(nbytes);
    if (size < kCacheFrom) {
        if (SmallCache* c = small_cache()) {
            const std::size_t k = small_class(size);
            if (c->count[k] < kSmallDepth) {
                c->blocks[k][c->count[k]++] = ptr;
                return;
            }
        }
    }
    if (size >= kCacheFrom && size <= kCacheUpTo) {
        BlockCache& c = cache();
        std::lock_guard<std::mutex> lock(c.mutex);
        if (c.cached_bytes + size <= kCacheLimit) {
            c.free_blocks[size].push_back(ptr);
            c.cached_bytes += size;
            return;
        }
    }
    std::free(ptr);
}

}  // namespace xgrad::detail

namespace xgrad {

MemoryStats memory_stats() {
    MemoryStats s;
    s.allocated_bytes = detail::g_allocated.load(std::memory_order_relaxed);
    s.peak_allocated_bytes = detail::g_peak.load(std::memory_order_relaxed);
    detail::BlockCache& c = detail::cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    s.cached_bytes = c.cached_bytes;
    return s;
}

void reset_peak_memory_stats() {
    detail::g_peak.store(detail::g_allocated.load(std::memory_order_relaxed),
                         std::memory_order_relaxed);
}

}  // namespace xgrad
