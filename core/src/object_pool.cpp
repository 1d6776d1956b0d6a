// Per-thread free lists behind <xgrad/core/object_pool.hpp>.
#include <xgrad/core/object_pool.hpp>

#include <new>

#include "per_thread.hpp"

namespace xgrad::detail {

namespace {

constexpr std::size_t kGranule = 16;      // size classes 16 bytes apart
constexpr std::size_t kMaxPooled = 1024;  // larger blocks are rare: straight to operator new
constexpr std::size_t kClasses = kMaxPooled / kGranule;
constexpr int kDepth = 256;  // blocks kept per class: a graph of a few hundred nodes

struct FreeLists {
    void* blocks[kClasses][kDepth];
    int count[kClasses] = {};
    ~FreeLists() {
        for (std::size_t c = 0; c < kClasses; ++c)
            for (int i = 0; i < count[c]; ++i) ::operator delete(blocks[c][i]);
    }
};

FreeLists* lists() {
    return PerThread<FreeLists>::get();
}

std::size_t class_of(std::size_t nbytes) {
    return (nbytes - 1) / kGranule;
}

}  // namespace

void* pool_allocate(std::size_t nbytes) {
    if (nbytes > 0 && nbytes <= kMaxPooled) {
        const std::size_t k = class_of(nbytes);
        if (FreeLists* l = lists(); l && l->count[k] > 0) return l->blocks[k][--l->count[k]];
        return ::operator new((k + 1) * kGranule);
    }
    return ::operator new(nbytes);
}

void pool_deallocate(void* ptr, std::size_t nbytes) noexcept {
    if (nbytes > 0 && nbytes <= kMaxPooled) {
        const std::size_t k = class_of(nbytes);
        if (FreeLists* l = lists(); l && l->count[k] < kDepth) {
            l->blocks[k][l->count[k]++] = ptr;
            return;
        }
    }
    ::operator delete(ptr);
}

}  // namespace xgrad::detail
