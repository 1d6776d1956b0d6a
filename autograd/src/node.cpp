#include <atomic>
#include <string>

#include <xgrad/autograd/function.hpp>
#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/node.hpp>

namespace xgrad {

namespace {
std::atomic<std::uint64_t> next_sequence_nr{0};

// Moves out every predecessor that only this node keeps alive, so that freeing a long chain
// of nodes is a loop instead of a recursion that could overflow the stack.
void take_sole_owners(std::vector<Edge>& edges, TensorList& saved,
                      std::vector<std::shared_ptr<Node>>& out) {
    for (auto& e : edges)
        if (e.node && e.node.use_count() == 1) out.push_back(std::move(e.node));
    for (auto& t : saved) {
        if (!t.defined() || t.impl().use_count() != 1) continue;
        auto& fn = t.impl()->grad_fn;
        if (fn && fn.use_count() == 1) out.push_back(std::move(fn));
    }
}
}  // namespace

Node::Node() : seq_(next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

Node::~Node() {
    std::vector<std::shared_ptr<Node>> stack;
    take_sole_owners(edges_, saved_, stack);
    while (!stack.empty()) {
        std::shared_ptr<Node> n = std::move(stack.back());
        stack.pop_back();
        take_sole_owners(n->edges_, n->saved_, stack);
        // n is destroyed here with its predecessors already moved out.
    }
}

const Tensor& Node::saved(std::size_t i) const {
    if (released_)
        throw AutogradError(std::string("xgrad::backward: trying to backward through the graph a "
                                        "second time: the saved tensors of ") +
                            name() +
                            " were freed by the first backward. Pass retain_graph = true to the "
                            "first call if you need to call backward twice.");
    if (i >= saved_.size())
        throw AutogradError(std::string("xgrad::") + name() + ": saved tensor " +
                            std::to_string(i) + " does not exist (" +
                            std::to_string(saved_.size()) + " saved)");
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
        throw AutogradError("xgrad::autograd::Function: backward returned " +
                            std::to_string(grads.size()) + " gradients but forward took " +
                            std::to_string(n_inputs) + " tensor inputs");
}
}  // namespace detail

}  // namespace autograd

}  // namespace xgrad
