// The backward pass, as PyTorch's engine runs it.
//
// Each call builds a GraphTask: every node reachable from the roots gets a dense index, a
// dependency count (how many reachable edges point at it) and an input buffer where the
// gradients arriving for it are summed. A node runs once its count reaches zero, so its
// backward rule sees the full gradient exactly once (a diamond x -> {a, b} -> y gives x's
// node the sum of both paths). Leaves are AccumulateGrad nodes like any other; all per-call
// state lives in the task, none on the shared nodes, so threads may run backward at once.
// Broadcasting is undone here, in one place: a gradient whose shape differs from the shape
// the receiving node produced is summed back to it with sum_to.
#include <cmath>
#include <string>

#include <xgrad/autograd/anomaly_mode.hpp>
#include <xgrad/autograd/engine.hpp>
#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include "kernels/dispatch.hpp"

namespace xgrad::autograd {

namespace {

constexpr std::uint32_t kNone = ~std::uint32_t(0);

// Node* -> dense index, open addressing: cheaper than std::unordered_map for the few hundred
// nodes of a typical graph, and no allocation per node.
class NodeIndex {
  public:
    NodeIndex() : slots_(64, {nullptr, kNone}) {}
    std::uint32_t find(const Node* n) const {
        for (std::size_t i = hash(n);; i = (i + 1) & (slots_.size() - 1)) {
            if (slots_[i].first == n) return slots_[i].second;
            if (!slots_[i].first) return kNone;
        }
    }
    // The index of n, inserting it as `next` if new; second is true when inserted.
    std::pair<std::uint32_t, bool> insert(const Node* n, std::uint32_t next) {
        if (2 * (count_ + 1) > slots_.size()) grow();
        for (std::size_t i = hash(n);; i = (i + 1) & (slots_.size() - 1)) {
            if (slots_[i].first == n) return {slots_[i].second, false};
            if (!slots_[i].first) {
                slots_[i] = {n, next};
                ++count_;
                return {next, true};
            }
        }
    }

  private:
    std::size_t hash(const Node* n) const {
        const auto h =
            static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(n)) * 0x9E3779B97F4A7C15ull;
        return static_cast<std::size_t>(h >> 32) & (slots_.size() - 1);
    }
    void grow() {
        std::vector<std::pair<const Node*, std::uint32_t>> old(slots_.size() * 2, {nullptr, kNone});
        old.swap(slots_);
        count_ = 0;
        for (const auto& s : old)
            if (s.first) insert(s.first, s.second);
    }
    std::vector<std::pair<const Node*, std::uint32_t>> slots_;
    std::size_t count_ = 0;
};

// The state of one backward call.
struct GraphTask {
    NodeIndex index;
    std::vector<Node*> nodes;                // by dense index
    std::vector<std::uint32_t> first_child;  // children of node i: child[first_child[i] ..
    std::vector<std::uint32_t> child;        //   first_child[i + 1]), kNone for no edge
    std::vector<std::uint32_t> deps;
    std::vector<Tensor> buffers;  // the gradient summed so far for each node's output
    std::vector<char> needed;     // autograd::grad: nodes that lead to a captured one
    // autograd::grad: which result slot a node's incoming gradient is captured into.
    std::vector<std::uint32_t> capture_slot;
    TensorList captured;
    bool capturing = false;
    bool retain_graph = false;

    std::uint32_t add(Node* n) {
        auto [id, inserted] = index.insert(n, static_cast<std::uint32_t>(nodes.size()));
        if (inserted) nodes.push_back(n);
        return id;
    }
};

void add_to_buffer(Tensor& buffer, Tensor g) {
    buffer = buffer.defined() ? buffer + g : std::move(g);
}

Tensor run_hooks(const std::vector<Tensor::Hook>& hooks, Tensor g) {
    for (const auto& h : hooks) {
        Tensor r = h(g);
        if (r.defined()) g = std::move(r);
    }
    return g;
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

// Anomaly mode: a gradient with NaN or Inf names the node that returned it and where the
// node was created.
void check_anomaly(const Node& n, const TensorList& grads) {
    for (std::size_t i = 0; i < grads.size(); ++i) {
        const Tensor& g = grads[i];
        if (!g.defined() || !is_floating(g.dtype())) continue;
        bool has_nan = false, has_inf = false;
        kernels::dispatch_floating(g.dtype(), "backward", [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T* d = g.data_ptr<T>();
            for (std::int64_t k = 0, m = g.numel(); k < m; ++k) {
                has_nan = has_nan || std::isnan(d[k]);
                has_inf = has_inf || std::isinf(d[k]);
            }
        });
        if (!has_nan && !has_inf) continue;
        const AnomalyMetadata* meta = n.anomaly_metadata();
        raise<AutogradError>(
            "backward", "anomaly detected: ", n.name(), " returned a gradient with ",
            has_nan ? "NaN" : "Inf", " for its input ", std::to_string(i), " (shape ",
            shape_str(g.shape()), "). It was created by ",
            meta ? meta->describe()
                 : std::string("a forward op recorded while anomaly mode was off (turn it on "
                               "before the forward pass to see where)"));
    }
}

// Discovers the graph from the seeded roots: indices, child lists and dependency counts.
// Breadth first: the roots hold indices 0..n_roots-1, every node found is appended, and each
// node's child list is laid out when the walk reaches it, so lists are ordered by index.
void build_graph(GraphTask& task) {
    task.first_child.assign(1, 0);
    for (std::uint32_t id = 0; id < task.nodes.size(); ++id) {
        for (const Edge& e : task.nodes[id]->next_edges())
            task.child.push_back(e.node ? task.add(e.node.get()) : kNone);
        task.first_child.push_back(static_cast<std::uint32_t>(task.child.size()));
    }
}

void count_deps(GraphTask& task) {
    const std::size_t n = task.nodes.size();
    task.deps.assign(n, 0);
    for (std::uint32_t id = 0; id < n; ++id) {
        if (task.capturing && !task.needed[id]) continue;
        for (std::uint32_t k = task.first_child[id]; k < task.first_child[id + 1]; ++k) {
            const std::uint32_t c = task.child[k];
            if (c != kNone && (!task.capturing || task.needed[c])) ++task.deps[c];
        }
    }
}

// autograd::grad: only nodes from which a captured node can be reached need to run.
void mark_needed(GraphTask& task) {
    const std::size_t n = task.nodes.size();
    task.needed.assign(n, 0);
    // A reverse topological order: Kahn's algorithm over all edges, then walk it backwards.
    std::vector<std::uint32_t> deps(n, 0), order, ready;
    order.reserve(n);
    for (std::uint32_t id = 0; id < n; ++id)
        for (std::uint32_t k = task.first_child[id]; k < task.first_child[id + 1]; ++k)
            if (task.child[k] != kNone) ++deps[task.child[k]];
    for (std::uint32_t id = 0; id < n; ++id)
        if (deps[id] == 0) ready.push_back(id);
    while (!ready.empty()) {
        const std::uint32_t id = ready.back();
        ready.pop_back();
        order.push_back(id);
        for (std::uint32_t k = task.first_child[id]; k < task.first_child[id + 1]; ++k)
            if (task.child[k] != kNone && --deps[task.child[k]] == 0)
                ready.push_back(task.child[k]);
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const std::uint32_t id = *it;
        bool u = task.capture_slot[id] != kNone;
        for (std::uint32_t k = task.first_child[id]; k < task.first_child[id + 1] && !u; ++k)
            u = task.child[k] != kNone && task.needed[task.child[k]];
        task.needed[id] = u;
    }
}

void execute(GraphTask& task, std::size_t n_roots) {
    std::vector<std::uint32_t> ready;
    for (std::uint32_t id = 0; id < n_roots; ++id)
        if (task.deps[id] == 0 && (!task.capturing || task.needed[id])) ready.push_back(id);
    const bool anomaly = AnomalyMode::is_enabled();
    while (!ready.empty()) {
        const std::uint32_t id = ready.back();
        ready.pop_back();
        Node* n = task.nodes[id];
        Tensor g = std::move(task.buffers[id]);
        task.buffers[id] = Tensor();
        if (g.defined()) {
            if (!n->pre_hooks().empty()) g = run_hooks(n->pre_hooks(), std::move(g));
            if (task.capturing && task.capture_slot[id] != kNone)
                add_to_buffer(task.captured[task.capture_slot[id]], g);
            // autograd::grad returns gradients instead of accumulating them into leaves, and
            // runs a node only if a captured node lies beyond it.
            bool run = true;
            if (task.capturing) {
                run = false;
                for (std::uint32_t k = task.first_child[id]; k < task.first_child[id + 1]; ++k)
                    run = run || (task.child[k] != kNone && task.needed[task.child[k]]);
            }
            if (run) {
                TensorList grads = n->apply(g);
                g = Tensor();
                if (grads.size() != n->num_inputs())
                    raise<AutogradError>("backward", n->name(), " returned ",
                                         std::to_string(grads.size()), " gradients for ",
                                         std::to_string(n->num_inputs()), " inputs");
                if (anomaly) check_anomaly(*n, grads);
                for (std::size_t i = 0; i < grads.size(); ++i) {
                    const std::uint32_t c = task.child[task.first_child[id] + i];
                    if (c == kNone || !grads[i].defined()) continue;
                    if (task.capturing && !task.needed[c]) continue;
                    Tensor gi = std::move(grads[i]);
                    const Shape& want = task.nodes[c]->output_shape();
                    if (gi.shape() != want) gi = sum_to(gi, want);
                    add_to_buffer(task.buffers[c], std::move(gi));
                }
                if (!task.retain_graph) n->release();
            }
        }
        for (std::uint32_t k = task.first_child[id]; k < task.first_child[id + 1]; ++k) {
            const std::uint32_t c = task.child[k];
            if (c == kNone || (task.capturing && !task.needed[c])) continue;
            if (--task.deps[c] == 0) ready.push_back(c);
        }
    }
}

// The one path behind backward and grad: seed the roots, discover, run.
void run_backward(GraphTask& task, const TensorList& roots, const TensorList& root_grads,
                  bool create_graph, const std::vector<Edge>& capture_edges) {
    if (!root_grads.empty() && root_grads.size() != roots.size())
        raise<AutogradError>("backward", std::to_string(roots.size()), " outputs but ",
                             std::to_string(root_grads.size()), " gradients");
    AutoGradMode mode(create_graph);

    // Roots first, so that they hold indices 0..n_roots-1 (a root listed twice, or reachable
    // from another root, is one node: its seeds add up and it waits for its dependencies).
    std::vector<Edge> root_edges(roots.size());
    TensorList seeds(roots.size());
    for (std::size_t i = 0; i < roots.size(); ++i) {
        const Tensor& r = roots[i];
        if (!r.defined() || !r.requires_grad())
            raise<AutogradError>("backward", "output ", std::to_string(i),
                                 " does not require grad and has no grad_fn (shape ",
                                 (r.defined() ? shape_str(r.shape()) : std::string("undefined")),
                                 ")");
        seeds[i] = checked_root_grad(r, root_grads.empty() ? Tensor() : root_grads[i], i);
        root_edges[i] = gradient_edge(r);
        task.add(root_edges[i].node.get());
    }
    const std::size_t n_roots = task.nodes.size();
    build_graph(task);
    task.buffers.resize(task.nodes.size());
    for (std::size_t i = 0; i < roots.size(); ++i)
        add_to_buffer(task.buffers[task.index.find(root_edges[i].node.get())], std::move(seeds[i]));

    if (task.capturing) {
        task.capture_slot.assign(task.nodes.size(), kNone);
        for (std::size_t k = 0; k < capture_edges.size(); ++k) {
            const std::uint32_t id = task.index.find(capture_edges[k].node.get());
            if (id != kNone && task.capture_slot[id] == kNone)
                task.capture_slot[id] = static_cast<std::uint32_t>(k);
        }
        mark_needed(task);
    }
    count_deps(task);
    execute(task, n_roots);
}

}  // namespace

void backward(const TensorList& tensors, const TensorList& grad_tensors, BackwardOptions options) {
    GraphTask task;
    task.retain_graph = options.retain_graph || options.create_graph;
    run_backward(task, tensors, grad_tensors, options.create_graph, {});
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                GradOptions options) {
    GraphTask task;
    task.capturing = true;
    task.retain_graph = options.retain_graph.value_or(options.create_graph);
    // Each input is captured where its gradient arrives: its grad_fn, or its AccumulateGrad.
    std::vector<Edge> capture_edges(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& x = inputs[i];
        if (!x.defined() || !x.requires_grad())
            raise<AutogradError>("autograd::grad", "input ", std::to_string(i),
                                 " does not require grad");
        capture_edges[i] = gradient_edge(x);
    }
    task.captured.resize(inputs.size());
    run_backward(task, outputs, grad_outputs, options.create_graph, capture_edges);
    // The same tensor (or two sharing a grad_fn) listed twice gets the same gradient twice.
    TensorList result(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        std::size_t first = i;
        for (std::size_t j = 0; j < i; ++j)
            if (capture_edges[j].node == capture_edges[i].node) {
                first = j;
                break;
            }
        result[i] = task.captured[first];
        if (!result[i].defined() && !options.allow_unused)
            raise<AutogradError>("autograd::grad", "input ", std::to_string(i), " (shape ",
                                 shape_str(inputs[i].shape()),
                                 ") was not used to compute the outputs; set allow_unused = true "
                                 "to get an undefined gradient instead");
    }
    return result;
}

}  // namespace xgrad::autograd

namespace xgrad {

void Tensor::backward(const Tensor& gradient, BackwardOptions options) const {
    autograd::backward({*this}, {gradient}, options);
}

}  // namespace xgrad
