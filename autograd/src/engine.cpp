// The backward pass: replay the recorded nodes in reverse order of recording.
//
// Every node reachable from the roots is visited once, in decreasing sequence number. A node's
// consumers were recorded after it, so by the time it is visited its output gradient is fully
// summed, and its backward rule runs exactly once (a diamond x -> {a, b} -> y gives x's node
// the sum of both paths). Broadcasting is undone here, in one place: a gradient whose shape
// differs from the input's is summed back to it with sum_to.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <xgrad/autograd/engine.hpp>
#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include "kernels/dispatch.hpp"
#include "kernels/parallel.hpp"

namespace xgrad::autograd {

namespace {

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
}

// A gradient that nothing else references can be kept as it is; otherwise copy it so that a
// later in-place accumulation cannot change another tensor.
bool exclusively_owned(const Tensor& g) {
    return g.impl().use_count() == 1 && g.impl()->storage.use_count() == 1 && !g.grad_fn();
}

Tensor run_hooks(const std::vector<Tensor::Hook>& hooks, Tensor g) {
    for (const auto& h : hooks) {
        Tensor r = h(g);
        if (r.defined()) g = std::move(r);
    }
    return g;
}

void accumulate_into_leaf(TensorImpl& leaf, Tensor g, bool create_graph) {
    g = run_hooks(leaf.hooks, std::move(g));
    // A hook may replace the gradient; it must still fit the leaf (and its accumulated grad).
    if (g.shape() != leaf.shape || g.dtype() != leaf.dtype)
        raise<AutogradError>("backward", "gradient of shape ", shape_str(g.shape()), " (",
                             dtype_name(g.dtype()), ") for a leaf of shape ", shape_str(leaf.shape),
                             " (", dtype_name(leaf.dtype),
                             "); a hook returned a tensor that does not fit");
    if (leaf.grad.defined() && leaf.grad.shape() != leaf.shape) leaf.grad = Tensor();
    if (!leaf.grad.defined()) {
        leaf.grad = (create_graph || exclusively_owned(g)) ? std::move(g) : g.clone();
    } else if (create_graph || leaf.grad.grad_fn()) {
        leaf.grad = leaf.grad + g;  // out of place: the result keeps its own graph
    } else {
        add_in_place(leaf.grad, g);
    }
}

void accumulate_into_node(Node& node, Tensor g) {
    if (!node.grad_accum_.defined())
        node.grad_accum_ = std::move(g);
    else
        node.grad_accum_ = node.grad_accum_ + g;
}

Tensor checked_root_grad(const Tensor& root, const Tensor& given, std::size_t i) {
    if (!given.defined()) {
        if (root.numel() != 1)
            raise<AutogradError>(
                "backward",
                "a gradient can be created implicitly only for scalar outputs, but output ",
                std::to_string(i), " has shape ", shape_str(root.shape()),
                "; pass the gradient explicitly");
        return ones_like(root);
    }
    if (given.shape() != root.shape() || given.dtype() != root.dtype())
        raise<ShapeError>("backward", "gradient of shape ", shape_str(given.shape()), " (",
                          dtype_name(given.dtype()), ") for output ", std::to_string(i),
                          " of shape ", shape_str(root.shape()), " (", dtype_name(root.dtype()),
                          ")");
    return given;
}

// What autograd::grad asks for: the gradient flowing into particular leaves or nodes.
struct Captures {
    std::unordered_map<const TensorImpl*, std::size_t> leaves;
    std::unordered_map<const Node*, std::size_t> nodes;
    TensorList grads;
    bool active = false;
};

void capture_add(Captures& c, std::size_t idx, const Tensor& g) {
    c.grads[idx] = c.grads[idx].defined() ? c.grads[idx] + g : g;
}

void run_backward(const TensorList& roots, const TensorList& root_grads, bool retain_graph,
                  bool create_graph, Captures& captures) {
    if (!root_grads.empty() && root_grads.size() != roots.size())
        raise<AutogradError>("backward", std::to_string(roots.size()), " outputs but ",
                             std::to_string(root_grads.size()), " gradients");
    AutoGradMode mode(create_graph);

    // 1. Seed the roots.
    std::vector<Node*> stack;
    for (std::size_t i = 0; i < roots.size(); ++i) {
        const Tensor& r = roots[i];
        if (!r.defined() || !r.requires_grad())
            raise<AutogradError>("backward", "output ", std::to_string(i),
                                 " does not require grad and has no grad_fn (shape ",
                                 (r.defined() ? shape_str(r.shape()) : std::string("undefined")),
                                 ")");
        Tensor g = checked_root_grad(r, root_grads.empty() ? Tensor() : root_grads[i], i);
        if (r.grad_fn()) {
            accumulate_into_node(*r.grad_fn(), g);
            stack.push_back(r.grad_fn().get());
        } else if (captures.active) {
            auto it = captures.leaves.find(r.impl().get());
            if (it != captures.leaves.end())
                capture_add(captures, it->second, run_hooks(r.impl()->hooks, g));
        } else {
            accumulate_into_leaf(*r.impl(), g, create_graph);
        }
    }

    // 2. Every node reachable from the roots.
    std::vector<Node*> order;
    std::unordered_set<Node*> seen(stack.begin(), stack.end());
    order.assign(seen.begin(), seen.end());
    stack.assign(seen.begin(), seen.end());
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        for (const Edge& e : n->next_edges())
            if (e.node && seen.insert(e.node.get()).second) {
                order.push_back(e.node.get());
                stack.push_back(e.node.get());
            }
    }
    std::sort(order.begin(), order.end(),
              [](const Node* a, const Node* b) { return a->sequence_nr() > b->sequence_nr(); });

    // For autograd::grad: skip nodes from which no requested input can be reached.
    std::unordered_set<const Node*> useful;
    if (captures.active) {
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
            const Node* n = *it;
            bool u = captures.nodes.count(n) > 0;
            for (const Edge& e : n->next_edges())
                u = u || (e.node && useful.count(e.node.get())) ||
                    (e.leaf && captures.leaves.count(e.leaf.get()));
            if (u) useful.insert(n);
        }
    }

    // 3. Replay in reverse recording order.
    try {
        for (Node* n : order) {
            Tensor g = std::move(n->grad_accum_);
            n->grad_accum_ = Tensor();
            if (!g.defined()) continue;
            if (captures.active && !useful.count(n)) continue;
            g = run_hooks(n->pre_hooks(), std::move(g));
            if (captures.active) {
                auto it = captures.nodes.find(n);
                if (it != captures.nodes.end()) capture_add(captures, it->second, g);
            }
            TensorList grads = n->apply(g);
            g = Tensor();
            if (grads.size() != n->num_inputs())
                raise<AutogradError>("backward", n->name(), " returned ",
                                     std::to_string(grads.size()), " gradients for ",
                                     std::to_string(n->num_inputs()), " inputs");
            for (std::size_t i = 0; i < grads.size(); ++i) {
                const Edge& e = n->next_edges()[i];
                if (!e.defined() || !grads[i].defined()) continue;
                Tensor gi = std::move(grads[i]);
                if (gi.shape() != e.shape) gi = sum_to(gi, e.shape);
                if (e.node) {
                    accumulate_into_node(*e.node, std::move(gi));
                } else if (captures.active) {
                    auto it = captures.leaves.find(e.leaf.get());
                    if (it != captures.leaves.end())
                        capture_add(captures, it->second, run_hooks(e.leaf->hooks, gi));
                } else {
                    accumulate_into_leaf(*e.leaf, std::move(gi), create_graph);
                }
            }
            if (!retain_graph) n->release();
        }
    } catch (...) {
        for (Node* n : order) n->grad_accum_ = Tensor();
        throw;
    }
}

}  // namespace

void backward(const TensorList& tensors, const TensorList& grad_tensors, BackwardOptions options) {
    Captures none;
    run_backward(tensors, grad_tensors, options.retain_graph || options.create_graph,
                 options.create_graph, none);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                GradOptions options) {
    Captures c;
    c.active = true;
    c.grads.resize(inputs.size());
    std::vector<std::pair<std::size_t, std::size_t>> repeats;  // (index, first index)
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& x = inputs[i];
        if (!x.defined() || !x.requires_grad())
            raise<AutogradError>("autograd::grad", "input ", std::to_string(i),
                                 " does not require grad");
        // The same tensor listed twice gets the same gradient twice.
        const bool inserted = x.grad_fn() ? c.nodes.emplace(x.grad_fn().get(), i).second
                                          : c.leaves.emplace(x.impl().get(), i).second;
        if (!inserted)
            repeats.emplace_back(
                i, x.grad_fn() ? c.nodes[x.grad_fn().get()] : c.leaves[x.impl().get()]);
    }
    run_backward(outputs, grad_outputs, options.retain_graph.value_or(options.create_graph),
                 options.create_graph, c);
    for (const auto& [i, first] : repeats) c.grads[i] = c.grads[first];
    for (std::size_t i = 0; i < inputs.size(); ++i)
        if (!c.grads[i].defined() && !options.allow_unused)
            raise<AutogradError>("autograd::grad", "input ", std::to_string(i), " (shape ",
                                 shape_str(inputs[i].shape()),
                                 ") was not used to compute the outputs; set allow_unused = true "
                                 "to get an undefined gradient instead");
    return c.grads;
}

}  // namespace xgrad::autograd

namespace xgrad {

void Tensor::backward(const Tensor& gradient, BackwardOptions options) const {
    autograd::backward({*this}, {gradient}, options);
}

}  // namespace xgrad
