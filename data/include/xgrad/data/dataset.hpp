// Datasets: indexed collections of (input, target) samples.
//
//   data::TensorDataset ds(features, labels);        // features [N, ...], labels [N, ...]
//   auto parts = data::random_split(ds, {800, 200}, gen);
//   data::DataLoader loader(parts[0], {.batch_size = 32, .shuffle = true});
//
// A custom dataset derives from Dataset and implements size() and get(i); get_batch() then
// stacks the samples, or a dataset that holds its data in tensors overrides it with a faster
// gather. Datasets are passed around as shared_ptr<const Dataset>; the functions that take a
// dataset by value copy it into one (cheap for TensorDataset and Subset, which hold handles).
// With a DataLoader's prefetch on, get()/get_batch() run on a background thread.
#pragma once
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgrad/core/random.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::data {

// One sample. `target` is undefined for unlabelled data.
struct Example {
    Tensor input;
    Tensor target;
};

// Samples stacked along a new first dimension: input [B, ...], target [B, ...] (or undefined).
struct Batch {
    Tensor input;
    Tensor target;
};

class Dataset {
  public:
    virtual ~Dataset() = default;
    virtual std::int64_t size() const = 0;
    // Sample `index` in [0, size()); throws IndexError outside.
    virtual Example get(std::int64_t index) const = 0;
    // The samples at `indices`, stacked. The default calls get() for each and copies the
    // results into one tensor per field (all samples must agree in shape and dtype).
    virtual Batch get_batch(const std::vector<std::int64_t>& indices) const;

  protected:
    Dataset() = default;
    Dataset(const Dataset&) = default;
    Dataset& operator=(const Dataset&) = default;
    // Throws IndexError naming `who` unless 0 <= index < size().
    void check_index(std::int64_t index, const char* who) const;
};

using DatasetPtr = std::shared_ptr<const Dataset>;

// Copies a dataset value into a shared pointer (or passes a shared pointer through).
template <class D>
DatasetPtr share_dataset(D&& dataset) {
    using T = std::decay_t<D>;
    if constexpr (std::is_convertible_v<T, DatasetPtr>) {
        return DatasetPtr(std::forward<D>(dataset));
    } else {
        static_assert(std::is_base_of_v<Dataset, T>, "xgrad::data: expected a Dataset");
        return std::make_shared<const T>(std::forward<D>(dataset));
    }
}

// Rows of tensors: sample i is inputs[i] (and targets[i]). The first dimension of both is the
// sample dimension. The tensors are detached (they share data with the ones given).
class TensorDataset : public Dataset {
  public:
    TensorDataset() = default;
    explicit TensorDataset(Tensor inputs, Tensor targets = Tensor());

    std::int64_t size() const override;
    Example get(std::int64_t index) const override;  // copies of row `index`
    Batch get_batch(const std::vector<std::int64_t>& indices) const override;  // row gather

    const Tensor& inputs() const { return inputs_; }
    const Tensor& targets() const { return targets_; }

  private:
    Tensor inputs_;
    Tensor targets_;
};

// The samples of `base` at `indices` (in that order).
class Subset : public Dataset {
  public:
    Subset(DatasetPtr base, std::vector<std::int64_t> indices);

    std::int64_t size() const override;
    Example get(std::int64_t index) const override;
    Batch get_batch(const std::vector<std::int64_t>& indices) const override;

    const Dataset& base() const { return *base_; }
    const std::vector<std::int64_t>& indices() const { return indices_; }

  private:
    DatasetPtr base_;
    std::vector<std::int64_t> indices_;
};

// Splits a dataset into random, non-overlapping subsets of the given lengths (which must add up
// to its size), reproducibly from `generator`.
std::vector<Subset> random_split(DatasetPtr dataset, const std::vector<std::int64_t>& lengths,
                                 Generator& generator);
std::vector<Subset> random_split(DatasetPtr dataset, const std::vector<std::int64_t>& lengths);
template <class D, class = std::enable_if_t<!std::is_convertible_v<std::decay_t<D>, DatasetPtr>>>
std::vector<Subset> random_split(D&& dataset, const std::vector<std::int64_t>& lengths,
                                 Generator& generator) {
    return random_split(share_dataset(std::forward<D>(dataset)), lengths, generator);
}
template <class D, class = std::enable_if_t<!std::is_convertible_v<std::decay_t<D>, DatasetPtr>>>
std::vector<Subset> random_split(D&& dataset, const std::vector<std::int64_t>& lengths) {
    return random_split(share_dataset(std::forward<D>(dataset)), lengths);
}

// A random permutation of 0..n-1 (Fisher-Yates), reproducible from `generator`.
std::vector<std::int64_t> randperm(std::int64_t n, Generator& generator);

}  // namespace xgrad::data
