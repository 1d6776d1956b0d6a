// One T per thread, made on first use and destroyed when the thread exits, behind a trivially
// destructible pointer: code that runs during the thread's (or the program's) teardown, after
// the T is gone, gets a null pointer instead of a destroyed object. The allocator's small-block
// cache and the object pool's free lists live here; when get() is null they fall back to the
// system allocator. Under AddressSanitizer get() is always null: memory kept for reuse would hide
// a use after free from ASan, so sanitizer builds allocate and free every block for real.
#pragma once
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define XGRAD_PER_THREAD_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XGRAD_PER_THREAD_DISABLED 1
#endif
#endif

namespace xgrad::detail {

template <class T>
class PerThread {
  public:
    // The calling thread's T; null if it could not be made or the thread is being torn down.
    static T* get() {
#ifdef XGRAD_PER_THREAD_DISABLED
        return nullptr;
#else
        if (!ptr_ && !dead_) {
            (void)&owner_;  // odr-use: constructs this thread's owner, whose destructor frees T
            ptr_ = new (std::nothrow) T();
        }
        return ptr_;
#endif
    }
    // The calling thread's T if it exists, without making one.
    static T* existing() {
        return ptr_;
    }

  private:
    struct Owner {
        ~Owner() {
            delete ptr_;
            ptr_ = nullptr;
            dead_ = true;
        }
    };
    static thread_local T* ptr_;
    static thread_local bool dead_;
    static thread_local Owner owner_;
};

template <class T>
thread_local T* PerThread<T>::ptr_ = nullptr;
template <class T>
thread_local bool PerThread<T>::dead_ = false;
template <class T>
thread_local typename PerThread<T>::Owner PerThread<T>::owner_;

}  // namespace xgrad::detail
