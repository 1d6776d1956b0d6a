#include <atomic>
#include <string>

#include <xgrad/autograd/function.hpp>
#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/node.hpp>
#include <xgrad/core/check.hpp>

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
    return saved_[i];
}

const TensorList& Node::saved_tensors() const {
    if (released_) saved(0);  // throws the released-graph error
    return saved_;
}

void Node::save(TensorList tensors) {
    saved_ = std::move(tensors);
    has_saved_ = has_saved_ || !saved_.empty();
}

void Node::save_output(const Tensor& out) {
    saved_output_ = out.impl()->storage;
    has_saved_ = true;
}

Tensor Node::saved_output() {
    if (released_ || !saved_output_) saved(saved_.size());  // throws the released-graph error
    Tensor out = make_view(saved_output_, out_shape_, out_dtype_);
    out.impl()->grad_fn = self_.lock();
    return out;
}

void Node::release() {
    if (has_saved_) released_ = true;
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

void attach_node(const std::shared_ptr<Node>& node, Tensor& output, const TensorList& inputs) {
    std::vector<Edge> edges(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& in = inputs[i];
        if (!in.defined() || !in.requires_grad()) continue;
        if (in.grad_fn())
            edges[i].node = in.grad_fn();
        else
            edges[i].leaf = in.impl();
        edges[i].shape = in.shape();
    }
    node->edges_ = std::move(edges);
    node->self_ = node;
    node->set_output_meta(output.shape(), output.dtype());
    output.impl()->grad_fn = node;
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
