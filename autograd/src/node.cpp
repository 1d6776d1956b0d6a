#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include <xgrad/autograd/anomaly_mode.hpp>
#include <xgrad/autograd/function.hpp>
#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/node.hpp>
#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include "kernels/dispatch.hpp"
#include "kernels/parallel.hpp"

namespace xgrad {

namespace {
std::atomic<std::uint64_t> next_sequence_nr{0};

}  // namespace

Node::Node() : seq_(next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

// Frees a graph without recursion: every predecessor (edge nodes, and the nodes behind saved
// tensors) is moved onto explicit stacks before any reference is dropped; a popped node or
// tensor whose last owner is the stack gets its own predecessors moved out first, so no
// destructor ever recurses into another node.
Node::~Node() {
    std::vector<std::shared_ptr<Node>> nodes;
    std::vector<std::shared_ptr<TensorImpl>> impls;
    auto take = [&](std::vector<Edge>& edges, TensorList& saved) {
        for (auto& e : edges)
            if (e.node) nodes.push_back(std::move(e.node));
        for (auto& t : saved)
            if (t.defined()) {
                impls.push_back(t.impl());
                t = Tensor();
            }
    };
    take(edges_, saved_);
    while (!nodes.empty() || !impls.empty()) {
        if (!impls.empty()) {
            std::shared_ptr<TensorImpl> impl = std::move(impls.back());
            impls.pop_back();
            if (impl.use_count() == 1 && impl->grad_fn) nodes.push_back(std::move(impl->grad_fn));
            continue;  // impl is released here with its grad_fn already moved out
        }
        std::shared_ptr<Node> n = std::move(nodes.back());
        nodes.pop_back();
        if (n.use_count() == 1) take(n->edges_, n->saved_);
        // n is released here; if this was its last owner its predecessors are already on the
        // stacks, so its destructor has nothing left to recurse into.
    }
}

const Tensor& Node::saved(std::size_t i) const {
    if (released_)
        raise<AutogradError>(
            "backward", "trying to backward through the graph a second time: the saved tensors of ",
            name(),
            " were freed by the first backward. Pass retain_graph = true to the first call if you "
            "need to call backward twice.");
    if (i >= saved_.size())
        raise<AutogradError>(name(), "saved tensor ", std::to_string(i), " does not exist (",
                             std::to_string(saved_.size()), " saved)");
    const Tensor& t = saved_[i];
    if (t.defined()) {
        const std::uint64_t found = t.impl()->storage->version.load(std::memory_order_relaxed);
        const SavedSlot& s = slot(i);
        if (found != s.version)
            throw_modified("tensor", i, s.version, found, s.input_nr, t.shape());
    }
    return t;
}

void Node::throw_modified(const char* what, std::size_t i, std::uint64_t expected,
                          std::uint64_t found, std::int32_t input_nr, const Shape& shape) const {
    const std::string which =
        input_nr >= 0 ? "its input " + std::to_string(input_nr)
                      : (std::string(what) == "output" ? std::string("its output")
                                                       : "saved tensor " + std::to_string(i));
    raise<AutogradError>(
        "backward",
        "one of the tensors needed for gradient computation has been modified by an "
        "in-place operation: ",
        name(), " saved ", which, " (shape ", shape_str(shape), ") at version ",
        std::to_string(expected), " and it is now at version ", std::to_string(found),
        ". Do the in-place write (fill_, copy_, zero_, an optimizer step, ...) after backward, or "
        "write into a clone");
}

TensorList Node::saved_tensors() const {
    TensorList out;
    out.reserve(saved_.size());
    if (released_) saved(0);  // throws the released-graph error
    for (std::size_t i = 0; i < saved_.size(); ++i) out.push_back(saved(i));
    return out;
}

void Node::save(TensorList tensors) {
    saved_ = std::move(tensors);
    has_saved_ = has_saved_ || !saved_.empty();
    if (saved_.size() > kInlineSlots) more_slots_.resize(saved_.size() - kInlineSlots);
    for (std::size_t i = 0; i < saved_.size(); ++i) {
        SavedSlot& s = slot(i);
        s.input_nr = -1;
        s.version = saved_[i].defined()
                        ? saved_[i].impl()->storage->version.load(std::memory_order_relaxed)
                        : 0;
    }
}

void Node::save_output(const Tensor& out) {
    saved_output_ = out.impl()->storage;
    saved_output_version_ = saved_output_->version.load(std::memory_order_relaxed);
    has_saved_ = true;
}

Tensor Node::saved_output() {
    if (released_ || !saved_output_) saved(saved_.size());  // throws the released-graph error
    const std::uint64_t found = saved_output_->version.load(std::memory_order_relaxed);
    if (found != saved_output_version_)
        throw_modified("output", 0, saved_output_version_, found, -1, out_shape_);
    Tensor out = make_view(saved_output_, out_shape_, out_dtype_);
    out.impl()->grad_fn = self_.lock();
    return out;
}

void Node::release() {
    // Nothing to free, and nothing written: a node with no saved state (AccumulateGrad above
    // all) may be shared by graphs that threads are running backward through at once.
    if (!has_saved_) return;
    released_ = true;
    saved_.clear();
    saved_output_.reset();
}

void Node::set_output_meta(const Shape& shape, Dtype dtype) {
    out_shape_ = shape;
    out_dtype_ = dtype;
}

bool should_record(std::initializer_list<const Tensor*> inputs) {
    if (!GradMode::is_enabled()) return false;
    for (const Tensor* t : inputs)
        if (t->defined() && t->requires_grad()) return true;
    return false;
}

bool should_record(const TensorList& inputs) {
    if (!GradMode::is_enabled()) return false;
    for (const Tensor& t : inputs)
        if (t.defined() && t.requires_grad()) return true;
    return false;
}

namespace {
// Leaves are shared between threads: making a leaf's AccumulateGrad and adding into its
// grad() take one of these locks, picked by the leaf's address.
constexpr std::size_t kLeafLocks = 64;
std::mutex leaf_locks[kLeafLocks];
std::mutex& leaf_lock(const TensorImpl* leaf) {
    return leaf_locks[(reinterpret_cast<std::uintptr_t>(leaf) >> 6) % kLeafLocks];
}

// dst += src, in place (same shape and dtype).
void add_in_place(Tensor& dst, const Tensor& src) {
    kernels::dispatch_floating(dst.dtype(), "backward", [&](auto tag) {
        using T = typename decltype(tag)::type;
        T* d = dst.data_ptr<T>();
        const T* s = src.data_ptr<T>();
        kernels::parallel_for(dst.numel(), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
            for (std::int64_t i = lo; i < hi; ++i) d[i] += s[i];
        });
    });
    dst.bump_version();
}

// A gradient that nothing else references can be kept as it is; otherwise copy it so that a
// later in-place accumulation cannot change another tensor (or another leaf's grad).
bool exclusively_owned(const Tensor& g) {
    return g.impl().use_count() == 1 && g.impl()->storage.use_count() == 1 && !g.grad_fn();
}
}  // namespace

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {
    accumulates_ = true;
    set_output_meta(leaf_->shape, leaf_->dtype);
}

// As PyTorch's AccumulateGrad: the first gradient is stolen when nothing else holds it (else
// copied, differentiably under create_graph, so two leaves never share one grad tensor); later
// ones are added in place, or out of place when a graph is being built or the grad has one.
TensorList AccumulateGrad::apply(const Tensor& grad) {
    TensorImpl& leaf = *leaf_;
    // A hook may have replaced the gradient; it must still fit the leaf.
    if (grad.shape() != leaf.shape || grad.dtype() != leaf.dtype)
        raise<AutogradError>("backward", "gradient of shape ", shape_str(grad.shape()), " (",
                             dtype_name(grad.dtype()), ") for a leaf of shape ",
                             shape_str(leaf.shape), " (", dtype_name(leaf.dtype),
                             "); a hook returned a tensor that does not fit");
    const bool create_graph = GradMode::is_enabled();
    std::lock_guard<std::mutex> lock(leaf_lock(&leaf));
    if (leaf.grad.defined() && leaf.grad.shape() != leaf.shape) leaf.grad = Tensor();
    if (!leaf.grad.defined()) {
        leaf.grad = (!create_graph && exclusively_owned(grad)) ? grad : grad.clone();
    } else if (create_graph || leaf.grad.grad_fn()) {
        leaf.grad = leaf.grad + grad;  // out of place: the result keeps its own graph
    } else {
        add_in_place(leaf.grad, grad);
    }
    return {};
}

Edge gradient_edge(const Tensor& t) {
    if (!t.defined()) return {};
    const auto& impl = t.impl();
    if (impl->grad_fn) return {impl->grad_fn, 0};
    if (!impl->requires_grad) return {};
    std::lock_guard<std::mutex> lock(leaf_lock(impl.get()));
    std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
    if (!acc) {
        acc = std::make_shared<AccumulateGrad>(impl);
        impl->grad_accumulator = acc;
    }
    return {std::move(acc), 0};
}

void attach_node(std::shared_ptr<Node> node, Tensor& output, TensorRefs inputs) {
    std::vector<Edge> edges(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i].defined() && inputs[i].requires_grad()) edges[i] = gradient_edge(inputs[i]);
    // Which input each saved tensor is, for the in-place error message.
    for (std::size_t k = 0; k < node->saved_.size(); ++k)
        for (std::size_t i = 0; i < inputs.size(); ++i)
            if (node->saved_[k].defined() && inputs[i].impl() == node->saved_[k].impl()) {
                node->slot(k).input_nr = static_cast<std::int32_t>(i);
                break;
            }
    node->edges_ = std::move(edges);
    // Only saved_output() needs the node's own handle; a weak_ptr costs two atomic counts.
    if (node->saved_output_) node->self_ = node;
    node->set_output_meta(output.shape(), output.dtype());
    if (autograd::AnomalyMode::is_enabled())
        node->anomaly_ = std::make_unique<AnomalyMetadata>(
            autograd::detail::capture_anomaly_metadata(node->name()));
    output.impl()->grad_fn = std::move(node);
}

namespace autograd {

TensorList AutogradContext::get_saved_variables() const {
    return node_->saved_tensors();
}

namespace detail {
void check_custom_grads(const TensorList& grads, std::size_t n_inputs) {
    if (grads.size() != n_inputs)
        raise<AutogradError>("autograd::Function", "backward returned ",
                             std::to_string(grads.size()), " gradients but forward took ",
                             std::to_string(n_inputs), " tensor inputs");
}
}  // namespace detail

}  // namespace autograd

}  // namespace xgrad
