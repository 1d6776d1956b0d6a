// A Node is one recorded op on the tape: where its gradient goes (edges to the nodes or leaves
// that produced its inputs), what it saved for backward, and its backward rule.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include <xgrad/core/object_pool.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

// Where the gradient of one input goes: input `input_nr` of `node` (the op that produced the
// input, or the AccumulateGrad node of a leaf). Undefined when that input needs no gradient.
// Nodes have one output today, so input_nr is 0; it is kept so that multi-output nodes fit.
struct Edge {
    std::shared_ptr<Node> node;
    std::uint32_t input_nr = 0;
    bool defined() const { return node != nullptr; }
};

// The inputs of an op being recorded, by reference: `record(name, out, {a, b}, ...)` builds
// neither a vector nor copies of the handles (each copy is an atomic count up and down in a
// process with threads, and the vector a heap allocation: per op, on the tape's hot path).
// A braced list with a temporary in it falls back to a TensorList that lives until the end
// of the full expression, i.e. of the record() call.
class TensorRefs {
  public:
    using Refs = std::initializer_list<std::reference_wrapper<const Tensor>>;
    TensorRefs(Refs refs) : refs_(refs) {}
    TensorRefs(const TensorList& list) : list_(&list) {}
    std::size_t size() const { return list_ ? list_->size() : refs_.size(); }
    const Tensor& operator[](std::size_t i) const {
        return list_ ? (*list_)[i] : refs_.begin()[i].get();
    }

  private:
    Refs refs_;
    const TensorList* list_ = nullptr;
};

// Where a node was created, kept only in anomaly mode (autograd/anomaly_mode.hpp).
struct AnomalyMetadata;

class Node {
  public:
    Node();
    virtual ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // "MulBackward", shown by printing, graph export and error messages.
    virtual const char* name() const = 0;
    // The backward rule: gradient of the output in, one gradient per input out (undefined
    // where needs_input_grad(i) is false). Written with Tensor ops so that it can itself be
    // recorded when create_graph is set.
    virtual TensorList apply(const Tensor& grad_output) = 0;

    std::uint64_t sequence_nr() const { return seq_; }
    const std::vector<Edge>& next_edges() const { return edges_; }
    std::size_t num_inputs() const { return edges_.size(); }
    bool needs_input_grad(std::size_t i) const { return i < edges_.size() && edges_[i].defined(); }

    // Saved tensors, for the backward rule. Throws once the graph has been released, and
    // throws AutogradError if a saved tensor was modified in place since it was saved (its
    // storage version moved), naming this op, the input and both versions.
    const Tensor& saved(std::size_t i) const;
    TensorList saved_tensors() const;
    // The op's output, rebuilt from saved data with this node as grad_fn, so a rule that
    // uses the output (exp, tanh, sigmoid) stays differentiable without a reference cycle.
    Tensor saved_output();
    bool released() const { return released_; }
    // Frees saved tensors (after backward without retain_graph).
    void release();

    // Hooks run on the gradient arriving at this node, before apply: the hooks of a non-leaf
    // output tensor, or (AccumulateGrad) the leaf's own hooks.
    virtual std::vector<Tensor::Hook>& pre_hooks() { return pre_hooks_; }
    // True for AccumulateGrad: autograd::grad captures what reaches it instead of running it.
    bool is_accumulate_grad() const { return accumulates_; }

    // Set up by record(): wiring of inputs, saved state and output description.
    void set_edges(std::vector<Edge> edges) { edges_ = std::move(edges); }
    void save(TensorList tensors);
    void save_output(const Tensor& out);
    void set_output_meta(const Shape& shape, Dtype dtype);
    const Shape& output_shape() const { return out_shape_; }
    Dtype output_dtype() const { return out_dtype_; }

    // Anomaly mode: where this node was created (null when anomaly mode was off).
    const AnomalyMetadata* anomaly_metadata() const { return anomaly_.get(); }

  protected:
    bool accumulates_ = false;

  private:
    // What a saved tensor was when saved: its version, and which input it is (-1: not one).
    struct SavedSlot {
        std::uint64_t version = 0;
        std::int32_t input_nr = -1;
    };
    static constexpr std::size_t kInlineSlots = 4;  // most ops save at most 4 tensors
    SavedSlot& slot(std::size_t i) {
        return i < kInlineSlots ? slots_[i] : more_slots_[i - kInlineSlots];
    }
    const SavedSlot& slot(std::size_t i) const {
        return i < kInlineSlots ? slots_[i] : more_slots_[i - kInlineSlots];
    }
    [[noreturn]] void throw_modified(const char* what, std::size_t i, std::uint64_t expected,
                                     std::uint64_t found, std::int32_t input_nr,
                                     const Shape& shape) const;

    std::uint64_t seq_;
    std::vector<Edge> edges_;
    TensorList saved_;
    SavedSlot slots_[kInlineSlots];
    std::vector<SavedSlot> more_slots_;
    std::shared_ptr<Storage> saved_output_;
    std::uint64_t saved_output_version_ = 0;
    std::weak_ptr<Node> self_;  // set by record(); lets saved_output() hand out grad_fn
    Shape out_shape_;
    Dtype out_dtype_ = Dtype::f32;
    bool has_saved_ = false;
    bool released_ = false;
    std::vector<Tensor::Hook> pre_hooks_;
    std::unique_ptr<AnomalyMetadata> anomaly_;

    friend void attach_node(std::shared_ptr<Node>, Tensor&, TensorRefs);
};

// The sink of a leaf's gradient: it runs the leaf's hooks (as pre_hooks) and adds the
// gradient into leaf.grad(), under a lock, so that threads running backward through graphs
// that share the leaf never lose an update. One per leaf while any graph holds it.
class AccumulateGrad final : public Node {
  public:
    explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
    const char* name() const override { return "AccumulateGrad"; }
    TensorList apply(const Tensor& grad) override;
    std::vector<Tensor::Hook>& pre_hooks() override { return leaf_->hooks; }
    const std::shared_ptr<TensorImpl>& leaf() const { return leaf_; }

  private:
    std::shared_ptr<TensorImpl> leaf_;
};

// The node a gradient for `t` goes to: its grad_fn, or the AccumulateGrad of a leaf that
// requires grad (made on first use and shared); undefined if t does not require grad.
Edge gradient_edge(const Tensor& t);

// True when grad mode is on and any of the tensors requires grad: the op must be recorded.
bool should_record(std::initializer_list<const Tensor*> inputs);
bool should_record(const TensorList& inputs);

// Wires `node` to `inputs` (one edge each), makes it the grad_fn of `output`.
void attach_node(std::shared_ptr<Node> node, Tensor& output, TensorRefs inputs);

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
void record(const char* name, Tensor& output, TensorRefs inputs, TensorList saved, F backward,
            bool save_output = false) {
    auto node = std::allocate_shared<LambdaNode<F>>(detail::PoolAllocator<LambdaNode<F>>(), name,
                                                    std::move(backward));
    node->save(std::move(saved));
    if (save_output) node->save_output(output);
    attach_node(std::move(node), output, inputs);
}

}  // namespace xgrad
