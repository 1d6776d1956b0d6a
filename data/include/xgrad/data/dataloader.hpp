// DataLoader: iterates over a dataset in batches.
//
//   for (int epoch = 0; epoch < 5; ++epoch)
//       for (auto& [x, y] : loader) { ... }             // x: [B, ...], y: [B, ...]
//   for (auto& [x, y] : data::DataLoader(train, {.batch_size = 64, .shuffle = true})) { ... }
//
// Each range-for (each call of begin()) is one epoch. Shuffled orders come from, in this order
// of precedence:
//  - an explicit `generator`: each epoch's permutation is drawn from it (its state advances);
//  - a `seed`: epoch e uses a generator seeded with a mix of (seed, e), so the order depends on
//    the seed and the epoch counter alone: reproducible, different in each epoch of this loader,
//    and set_epoch() picks the epoch (e.g. when resuming);
//  - neither (the default): each epoch draws its own seed from the default generator, as
//    PyTorch does, so manual_seed() makes a run reproducible and a loader created anew for each
//    epoch (a temporary in the range-for) still gets a new order every epoch.
//
// With prefetch, a background thread builds the next batches while the current one is used. It
// gives exactly the batches of the synchronous loader; an exception thrown while building a batch
// reaches the loop at that batch. The thread is stopped and joined when the epoch's iterators are
// gone: at the end of the loop, after a `break`, or when an exception leaves the loop.
//
// A DataLoader can be copied (the copy shares the dataset). One epoch runs at a time per loader
// object: calling begin() again starts a new epoch, and iterators of the previous one keep their
// own state until they are destroyed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <xgrad/core/random.hpp>
#include <xgrad/data/dataset.hpp>

namespace xgrad::data {

struct DataLoaderOptions {
    std::int64_t batch_size = 1;
    bool shuffle = false;
    bool drop_last = false;               // drop a last batch smaller than batch_size
    std::optional<std::uint64_t> seed{};  // shuffling seed (see above)
    Generator* generator = nullptr;       // draw permutations from this generator (see above)
    bool prefetch = false;                // build batches on a background thread
    std::int64_t prefetch_batches = 2;    // how many batches the thread may build ahead (>= 1)
};

class DataLoader {
    struct Epoch;  // one pass: order, current batch, prefetch thread

  public:
    class Iterator {
      public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Batch;
        using difference_type = std::ptrdiff_t;
        using pointer = Batch*;
        using reference = Batch&;

        Iterator() = default;
        Batch& operator*() const;
        Batch* operator->() const { return &**this; }
        Iterator& operator++();
        // Only "has this iterator reached the end" is compared.
        bool operator==(const Iterator& other) const { return at_end() == other.at_end(); }
        bool operator!=(const Iterator& other) const { return !(*this == other); }
        // Index of the current batch in the epoch.
        std::int64_t index() const;

      private:
        friend class DataLoader;
        explicit Iterator(std::shared_ptr<Epoch> epoch) : epoch_(std::move(epoch)) {}
        bool at_end() const;
        std::shared_ptr<Epoch> epoch_;
    };

    DataLoader(DatasetPtr dataset, DataLoaderOptions options = {});
    template <class D,
              class = std::enable_if_t<!std::is_convertible_v<std::decay_t<D>, DatasetPtr> &&
                                       std::is_base_of_v<Dataset, std::decay_t<D>>>>
    DataLoader(D&& dataset, DataLoaderOptions options = {})
        : DataLoader(share_dataset(std::forward<D>(dataset)), options) {}

    // Starts the next epoch and returns an iterator at its first batch.
    Iterator begin();
    Iterator end() const { return Iterator(); }

    // Batches per epoch.
    std::int64_t size() const;
    // Epochs started so far (the epoch the next begin() starts).
    std::int64_t epoch() const { return epoch_; }
    void set_epoch(std::int64_t epoch);

    const Dataset& dataset() const { return *dataset_; }
    const DatasetPtr& dataset_ptr() const { return dataset_; }
    const DataLoaderOptions& options() const { return options_; }

  private:
    DatasetPtr dataset_;
    DataLoaderOptions options_;
    std::int64_t epoch_ = 0;
};

}  // namespace xgrad::data
