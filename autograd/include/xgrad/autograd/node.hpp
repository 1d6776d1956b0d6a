// A Node is one recorded op on the tape: where its gradient goes (edges to the nodes or leaves
// that produced its inputs), what it saved for backward, and its backward rule.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include <xgrad/core/tensor.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

// Where the gradient of one input goes: the node that produced it, or the leaf itself.
// Both empty when that input does not need a gradient.
struct Edge {
    std::shared_ptr<Node> node;
    std::shared_ptr<TensorImpl> leaf;
    Shape shape;  // the input's shape: gradients are summed back to it after broadcasting
    bool defined() const { return node || leaf; }
};

class Node {
  public:
    Node();
    virtual ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // "MulBackward", shown by printing and graph export.
    virtual const char* name() const = 0;
    // The backward rule: gradient of the output in, one gradient per input out (undefined
    // where needs_input_grad(i) is false). Written with Tensor ops so that it can itself be
    // recorded when create_graph is set.
    virtual TensorList apply(const Tensor& grad_output) = 0;

    std::uint64_t sequence_nr() const { return seq_; }
    const std::vector<Edge>& next_edges() const { return edges_; }
    std::size_t num_inputs() const { return edges_.size(); }
    bool needs_input_grad(std::size_t i) const { return i < edges_.size() && edges_[i].defined(); }

    // Saved tensors, for the backward rule. Throws once the graph has been released.
    const Tensor& saved(std::size_t i) const;
    const TensorList& saved_tensors() const;
    // The op's output, rebuilt from saved data with this node as grad_fn, so a rule that
    // uses the output (exp, tanh, sigmoid) stays differentiable without a reference cycle.
    Tensor saved_output();
    bool released() const { return released_; }
    // Frees saved tensors (after backward without retain_graph).
    void release();

    // Gradient hooks of the (non-leaf) output tensor, run before apply.
    std::vector<Tensor::Hook>& pre_hooks() { return pre_hooks_; }

    // Set up by record(): wiring of inputs, saved state and output description.
    void set_edges(std::vector<Edge> edges) { edges_ = std::move(edges); }
    void save(TensorList tensors);
    void save_output(const Tensor& out);
    void set_output_meta(const Shape& shape, Dtype dtype);
    const Shape& output_shape() const { return out_shape_; }
    Dtype output_dtype() const { return out_dtype_; }

    // Engine scratch: the gradient summed so far for this node's output.
    Tensor grad_accum_;

  private:
    std::uint64_t seq_;
    std::vector<Edge> edges_;
    TensorList saved_;
    std::shared_ptr<Storage> saved_output_;
    std::weak_ptr<Node> self_;  // set by record(); lets saved_output() hand out grad_fn
    Shape out_shape_;
    Dtype out_dtype_ = Dtype::f32;
    bool has_saved_ = false;
    bool released_ = false;
    std::vector<Tensor::Hook> pre_hooks_;

    friend void attach_node(const std::shared_ptr<Node>&, Tensor&, const TensorList&);
};

// True when grad mode is on and any of the tensors requires grad: the op must be recorded.
bool should_record(std::initializer_list<const Tensor*> inputs);
bool should_record(const TensorList& inputs);

// Wires `node` to `inputs` (one edge each), makes it the grad_fn of `output`.
void attach_node(const std::shared_ptr<Node>& node, Tensor& output, const TensorList& inputs);

// A node whose backward rule is a callable `TensorList(Node&, const Tensor& grad)`; the op
// library uses it so that an op's forward and backward sit side by side.
template <class F>
class LambdaNode final : public Node {
  public:
    LambdaNode(const char* name, F fn) : name_(name), fn_(std::move(fn)) {}
    const char* name() const override { return name_; }
    TensorList apply(const Tensor& grad_output) override { return fn_(*this, grad_output); }

  private:
    const char* name_;
    F fn_;
};

// Records an op: `output` gets a node named `name` with edges to `inputs`, keeping `saved`
// (and the output's data if `save_output`), and `backward` as its rule.
template <class F>
void record(const char* name, Tensor& output, const TensorList& inputs, TensorList saved,
            F backward, bool save_output = false) {
    auto node = std::make_shared<LambdaNode<F>>(name, std::move(backward));
    node->save(std::move(saved));
    if (save_output) node->save_output(output);
    attach_node(node, output, inputs);
}

}  // namespace xgrad
