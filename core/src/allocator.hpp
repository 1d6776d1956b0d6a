// Tensor memory. Large blocks are kept in a bounded cache after they are freed, because fresh
// large allocations come from mmap and pay a page fault per 4 KiB on first touch (measured: a
// 16 MB temporary costs more than the arithmetic done in it). A training loop allocates the
// same sizes every step, so they are served from the cache.
//
// It also counts the bytes it hands out (current and peak, for xgrad/core/memory.hpp).
#pragma once
#include <cstddef>

namespace xgrad::detail {

// 64-byte aligned; `nbytes` may be 0.
void* allocate(std::size_t nbytes);
void deallocate(void* ptr, std::size_t nbytes);

}  // namespace xgrad::detail
