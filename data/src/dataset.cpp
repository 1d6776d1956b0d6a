// Datasets: the default batch stacking, TensorDataset's row gather, Subset and random_split.
#include <cstring>
#include <numeric>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/data/dataset.hpp>

namespace xgrad::data {

namespace {

// Bytes of one row (the sample dimension removed) of a tensor whose first dim is the samples.
std::size_t row_bytes(const Tensor& t) {
    const std::int64_t n = t.size(0);
    return n == 0 ? 0 : static_cast<std::size_t>(t.numel() / n) * dtype_size(t.dtype());
}

Shape row_shape(const Tensor& t) {
    return Shape(t.shape().begin() + 1, t.shape().end());
}

// Rows `indices` of `t` (a copy, with the sample dim of length indices.size()).
Tensor gather_rows(const Tensor& t, const std::vector<std::int64_t>& indices) {
    Shape shape = t.shape();
    shape[0] = static_cast<std::int64_t>(indices.size());
    Tensor out = make_tensor(shape, t.dtype());
    const std::size_t bytes = row_bytes(t);
    if (bytes == 0) return out;
    const auto* src = static_cast<const unsigned char*>(t.impl()->data());
    auto* dst = static_cast<unsigned char*>(out.impl()->data());
    for (std::size_t i = 0; i < indices.size(); ++i)
        std::memcpy(dst + i * bytes, src + static_cast<std::size_t>(indices[i]) * bytes, bytes);
    return out;
}

// Stacks same-shaped, same-dtype tensors along a new first dimension (plain copies).
Tensor stack_copies(const std::vector<Tensor>& items, const char* field) {
    const Tensor& first = items.front();
    Shape shape = first.shape();
    shape.insert(shape.begin(), static_cast<std::int64_t>(items.size()));
    Tensor out = make_tensor(shape, first.dtype());
    const std::size_t bytes = static_cast<std::size_t>(first.numel()) * dtype_size(first.dtype());
    auto* dst = static_cast<unsigned char*>(out.impl()->data());
    for (std::size_t i = 0; i < items.size(); ++i) {
        const Tensor& t = items[i];
        if (!t.defined() || t.shape() != first.shape() || t.dtype() != first.dtype())
            raise<ShapeError>(
                "data::Dataset::get_batch", "sample ", std::to_string(i), " of the batch has ",
                field, " ",
                (t.defined() ? std::string(dtype_name(t.dtype())) + " " + shape_str(t.shape())
                             : std::string("undefined")),
                ", but sample 0 has ", dtype_name(first.dtype()), " ", shape_str(first.shape()),
                " (samples must agree to be stacked)");
        if (bytes) std::memcpy(dst + i * bytes, t.impl()->data(), bytes);
    }
    return out;
}

}  // namespace

void Dataset::check_index(std::int64_t index, const char* who) const {
    const std::int64_t n = size();
    if (index < 0 || index >= n)
        throw IndexError(std::string(who) + ": index " + std::to_string(index) +
                         " is out of range for a dataset of size " + std::to_string(n));
}

Batch Dataset::get_batch(const std::vector<std::int64_t>& indices) const {
    if (indices.empty()) raise<ValueError>("data::Dataset::get_batch", "the batch has no indices");
    std::vector<Tensor> inputs, targets;
    inputs.reserve(indices.size());
    targets.reserve(indices.size());
    for (std::int64_t i : indices) {
        Example e = get(i);
        inputs.push_back(std::move(e.input));
        targets.push_back(std::move(e.target));
    }
    Batch batch;
    batch.input = stack_copies(inputs, "input");
    if (targets.front().defined()) {
        batch.target = stack_copies(targets, "target");
    } else {
        for (std::size_t i = 0; i < targets.size(); ++i)
            if (targets[i].defined())
                raise<ShapeError>("data::Dataset::get_batch", "sample ", std::to_string(i),
                                  " has a target but sample 0 has none");
    }
    return batch;
}

// ---- TensorDataset --------------------------------------------------------------------------

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
    if (!inputs.defined())
        raise<ValueError>("data::TensorDataset", "the inputs tensor is undefined");
    if (inputs.dim() < 1)
        raise<ShapeError>("data::TensorDataset", "inputs need a sample dimension, got shape ",
                          shape_str(inputs.shape()));
    if (targets.defined()) {
        if (targets.dim() < 1)
            raise<ShapeError>("data::TensorDataset", "targets need a sample dimension, got shape ",
                              shape_str(targets.shape()));
        if (targets.size(0) != inputs.size(0))
            raise<ShapeError>("data::TensorDataset", "inputs ", shape_str(inputs.shape()),
                              " and targets ", shape_str(targets.shape()),
                              " have different numbers of samples");
        targets_ = targets.detach();
    }
    inputs_ = inputs.detach();
}

std::int64_t TensorDataset::size() const {
    return inputs_.defined() ? inputs_.size(0) : 0;
}

Example TensorDataset::get(std::int64_t index) const {
    check_index(index, "xgrad::data::TensorDataset::get");
    const std::vector<std::int64_t> one{index};
    Example e;
    e.input = gather_rows(inputs_, one).reshape(row_shape(inputs_));
    if (targets_.defined()) e.target = gather_rows(targets_, one).reshape(row_shape(targets_));
    return e;
}

Batch TensorDataset::get_batch(const std::vector<std::int64_t>& indices) const {
    for (std::int64_t i : indices) check_index(i, "xgrad::data::TensorDataset::get_batch");
    Batch b;
    b.input = gather_rows(inputs_, indices);
    if (targets_.defined()) b.target = gather_rows(targets_, indices);
    return b;
}

// ---- Subset ---------------------------------------------------------------------------------

Subset::Subset(DatasetPtr base, std::vector<std::int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
    if (!base_) raise<ValueError>("data::Subset", "the dataset is null");
    const std::int64_t n = base_->size();
    for (std::int64_t i : indices_)
        if (i < 0 || i >= n)
            raise<IndexError>("data::Subset", "index ", std::to_string(i),
                              " is out of range for a dataset of size ", std::to_string(n));
}

std::int64_t Subset::size() const {
    return static_cast<std::int64_t>(indices_.size());
}

Example Subset::get(std::int64_t index) const {
    check_index(index, "xgrad::data::Subset::get");
    return base_->get(indices_[static_cast<std::size_t>(index)]);
}

Batch Subset::get_batch(const std::vector<std::int64_t>& indices) const {
    std::vector<std::int64_t> mapped;
    mapped.reserve(indices.size());
    for (std::int64_t i : indices) {
        check_index(i, "xgrad::data::Subset::get_batch");
        mapped.push_back(indices_[static_cast<std::size_t>(i)]);
    }
    return base_->get_batch(mapped);
}

// ---- random_split ---------------------------------------------------------------------------

std::vector<std::int64_t> randperm(std::int64_t n, Generator& generator) {
    if (n < 0) raise<ValueError>("data::randperm", "n must be >= 0, got ", std::to_string(n));
    std::vector<std::int64_t> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), std::int64_t(0));
    for (std::int64_t i = n - 1; i > 0; --i)
        std::swap(p[static_cast<std::size_t>(i)],
                  p[static_cast<std::size_t>(generator.randint(0, i + 1))]);
    return p;
}

std::vector<Subset> random_split(DatasetPtr dataset, const std::vector<std::int64_t>& lengths,
                                 Generator& generator) {
    if (!dataset) raise<ValueError>("data::random_split", "the dataset is null");
    std::int64_t total = 0;
    std::string list;
    for (std::int64_t len : lengths) {
        list += (list.empty() ? "" : ", ") + std::to_string(len);
        if (len < 0)
            raise<ValueError>("data::random_split", "lengths must be >= 0, got [", list, "]");
        total += len;
    }
    if (total != dataset->size())
        raise<ValueError>("data::random_split", "lengths [", list, "] add up to ",
                          std::to_string(total), ", but the dataset has ",
                          std::to_string(dataset->size()), " samples");
    const std::vector<std::int64_t> perm = randperm(total, generator);
    std::vector<Subset> out;
    std::size_t pos = 0;
    for (std::int64_t len : lengths) {
        std::vector<std::int64_t> idx(perm.begin() + static_cast<std::ptrdiff_t>(pos),
                                      perm.begin() + static_cast<std::ptrdiff_t>(pos + len));
        pos += static_cast<std::size_t>(len);
        out.emplace_back(dataset, std::move(idx));
    }
    return out;
}

std::vector<Subset> random_split(DatasetPtr dataset, const std::vector<std::int64_t>& lengths) {
    return random_split(std::move(dataset), lengths, default_generator());
}

}  // namespace xgrad::data
