// Gradient checkpointing: one recorded node stands for a whole function, whose backward rule
// recomputes the function and differentiates the recomputation.
//
// Several outputs: a Node has one output, so the node records on a small token tensor (one
// float64 per differentiable output), and each output is a tiny recorded op on the token. The
// engine visits the outputs' nodes before the token's (they were recorded after it); each one
// parks its gradient in the shared state and sends the token a one-hot gradient, so the token's
// rule receives the sum of the one-hots: exactly the outputs that received a gradient in this
// backward call, whatever another (failed or partial) call left behind. This needs no copy of
// the outputs and lets them differ in shape and dtype.
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <xgrad/autograd/checkpoint.hpp>
#include <xgrad/autograd/engine.hpp>
#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/node.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/core/random.hpp>

namespace xgrad::autograd {

namespace {

using Fn = std::function<TensorList(const TensorList&)>;

constexpr const char* kOp = "autograd::checkpoint";

// What the backward rules of one checkpoint share.
struct State {
    Fn fn;
    std::size_t n_inputs = 0;  // explicit inputs; the captured leaves follow them
    TensorList captured;       // leaves fn used without receiving them (parameters)
    bool preserve_rng = true;
    GeneratorState rng;             // the default generator before the forward
    std::size_t n_outputs = 0;      // everything fn returned
    std::vector<std::size_t> diff;  // which of them are differentiable
    std::vector<Shape> shapes;      // their shapes and dtypes, to check the recomputation
    std::vector<Dtype> dtypes;
    TensorList parked;  // several outputs: gradients waiting for the token's rule
};

// Puts the default generator in the forward's state for the recomputation, and back after it
// (also when fn throws), so that backward does not shift the draws that follow it.
class RngReplay {
  public:
    explicit RngReplay(const State& st) : active_(st.preserve_rng) {
        if (!active_) return;
        saved_ = default_generator().get_state();
        default_generator().set_state(st.rng);
    }
    ~RngReplay() {
        if (active_) default_generator().set_state(saved_);
    }
    RngReplay(const RngReplay&) = delete;
    RngReplay& operator=(const RngReplay&) = delete;

  private:
    bool active_;
    GeneratorState saved_;
};

// Nodes recorded from now on get a sequence number above the one returned: those with a
// smaller one existed before fn ran.
std::uint64_t current_sequence_nr() {
    struct Probe final : Node {
        const char* name() const override { return "CheckpointProbe"; }
        TensorList apply(const Tensor&) override { return {}; }
    };
    return Probe().sequence_nr();
}

// Leaf copies of the inputs that share their data; requires_grad where `needs(i)`.
template <class Needs>
TensorList leaf_copies(const TensorList& inputs, Needs needs) {
    TensorList xs(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) continue;
        xs[i] = inputs[i].detach();
        if (needs(i)) xs[i].requires_grad_();
    }
    return xs;
}

// The leaves requiring grad that the graph of `outs` reaches, other than `own` (fn's inputs).
// Nodes recorded before fn ran belong to a captured non-leaf tensor: refused.
TensorList captured_leaves(const TensorList& outs, const TensorList& own, std::uint64_t start) {
    std::unordered_set<const TensorImpl*> known;
    for (const Tensor& x : own)
        if (x.defined()) known.insert(x.impl().get());
    TensorList found;
    auto leaf = [&](const std::shared_ptr<TensorImpl>& impl) {
        if (known.insert(impl.get()).second) found.push_back(Tensor(impl));
    };
    std::unordered_set<const Node*> seen;
    std::vector<Node*> stack;
    for (const Tensor& o : outs) {
        if (!o.defined() || !o.requires_grad()) continue;
        if (!o.grad_fn())
            leaf(o.impl());
        else if (seen.insert(o.grad_fn().get()).second)
            stack.push_back(o.grad_fn().get());
    }
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        // A leaf's gradient sink (possibly made before fn ran, by another graph using it).
        if (n->is_accumulate_grad()) {
            leaf(static_cast<const AccumulateGrad&>(*n).leaf());
            continue;
        }
        if (n->sequence_nr() <= start)
            raise<AutogradError>(
                kOp, "fn uses a tensor of shape ", n->output_shape(), " (",
                dtype_name(n->output_dtype()), ", made by ", n->name(),
                ") that was computed outside it; a tensor with a history can reach fn only "
                "through its inputs: pass it in `inputs` and use the copy fn receives");
        for (const Edge& e : n->next_edges())
            if (e.node && seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
    return found;
}

std::string describe(const Shape& s, Dtype d) {
    return shape_str(s) + " (" + std::string(dtype_name(d)) + ")";
}

// Runs fn again on `xs` (leaf copies of the inputs) and returns the gradients of its outputs,
// weighted by `grads` (one per differentiable output, undefined where none arrived), with
// respect to the inputs and the captured leaves, undefined where `needs` is false or nothing
// depends on them. Differentiable itself when grad mode is on.
TensorList recompute_vjp(const State& st, const TensorList& xs, const std::vector<bool>& needs,
                         const TensorList& grads) {
    const bool create_graph = GradMode::is_enabled();
    TensorList outs;
    {
        RngReplay replay(st);
        AutoGradMode on(true);
        outs = st.fn(xs);
    }
    if (outs.size() != st.n_outputs)
        raise<AutogradError>(kOp, "recomputing fn in backward gave ", outs.size(),
                             " outputs where the forward gave ", st.n_outputs,
                             "; fn must compute the same thing when run again");
    TensorList roots, root_grads;
    for (std::size_t k = 0; k < st.diff.size(); ++k) {
        const Tensor& o = outs[st.diff[k]];
        const bool same = o.defined() && o.shape() == st.shapes[k] && o.dtype() == st.dtypes[k] &&
                          o.requires_grad();
        if (!same)
            raise<AutogradError>(
                kOp, "recomputing fn in backward gave output ", st.diff[k], " as ",
                o.defined() ? describe(o.shape(), o.dtype()) : std::string("undefined"),
                o.defined() && !o.requires_grad() ? " without grad" : "",
                " where the forward gave ", describe(st.shapes[k], st.dtypes[k]),
                "; fn must compute the same thing when run again (random ops must draw from the "
                "default generator)");
        if (!grads[k].defined()) continue;
        roots.push_back(o);
        root_grads.push_back(grads[k]);
    }
    const std::size_t n_all = st.n_inputs + st.captured.size();
    TensorList targets;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < n_all; ++i) {
        const Tensor& t = i < st.n_inputs ? xs[i] : st.captured[i - st.n_inputs];
        if (!needs[i] || !t.defined() || !t.requires_grad()) continue;
        targets.push_back(t);
        where.push_back(i);
    }
    TensorList result(n_all);
    if (roots.empty() || targets.empty()) return result;
    GradOptions opts;
    opts.create_graph = create_graph;
    opts.allow_unused = true;
    TensorList g = grad(roots, targets, root_grads, opts);
    for (std::size_t j = 0; j < where.size(); ++j) result[where[j]] = std::move(g[j]);
    return result;
}

TensorList checkpoint_impl(const Fn& fn, const TensorList& inputs, bool preserve_rng);

// The backward rule: `grads` has one entry per differentiable output.
TensorList checkpoint_backward(const std::shared_ptr<State>& st, Node& node,
                               const TensorList& grads) {
    const TensorList& saved = node.saved_tensors();  // throws once released
    std::vector<bool> needs(node.num_inputs());
    for (std::size_t i = 0; i < needs.size(); ++i) needs[i] = node.needs_input_grad(i);
    const TensorList inputs(saved.begin(), saved.begin() + std::ptrdiff_t(st->n_inputs));
    if (!GradMode::is_enabled()) {
        const TensorList xs = leaf_copies(inputs, [&](std::size_t i) { return needs[i]; });
        return recompute_vjp(*st, xs, needs, grads);
    }
    // create_graph: the gradients must be differentiable in the inputs, the captured leaves and
    // the incoming gradients. Computing them under a checkpoint gives exactly that (edges to
    // all three) without keeping the recomputed graph, and recurses for every further order.
    TensorList args = inputs;
    std::vector<std::size_t> grad_pos;
    for (std::size_t k = 0; k < grads.size(); ++k)
        if (grads[k].defined()) {
            grad_pos.push_back(k);
            args.push_back(grads[k]);
        }
    const std::size_t n_grads = grads.size();
    Fn vjp = [st, needs, grad_pos, n_grads](const TensorList& a) {
        const TensorList xs(a.begin(), a.begin() + std::ptrdiff_t(st->n_inputs));
        TensorList gs(n_grads);
        for (std::size_t j = 0; j < grad_pos.size(); ++j) gs[grad_pos[j]] = a[st->n_inputs + j];
        return recompute_vjp(*st, xs, needs, gs);
    };
    // recompute_vjp replays the generator itself.
    return checkpoint_impl(vjp, args, /*preserve_rng=*/false);
}

TensorList checkpoint_impl(const Fn& fn, const TensorList& inputs, bool preserve_rng) {
    if (!fn) raise<ValueError>(kOp, "fn is empty");
    // Nothing will be differentiated: no need to keep anything for a recomputation.
    if (!GradMode::is_enabled()) return fn(inputs);

    auto st = std::make_shared<State>();
    st->fn = fn;
    st->n_inputs = inputs.size();
    st->preserve_rng = preserve_rng;
    if (preserve_rng) st->rng = default_generator().get_state();

    TensorList xs = leaf_copies(inputs, [&](std::size_t i) { return inputs[i].requires_grad(); });
    const std::uint64_t start = current_sequence_nr();
    TensorList outs = fn(xs);
    st->captured = captured_leaves(outs, xs, start);
    st->n_outputs = outs.size();

    TensorList results(outs.size());
    for (std::size_t k = 0; k < outs.size(); ++k) {
        const Tensor& o = outs[k];
        if (o.defined() && o.requires_grad()) {
            st->diff.push_back(k);
            st->shapes.push_back(o.shape());
            st->dtypes.push_back(o.dtype());
            results[k] = o.detach();
        } else {
            results[k] = o;
        }
    }
    // The recorded graph goes now, and with it every activation inside fn.
    outs.clear();
    xs.clear();
    if (st->diff.empty()) return results;

    TensorList node_inputs = inputs;
    node_inputs.insert(node_inputs.end(), st->captured.begin(), st->captured.end());
    TensorList saved = node_inputs;

    if (st->diff.size() == 1) {
        record("CheckpointBackward", results[st->diff[0]], node_inputs, std::move(saved),
               [st](Node& node, const Tensor& g) { return checkpoint_backward(st, node, {g}); });
        return results;
    }

    const std::size_t m = st->diff.size();
    st->parked.resize(m);
    Tensor token;
    {
        NoGradGuard no_grad;
        token = zeros({std::int64_t(m)}, {kFloat64});
    }
    record("CheckpointBackward", token, node_inputs, std::move(saved),
           [st](Node& node, const Tensor& marks) {
               const std::vector<double> mark = marks.detach().to_vector<double>();
               TensorList grads(st->parked.size());
               for (std::size_t k = 0; k < grads.size(); ++k) {
                   if (mark[k] != 0.0) grads[k] = std::move(st->parked[k]);
                   st->parked[k] = Tensor();
               }
               return checkpoint_backward(st, node, grads);
           });
    for (std::size_t k = 0; k < m; ++k) {
        // A parked gradient (with create_graph) may refer back to this output's node, a cycle
        // through the state; the token's rule breaks it by taking what was parked.
        record("CheckpointOutputBackward", results[st->diff[k]], {token}, {},
               [st, k, m](Node&, const Tensor& g) {
                   Tensor one_hot;
                   {
                       NoGradGuard no_grad;
                       one_hot = zeros({std::int64_t(m)}, {kFloat64});
                   }
                   one_hot.data_ptr<double>()[k] = 1.0;
                   st->parked[k] = g;
                   return TensorList{one_hot};
               });
    }
    return results;
}

}  // namespace

TensorList checkpoint(const std::function<TensorList(const TensorList&)>& fn,
                      const TensorList& inputs, CheckpointOptions options) {
    return checkpoint_impl(fn, inputs, options.preserve_rng_state);
}

Tensor checkpoint(const std::function<Tensor(const TensorList&)>& fn, const TensorList& inputs,
                  CheckpointOptions options) {
    if (!fn) raise<ValueError>(kOp, "fn is empty");
    // fn is copied into the closure: the recorded node outlives this call.
    return checkpoint_impl([fn](const TensorList& x) { return TensorList{fn(x)}; }, inputs,
                           options.preserve_rng_state)[0];
}

Tensor checkpoint(const std::function<Tensor(const Tensor&)>& fn, const Tensor& input,
                  CheckpointOptions options) {
    if (!fn) raise<ValueError>(kOp, "fn is empty");
    return checkpoint_impl([fn](const TensorList& x) { return TensorList{fn(x[0])}; }, {input},
                           options.preserve_rng_state)[0];
}

}  // namespace xgrad::autograd
