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
    Tensor sum(const Axes& dims = {}, bool keepdim = false) const;
    Tensor mean(const Axes& dims = {}, bool keepdim = false) const;
    Tensor max(const Axes& dims = {}, bool keepdim = false) const;
    Tensor min(const Axes& dims = {}, bool keepdim = false) const;
    Tensor argmax(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
    Tensor var(const Axes& dims = {}, bool keepdim = false, std::int64_t correction = 1) const;
    Tensor std(const Axes& dims = {}, bool keepdim = false, std::int64_t correction = 1) const;
    Tensor logsumexp(const Axes& dims = {}, bool keepdim = false) const;

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

// Prints like PyTorch: tensor([[1.0000, 2.0000], ...], dtype=float64, grad_fn=<MulBackward>)
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace xgrad
