// Tensor: a cheap handle (shared ownership) to data, shape, dtype and autograd state.
//
// Copying a Tensor copies the handle, not the data, as in PyTorch. Data is always contiguous
// and row-major; reshape-like ops share the storage of their input.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include <xgrad/core/dtype.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/shape.hpp>

namespace xgrad {

class Node;         // a recorded op on the tape (xgrad/autograd/node.hpp)
struct TensorImpl;  // xgrad/core/tensor_impl.hpp

// Options for creating a tensor. Unset dtype means float32 for floating data (the default)
// and int64 for integer data.
struct TensorOptions {
    std::optional<Dtype> dtype{};
    bool requires_grad = false;
};

struct BackwardOptions {
    bool retain_graph = false;  // keep saved tensors so backward can run through the graph again
    bool create_graph = false;  // record the backward pass itself (higher-order gradients)
};

using Axes = std::vector<std::int64_t>;

namespace detail {
// Enables the single-dim overloads (`x.sum(1)`) for integer arguments only: a braced list
// (`x.sum({1, 2})`, `x.sum({})`) cannot deduce I, so it always means the dims overload.
template <class I>
using if_dim = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int>;
}  // namespace detail

struct ValuesIndices;  // values and int64 indices (max/min over a dim, sort, topk); see below
class TensorIndex;     // one entry of x.index({...}); see below

class Tensor {
  public:
    // Called with the gradient flowing into a tensor; may return a replacement gradient or an
    // undefined Tensor to keep it unchanged.
    using Hook = std::function<Tensor(const Tensor& grad)>;

    Tensor() = default;  // an undefined tensor (a null handle)
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    bool defined() const { return impl_ != nullptr; }
    const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
    bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

    // ---- read-out ----------------------------------------------------------------------
    const Shape& shape() const;
    const Shape& sizes() const { return shape(); }
    std::int64_t size(std::int64_t dim) const;  // negative dims count from the end
    std::int64_t dim() const;
    std::int64_t numel() const;
    Dtype dtype() const;
    // The single value of a one-element tensor, converted to T (float, double, int64_t, bool).
    template <class T>
    T item() const;
    // All values in row-major order, converted to T.
    template <class T>
    std::vector<T> to_vector() const;
    // Raw access; T must match dtype() exactly.
    template <class T>
    T* data_ptr();
    template <class T>
    const T* data_ptr() const;

    // ---- autograd state ----------------------------------------------------------------
    bool requires_grad() const;
    Tensor& requires_grad_(bool requires_grad = true);  // leaves only; floating dtypes only
    Tensor grad() const;                                // undefined until backward reaches it
    void set_grad(const Tensor& grad);
    // Zeroes the accumulated gradient, or releases it (set_to_none) as PyTorch does.
    void zero_grad(bool set_to_none = true);
    const std::shared_ptr<Node>& grad_fn() const;
    bool is_leaf() const;
    // Back-propagates from this tensor. A non-scalar tensor needs an explicit `gradient`.
    // With create_graph, a leaf's grad() keeps a graph that refers back to the leaf (as in
    // PyTorch); zero_grad() releases it.
    void backward(const Tensor& gradient = Tensor(), BackwardOptions options = {}) const;
    // Same data, no history: the result is a leaf that does not require grad.
    Tensor detach() const;
    // Keeps .grad() of a non-leaf tensor after backward.
    Tensor& retain_grad();
    void register_hook(Hook hook);

    // ---- conversions and in-place updates (outside the tape) --------------------------
    Tensor to(Dtype dtype) const;  // differentiable between floating dtypes
    Tensor clone() const;          // differentiable copy
    Tensor& fill_(double value);
    Tensor& zero_();
    Tensor& copy_(const Tensor& src);  // same shape (or broadcastable) and dtype
    // How many in-place writes the data has seen, shared with every view of it (PyTorch's
    // `_version`). Autograd records it when it saves a tensor and refuses to backward through
    // a saved tensor whose version moved. Code that writes through data_ptr() in place calls
    // bump_version() afterwards, as the optimizers do.
    std::uint64_t version() const;
    void bump_version() const;

    // ---- method forms of the op library (defined with the ops in autograd/) ------------
    // Reductions over all elements (dims = {}), the listed dims, or one dim (`x.sum(1)`,
    // `x.mean(-1, true)`); see xgrad/autograd/ops/reduction.hpp.
    Tensor sum(const Axes& dims = {}, bool keepdim = false) const;
    Tensor mean(const Axes& dims = {}, bool keepdim = false) const;
    // max()/min() of all elements; max(dims, keepdim) is amax(dims, keepdim), kept for existing
    // callers. max(dim) (one integer dim) gives values and indices, as torch.max(x, dim).
    Tensor max(const Axes& dims = {}, bool keepdim = false) const;
    Tensor min(const Axes& dims = {}, bool keepdim = false) const;
    Tensor amax(const Axes& dims = {}, bool keepdim = false) const;
    Tensor amin(const Axes& dims = {}, bool keepdim = false) const;
    ValuesIndices max_dim(std::int64_t dim, bool keepdim = false) const;
    ValuesIndices min_dim(std::int64_t dim, bool keepdim = false) const;
    // Elementwise, as torch.max(a, b): maximum / minimum. (Templates, so that a braced list
    // such as `x.max({0})` always means dims.)
    Tensor maximum(const Tensor& other) const;
    Tensor minimum(const Tensor& other) const;
    template <class T, std::enable_if_t<std::is_same_v<T, Tensor>, int> = 0>
    Tensor max(const T& other) const {
        return maximum(other);
    }
    template <class T, std::enable_if_t<std::is_same_v<T, Tensor>, int> = 0>
    Tensor min(const T& other) const {
        return minimum(other);
    }
    Tensor argmax(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
    Tensor argmin(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
    Tensor var(const Axes& dims = {}, bool keepdim = false, std::int64_t correction = 1) const;
    Tensor std(const Axes& dims = {}, bool keepdim = false, std::int64_t correction = 1) const;
    Tensor logsumexp(const Axes& dims = {}, bool keepdim = false) const;
    // Bool results: whether any / every element is non-zero.
    Tensor any(const Axes& dims = {}, bool keepdim = false) const;
    Tensor all(const Axes& dims = {}, bool keepdim = false) const;

    template <class I, detail::if_dim<I> = 0>
    Tensor sum(I dim, bool keepdim = false) const {
        return sum(Axes{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <class I, detail::if_dim<I> = 0>
    Tensor mean(I dim, bool keepdim = false) const {
        return mean(Axes{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <class I, detail::if_dim<I> = 0>
    ValuesIndices max(I dim, bool keepdim = false) const;
    template <class I, detail::if_dim<I> = 0>
    ValuesIndices min(I dim, bool keepdim = false) const;
    template <class I, detail::if_dim<I> = 0>
    Tensor amax(I dim, bool keepdim = false) const {
        return amax(Axes{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <class I, detail::if_dim<I> = 0>
    Tensor amin(I dim, bool keepdim = false) const {
        return amin(Axes{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <class I, detail::if_dim<I> = 0>
    Tensor var(I dim, bool keepdim = false, std::int64_t correction = 1) const {
        return var(Axes{static_cast<std::int64_t>(dim)}, keepdim, correction);
    }
    template <class I, detail::if_dim<I> = 0>
    Tensor std(I dim, bool keepdim = false, std::int64_t correction = 1) const {
        return std(Axes{static_cast<std::int64_t>(dim)}, keepdim, correction);
    }
    template <class I, detail::if_dim<I> = 0>
    Tensor logsumexp(I dim, bool keepdim = false) const {
        return logsumexp(Axes{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <class I, detail::if_dim<I> = 0>
    Tensor any(I dim, bool keepdim = false) const {
        return any(Axes{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <class I, detail::if_dim<I> = 0>
    Tensor all(I dim, bool keepdim = false) const {
        return all(Axes{static_cast<std::int64_t>(dim)}, keepdim);
    }

    Tensor softmax(std::int64_t dim) const;
    Tensor log_softmax(std::int64_t dim) const;
    Tensor cumsum(std::int64_t dim) const;
    // Sorted along dim (stable: equal values keep their order; NaN counts as the largest).
    ValuesIndices sort(std::int64_t dim = -1, bool descending = false) const;
    Tensor argsort(std::int64_t dim = -1, bool descending = false) const;
    ValuesIndices topk(std::int64_t k, std::int64_t dim = -1, bool largest = true,
                       bool sorted = true) const;
    Tensor tril(std::int64_t diagonal = 0) const;
    Tensor triu(std::int64_t diagonal = 0) const;
    Tensor masked_fill(const Tensor& mask, double value) const;
    Tensor masked_fill(const Tensor& mask, const Tensor& value) const;

    // Arithmetic and comparisons as methods (the operators' ops); alpha scales `other`.
    Tensor add(const Tensor& other, double alpha = 1.0) const;
    Tensor add(double other) const;
    Tensor sub(const Tensor& other, double alpha = 1.0) const;
    Tensor sub(double other) const;
    Tensor mul(const Tensor& other) const;
    Tensor mul(double other) const;
    Tensor div(const Tensor& other) const;
    Tensor div(double other) const;
    Tensor eq(const Tensor& other) const;
    Tensor eq(double other) const;
    Tensor ne(const Tensor& other) const;
    Tensor ne(double other) const;
    Tensor lt(const Tensor& other) const;
    Tensor lt(double other) const;
    Tensor le(const Tensor& other) const;
    Tensor le(double other) const;
    Tensor gt(const Tensor& other) const;
    Tensor gt(double other) const;
    Tensor ge(const Tensor& other) const;
    Tensor ge(double other) const;
    Tensor mm(const Tensor& other) const;   // 2-D x 2-D only
    Tensor bmm(const Tensor& other) const;  // [b, n, m] x [b, m, p] only
    Tensor clamp_min(double min) const;
    Tensor clamp_max(double max) const;

    // Indexing as x[0:2, 1, None, ...] in Python: x.index({Slice(0, 2), 1, None, Ellipsis})
    // (names in xgrad::indexing). Integers select (negative from the end), Slice(start, stop,
    // step) slices (None ends, step >= 1), None adds a dim of size 1, Ellipsis stands for the
    // remaining dims, and int64 index tensors and bool masks index as PyTorch's advanced
    // indexing (broadcast together; x.index({arange(n), y}) picks x[i, y[i]]). The result is a
    // differentiable copy (not a view, unlike PyTorch).
    Tensor index(const std::vector<TensorIndex>& indices) const;
    // Writes `values` (broadcast to the indexed shape, same dtype) into the indexed elements,
    // in place: bumps the version counter, and refuses a tensor that requires grad while grad
    // mode is on, as copy_ does.
    Tensor& index_put_(const std::vector<TensorIndex>& indices, const Tensor& values);
    Tensor& index_put_(const std::vector<TensorIndex>& indices, double value);

    Tensor reshape(const Shape& shape) const;
    Tensor view(const Shape& shape) const;
    Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
    Tensor squeeze(std::optional<std::int64_t> dim = std::nullopt) const;
    Tensor unsqueeze(std::int64_t dim) const;
    Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
    Tensor t() const;
    Tensor permute(const Axes& dims) const;
    Tensor expand(const Shape& shape) const;
    Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
    Tensor select(std::int64_t dim, std::int64_t index) const;
    Tensor index_select(std::int64_t dim, const Tensor& index) const;
    Tensor gather(std::int64_t dim, const Tensor& index) const;
    Tensor matmul(const Tensor& other) const;

    Tensor neg() const;
    Tensor exp() const;
    Tensor log() const;
    Tensor sqrt() const;
    Tensor abs() const;
    Tensor sin() const;
    Tensor cos() const;
    Tensor tanh() const;
    Tensor sigmoid() const;
    Tensor relu() const;
    Tensor pow(double exponent) const;
    Tensor pow(const Tensor& exponent) const;
    Tensor clamp(std::optional<double> min, std::optional<double> max = std::nullopt) const;

  private:
    std::shared_ptr<TensorImpl> impl_;
};

using TensorList = std::vector<Tensor>;

// What max/min over a dim, sort and topk return (torch.return_types): the values and their
// int64 indices along the dim. An aggregate, so `auto [v, i] = x.max(1);` works.
struct ValuesIndices {
    Tensor values;
    Tensor indices;
};

template <class I, detail::if_dim<I>>
ValuesIndices Tensor::max(I dim, bool keepdim) const {
    return max_dim(static_cast<std::int64_t>(dim), keepdim);
}
template <class I, detail::if_dim<I>>
ValuesIndices Tensor::min(I dim, bool keepdim) const {
    return min_dim(static_cast<std::int64_t>(dim), keepdim);
}

// The entries of Tensor::index, as torch::indexing (bring them in with
// `using namespace xgrad::indexing;`).
namespace indexing {
struct NoneType {};
inline constexpr NoneType None{};
struct EllipsisType {};
inline constexpr EllipsisType Ellipsis{};

// One end or the step of a Slice: an integer or None.
class SliceBound {
  public:
    SliceBound(NoneType) {}
    SliceBound(std::nullopt_t) {}
    template <class I, detail::if_dim<I> = 0>
    SliceBound(I v) : value_(static_cast<std::int64_t>(v)) {}
    const std::optional<std::int64_t>& value() const { return value_; }

  private:
    std::optional<std::int64_t> value_;
};

// start:stop:step of Python; unset ends mean the whole dim, unset step means 1.
struct Slice {
    Slice(SliceBound start = None, SliceBound stop = None, SliceBound step = None)
        : start(start.value()), stop(stop.value()), step(step.value()) {}
    std::optional<std::int64_t> start, stop, step;
};
}  // namespace indexing

class TensorIndex {
  public:
    enum class Kind { integer, slice, none, ellipsis, tensor };
    template <class I, detail::if_dim<I> = 0>
    TensorIndex(I i) : kind_(Kind::integer), integer_(static_cast<std::int64_t>(i)) {}
    TensorIndex(indexing::Slice s) : kind_(Kind::slice), slice_(s) {}
    TensorIndex(indexing::NoneType) : kind_(Kind::none) {}
    TensorIndex(indexing::EllipsisType) : kind_(Kind::ellipsis) {}
    TensorIndex(Tensor t) : kind_(Kind::tensor), tensor_(std::move(t)) {}  // int64 or bool

    Kind kind() const { return kind_; }
    std::int64_t integer() const { return integer_; }
    const indexing::Slice& slice() const { return slice_; }
    const Tensor& tensor() const { return tensor_; }

  private:
    Kind kind_;
    std::int64_t integer_ = 0;
    indexing::Slice slice_{};
    Tensor tensor_{};
};

// Prints like PyTorch: tensor([[1.0000, 2.0000], ...], dtype=float64, grad_fn=<MulBackward>)
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace xgrad
