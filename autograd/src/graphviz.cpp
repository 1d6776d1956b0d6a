#include <xgrad/autograd/graphviz.hpp>

#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <xgrad/autograd/node.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/shape.hpp>

#include "atomic_file.hpp"

namespace xgrad::autograd {

namespace {

// Text inside a double-quoted DOT string: quotes and backslashes escaped, newlines as \n.
std::string dot_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c != '\r') {
            out += c;
        }
    }
    return out;
}

std::string join_label(const std::vector<std::string>& lines) {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i) out += "\\n";
        out += dot_escape(lines[i]);
    }
    return out;
}

const char* kOpFill = "#dbe7f5";
const char* kLeafFill = "#f6e7b0";
const char* kRootFill = "#a9dca0";

}  // namespace

std::string to_dot(const Tensor& root, const DotOptions& options) {
    const char* fn = "autograd::to_dot";
    XGRAD_CHECK(root.defined(), ValueError, fn, "the root tensor is undefined");
    const std::string& rd = options.rankdir;
    XGRAD_CHECK(rd == "TB" || rd == "LR" || rd == "BT" || rd == "RL", ValueError, fn,
                "rankdir must be TB, LR, BT or RL, got '", rd, "'");

    std::unordered_map<const TensorImpl*, std::string> names;
    for (const auto& [name, t] : options.names)
        if (t.defined()) names.emplace(t.impl().get(), name);

    // A leaf's gradient goes to its AccumulateGrad node; the graph shows the leaf itself.
    auto leaf_of = [](const Edge& e) {
        return static_cast<const AccumulateGrad&>(*e.node).leaf().get();
    };
    // Every node reachable from the root, iteratively (graphs can be very deep).
    std::vector<Node*> nodes;
    std::unordered_set<const Node*> seen;
    std::vector<Node*> stack;
    if (root.grad_fn()) {
        stack.push_back(root.grad_fn().get());
        seen.insert(root.grad_fn().get());
    }
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        nodes.push_back(n);
        for (const Edge& e : n->next_edges())
            if (e.node && !e.node->is_accumulate_grad() && seen.insert(e.node.get()).second)
                stack.push_back(e.node.get());
    }
    std::sort(nodes.begin(), nodes.end(),
              [](const Node* a, const Node* b) { return a->sequence_nr() < b->sequence_nr(); });
    std::unordered_map<const Node*, std::string> node_id;
    for (std::size_t i = 0; i < nodes.size(); ++i) node_id[nodes[i]] = "op" + std::to_string(i);

    std::vector<const TensorImpl*> leaves;
    std::unordered_map<const TensorImpl*, std::string> leaf_id;
    auto add_leaf = [&](const TensorImpl* leaf) {
        if (leaf_id.count(leaf)) return;
        leaf_id[leaf] = "leaf" + std::to_string(leaves.size());
        leaves.push_back(leaf);
    };
    for (const Node* n : nodes)
        for (const Edge& e : n->next_edges())
            if (e.node && e.node->is_accumulate_grad()) add_leaf(leaf_of(e));
    const bool root_is_leaf = !root.grad_fn();
    if (root_is_leaf) add_leaf(root.impl().get());

    std::ostringstream os;
    os << "digraph \"" << dot_escape(options.graph_name) << "\" {\n";
    os << "  rankdir=" << rd << ";\n";
    os << "  node [fontname=\"Helvetica\", fontsize=11];\n";
    os << "  edge [color=\"#555555\"];\n";
    os << "  // edges point in the direction of the "
       << (options.direction == DotDirection::DataFlow ? "data flow (inputs to outputs)"
                                                       : "gradient flow (output to inputs)")
       << "\n";
    for (const Node* n : nodes) {
        std::vector<std::string> lines{n->name()};
        if (options.show_shapes) lines.push_back(shape_str(n->output_shape()));
        if (options.show_dtypes) lines.emplace_back(dtype_name(n->output_dtype()));
        if (n->released()) lines.emplace_back("(saved tensors released)");
        const bool is_root = n == root.grad_fn().get();
        os << "  " << node_id[n] << " [label=\"" << join_label(lines)
           << "\", shape=ellipse, style=filled, fillcolor=\"" << (is_root ? kRootFill : kOpFill)
           << "\"" << (is_root ? ", penwidth=2.5" : "") << "];\n";
    }
    for (const TensorImpl* leaf : leaves) {
        std::vector<std::string> lines;
        auto it = names.find(leaf);
        if (it != names.end()) lines.push_back(it->second);
        if (options.show_shapes) lines.push_back(shape_str(leaf->shape));
        if (options.show_dtypes) lines.emplace_back(dtype_name(leaf->dtype));
        lines.emplace_back(leaf->requires_grad ? "requires_grad" : "no grad");
        const bool is_root = root_is_leaf && leaf == root.impl().get();
        os << "  " << leaf_id[leaf] << " [label=\"" << join_label(lines)
           << "\", shape=box, style=filled, fillcolor=\"" << (is_root ? kRootFill : kLeafFill)
           << "\"" << (is_root ? ", penwidth=2.5" : "") << "];\n";
    }
    for (const Node* n : nodes) {
        for (const Edge& e : n->next_edges()) {
            if (!e.defined()) continue;
            const std::string& src =
                e.node->is_accumulate_grad() ? leaf_id[leaf_of(e)] : node_id[e.node.get()];
            if (options.direction == DotDirection::DataFlow)
                os << "  " << src << " -> " << node_id[n] << ";\n";
            else
                os << "  " << node_id[n] << " -> " << src << ";\n";
        }
    }
    os << "}\n";
    return os.str();
}

void save_dot(const Tensor& root, const std::filesystem::path& path, const DotOptions& options) {
    fileio::write_file_atomically("autograd::save_dot", path.string(), to_dot(root, options));
}

}  // namespace xgrad::autograd
