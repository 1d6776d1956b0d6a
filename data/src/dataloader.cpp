// DataLoader: epoch order, batch assembly and the optional prefetch thread.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>

#include <xgrad/core/check.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/data/dataloader.hpp>

namespace xgrad::data {

namespace {

// A distinct, well-mixed seed for each (seed, epoch) pair.
std::uint64_t epoch_seed(std::uint64_t seed, std::int64_t epoch) {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (static_cast<std::uint64_t>(epoch) + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace

struct DataLoader::Epoch {
    struct Slot {
        Batch batch;
        std::exception_ptr error;
    };

    DatasetPtr dataset;
    std::vector<std::int64_t> order;
    std::int64_t batch_size = 1;
    std::int64_t num_batches = 0;
    std::int64_t position = 0;
    bool done = false;
    Batch current;

    bool prefetch = false;
    std::size_t depth = 2;
    std::thread worker;
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<Slot> ready;
    bool stop = false;

    Epoch() = default;
    Epoch(const Epoch&) = delete;
    Epoch& operator=(const Epoch&) = delete;

    ~Epoch() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            stop = true;
        }
        cv.notify_all();
        if (worker.joinable()) worker.join();
    }

    Batch build(std::int64_t b) const {
        // b * batch_size < order.size() for every batch b; (b + 1) * batch_size may not fit
        // int64 (a batch size near INT64_MAX), so the end is clamped by subtraction.
        const std::size_t begin = static_cast<std::size_t>(b * batch_size);
        const std::size_t end =
            begin + std::min(order.size() - begin, static_cast<std::size_t>(batch_size));
        return dataset->get_batch(
            std::vector<std::int64_t>(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                      order.begin() + static_cast<std::ptrdiff_t>(end)));
    }

    // The background thread: builds batches in order, at most `depth` ahead of the consumer.
    void run() {
        for (std::int64_t b = 0; b < num_batches; ++b) {
            {
                std::unique_lock<std::mutex> lock(mutex);
                cv.wait(lock, [&] { return stop || ready.size() < depth; });
                if (stop) return;
            }
            Slot slot;
            try {
                slot.batch = build(b);
            } catch (...) {
                slot.error = std::current_exception();
            }
            const bool failed = slot.error != nullptr;
            {
                std::lock_guard<std::mutex> lock(mutex);
                if (stop) return;
                ready.push_back(std::move(slot));
            }
            cv.notify_all();
            if (failed) return;
        }
    }

    void start() {
        if (num_batches == 0) {
            done = true;
            return;
        }
        if (prefetch) worker = std::thread([this] { run(); });
        advance_to(0);
    }

    // Makes batch `b` current (or ends the epoch); an error ends the epoch and propagates.
    void advance_to(std::int64_t b) {
        position = b;
        current = Batch{};
        if (b >= num_batches) {
            done = true;
            return;
        }
        try {
            current = next(b);
        } catch (...) {
            done = true;
            throw;
        }
    }

    Batch next(std::int64_t b) {
        if (!prefetch) return build(b);
        Slot slot;
        {
            std::unique_lock<std::mutex> lock(mutex);
            cv.wait(lock, [&] { return !ready.empty(); });
            slot = std::move(ready.front());
            ready.pop_front();
        }
        cv.notify_all();
        if (slot.error) std::rethrow_exception(slot.error);
        return std::move(slot.batch);
    }
};

// ---- Iterator -------------------------------------------------------------------------------

bool DataLoader::Iterator::at_end() const {
    return !epoch_ || epoch_->done;
}

Batch& DataLoader::Iterator::operator*() const {
    if (at_end())
        raise<IndexError>("data::DataLoader", "dereferencing an iterator past the last batch");
    return epoch_->current;
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
    if (at_end())
        raise<IndexError>("data::DataLoader", "advancing an iterator past the last batch");
    epoch_->advance_to(epoch_->position + 1);
    return *this;
}

std::int64_t DataLoader::Iterator::index() const {
    return epoch_ ? epoch_->position : 0;
}

// ---- DataLoader -----------------------------------------------------------------------------

DataLoader::DataLoader(DatasetPtr dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
    if (!dataset_) raise<ValueError>("data::DataLoader", "the dataset is null");
    if (options_.batch_size < 1)
        raise<ValueError>("data::DataLoader", "batch_size must be >= 1, got ",
                          std::to_string(options_.batch_size));
    if (options_.prefetch_batches < 1)
        raise<ValueError>("data::DataLoader", "prefetch_batches must be >= 1, got ",
                          std::to_string(options_.prefetch_batches));
}

std::int64_t DataLoader::size() const {
    const std::int64_t n = dataset_->size(), b = options_.batch_size;
    if (n <= 0) return 0;
    return options_.drop_last ? n / b : (n - 1) / b + 1;  // ceil(n / b) without n + b overflowing
}

void DataLoader::set_epoch(std::int64_t epoch) {
    if (epoch < 0)
        raise<ValueError>("data::DataLoader::set_epoch", "epoch must be >= 0, got ",
                          std::to_string(epoch));
    epoch_ = epoch;
}

DataLoader::Iterator DataLoader::begin() {
    auto e = std::make_shared<Epoch>();
    e->dataset = dataset_;
    e->batch_size = options_.batch_size;
    e->num_batches = size();
    const std::int64_t n = dataset_->size();
    if (options_.shuffle) {
        if (options_.generator) {
            e->order = randperm(n, *options_.generator);
        } else {
            Generator gen(options_.seed ? epoch_seed(*options_.seed, epoch_)
                                        : default_generator().next_u64());
            e->order = randperm(n, gen);
        }
    } else {
        e->order.resize(static_cast<std::size_t>(n));
        std::iota(e->order.begin(), e->order.end(), std::int64_t(0));
    }
    e->prefetch = options_.prefetch;
    e->depth = static_cast<std::size_t>(options_.prefetch_batches);
    ++epoch_;
    e->start();
    return Iterator(std::move(e));
}

}  // namespace xgrad::data
