// Per-thread free lists for the tape's small, short-lived objects: tensor handles (TensorImpl),
// storages and graph nodes. Every recorded op makes one of each, and a graph frees them all at
// once when it is dropped, which overflows glibc's per-thread cache (7 blocks per size): the
// rest went through malloc's arena, which locks once the process has a second thread. That was
// the larger part of a recorded op's time in a 2-thread process (perf, the 100-op chain).
//
// Used through std::allocate_shared with PoolAllocator; blocks over 1 KiB go to operator new.
// A block freed on another thread joins that thread's lists; a thread's lists are freed when it
// exits. Sanitizer builds skip the lists, so use-after-free stays visible to ASan.
#pragma once
#include <cstddef>

namespace xgrad::detail {

void* pool_allocate(std::size_t nbytes);
void pool_deallocate(void* ptr, std::size_t nbytes) noexcept;

template <class T>
struct PoolAllocator {
    using value_type = T;
    static_assert(alignof(T) <= alignof(std::max_align_t),
                  "pooled objects are max_align_t aligned");

    PoolAllocator() = default;
    template <class U>
    PoolAllocator(const PoolAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { pool_deallocate(p, n * sizeof(T)); }

    template <class U>
    bool operator==(const PoolAllocator<U>&) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const PoolAllocator<U>&) const noexcept {
        return false;
    }
};

}  // namespace xgrad::detail
