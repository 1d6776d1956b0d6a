// The state behind a Tensor handle. Advanced users (custom kernels) and the autograd engine
// use it; ordinary code goes through Tensor.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// A 64-byte aligned, uninitialised buffer shared by a tensor and its reshaped views; or memory
// the caller owns (from_blob), released by its deleter, if any, when the last user goes.
struct Storage {
    explicit Storage(std::size_t nbytes);
    Storage(void* external, std::size_t nbytes, std::function<void(void*)> deleter);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    void* data = nullptr;
    std::size_t nbytes = 0;
    // Bumped by every in-place write (fill_, copy_, set_data, optimizer steps, ...). It lives
    // on the storage so that every view shares it; autograd compares it with the version a
    // saved tensor had when it was saved and refuses to use data that changed since.
    std::atomic<std::uint64_t> version{0};
    // Set for external memory: it was not allocated here, so it is never returned to the
    // allocator; the deleter (possibly empty) is called instead.
    bool external = false;
    std::function<void(void*)> deleter;
};

struct TensorImpl {
    std::shared_ptr<Storage> storage;
    Shape shape;
    std::int64_t numel = 0;
    Dtype dtype = Dtype::f32;

    // autograd state: a leaf has requires_grad set by the user; a non-leaf has grad_fn.
    bool requires_grad = false;
    bool retains_grad = false;
    std::shared_ptr<Node> grad_fn;
    Tensor grad;
    std::vector<Tensor::Hook> hooks;  // hooks of leaves, run by the leaf's AccumulateGrad node
    // A leaf's AccumulateGrad node, shared by every graph that uses the leaf while any of them
    // lives (weak: the graph owns it, as in PyTorch). Made by autograd's grad_accumulator().
    std::weak_ptr<Node> grad_accumulator;

    void* data() const { return storage->data; }
};

// A new tensor with uninitialised contiguous storage.
Tensor make_tensor(const Shape& shape, Dtype dtype);
// A new tensor handle sharing `storage` (a view of the same data with another shape).
Tensor make_view(const std::shared_ptr<Storage>& storage, const Shape& shape, Dtype dtype);

// Replaces the data, shape and dtype behind `t` with those of `src` (sharing src's storage),
// keeping t's handle and autograd identity: every holder of `t` sees the new data. For leaves
// only (a module moving its parameters to another dtype). Throws AutogradError on a non-leaf.
// Counts as an in-place write of both: the shared storage's version moves past both old ones,
// so a tensor saved for backward before the swap is refused, never silently read.
void set_data(const Tensor& t, const Tensor& src);

}  // namespace xgrad
