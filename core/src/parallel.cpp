// The worker pool behind kernels::parallel_for (see kernels/parallel.hpp).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <xgrad/core/threads.hpp>
#include "kernels/parallel.hpp"

namespace xgrad::kernels {

namespace {

thread_local bool in_region = false;

// Workers take chunk indices from a shared counter until none are left; the caller takes them
// too and then waits for the workers to finish theirs.
class Pool {
  public:
    ~Pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_) t.join();
    }

    void run(std::int64_t n, std::int64_t grain, std::int64_t chunks, int threads,
             const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& fn) {
        std::lock_guard<std::mutex> one_job(job_mutex_);  // callers from several threads queue
        ensure_workers(threads - 1);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            fn_ = &fn;
            n_ = n;
            grain_ = grain;
            chunks_ = chunks;
            next_.store(0);
            helpers_ = std::min<std::int64_t>(threads - 1, chunks - 1);
            open_ = true;
            error_ = nullptr;
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        work();
        // Every chunk is taken. Close the job: a worker that wakes up only now (the host may not
        // have scheduled it yet) must not join, and the caller waits only for the workers that
        // did join and still run a chunk. Waiting for every worker to check in had made a
        // 2-thread step several times slower than a 1-thread one whenever a worker was
        // descheduled (the MLP step: 0.8 ms, and now and then 3.4 ms).
        {
            std::lock_guard<std::mutex> lock(mutex_);
            open_ = false;
        }
        spin_until([&] { return active_.load(std::memory_order_acquire) == 0; });
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&] { return active_.load() == 0; });
        fn_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

  private:
    void ensure_workers(int count) {
        while (static_cast<int>(threads_.size()) < count) threads_.emplace_back([this] { loop(); });
    }

    // Runs chunks until the counter passes the last one.
    void work() {
        in_region = true;
        for (std::int64_t c = next_.fetch_add(1); c < chunks_; c = next_.fetch_add(1)) {
            try {
                (*fn_)(c, c * grain_, chunk_end(c, n_, grain_));
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
            }
        }
        in_region = false;
    }

    // Spins (with a pause hint) until ready() or kSpin has passed: a worker that finished a job
    // stays awake this long for the next one, and the caller for the workers' last chunks,
    // because waking a sleeping thread costs tens of microseconds here (kernels/parallel.hpp).
    template <class Ready>
    static void spin_until(Ready&& ready) {
        constexpr auto kSpin = std::chrono::microseconds(1000);
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; !ready(); ++i) {
            __builtin_ia32_pause();
            if ((i & 255) == 255 && std::chrono::steady_clock::now() - start > kSpin) return;
        }
    }

    void loop() {
        std::uint64_t seen = 0;
        for (;;) {
            spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
                if (stop_) return;
                seen = generation_.load();
                // Only as many workers as the job asked for join it, and only while it is open.
                if (!open_ || helpers_ == 0) continue;
                --helpers_;
                active_.fetch_add(1, std::memory_order_relaxed);
            }
            work();
            std::lock_guard<std::mutex> lock(mutex_);
            if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1 && !open_) done_.notify_one();
        }
    }

    std::mutex job_mutex_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    std::vector<std::thread> threads_;
    const std::function<void(std::int64_t, std::int64_t, std::int64_t)>* fn_ = nullptr;
    std::int64_t n_ = 0, grain_ = 1, chunks_ = 0, helpers_ = 0;
    std::atomic<std::int64_t> next_{0};
    std::atomic<std::int64_t> active_{0};  // workers that joined the job and have not left it
    bool open_ = false;                    // workers may still join the current job
    std::atomic<std::uint64_t> generation_{0};
    std::exception_ptr error_;
    bool stop_ = false;
};

Pool& pool() {
    static Pool* p = new Pool();  // never destroyed: tensors may be computed after main
    return *p;
}

}  // namespace

bool in_parallel_region() {
    return in_region;
}

void parallel_for(std::int64_t n, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& fn) {
    const std::int64_t chunks = chunk_count(n, grain);
    const int threads = chunks > 1 && !in_region ? get_num_threads() : 1;
    if (threads <= 1) {
        for (std::int64_t c = 0; c < chunks; ++c) fn(c, c * grain, chunk_end(c, n, grain));
        return;
    }
    pool().run(n, grain, chunks, threads, fn);
}

}  // namespace xgrad::kernels
