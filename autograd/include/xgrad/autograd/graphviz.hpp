// Graphviz DOT export of the tape: the graph that backward() walks from a tensor.
//
//   Tensor loss = (matmul(x, w) + b).tanh().sum();
//   autograd::save_dot(loss, "graph.dot", {.names = model.named_parameters()});
//   // then: dot -Tsvg graph.dot -o graph.svg
//
// Every Node reachable from root.grad_fn() becomes an ellipse labelled with its op name and
// output shape ("MulBackward\n[4, 3]"); every leaf tensor that receives a gradient becomes a box
// (its name if given, its shape and "requires_grad"). The root's node (or the root itself when
// it is a leaf) is filled and drawn with a thick outline. Nodes are emitted in increasing
// sequence number (the order the ops ran), leaves in the order they are first reached from
// there, and ids are numbered from 0 in that order, so the text depends only on the graph's
// structure: two exports of the same graph are identical.
//
// Edges follow the data flow by default (input -> op -> consuming op -> ... -> root), as
// PyTorch's torchviz draws them; DotDirection::GradientFlow reverses them (root -> ... -> leaves),
// the order in which backward() visits them. An op that uses the same input twice (x * x) has
// two edges from it.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::autograd {

enum class DotDirection {
    DataFlow,      // arrows from inputs to the ops that consume them (torchviz's choice)
    GradientFlow,  // arrows from each op to where its input gradients go (backward's direction)
};

struct DotOptions {
    DotDirection direction = DotDirection::DataFlow;
    // Names for leaf tensors (e.g. module.named_parameters()); matched by identity.
    std::vector<std::pair<std::string, Tensor>> names{};
    bool show_shapes = true;
    bool show_dtypes = false;    // adds the output dtype to each label
    std::string rankdir = "TB";  // Graphviz layout direction: "TB", "LR", "BT" or "RL"
    std::string graph_name = "xgrad";
};

// The DOT text of the graph behind `root` (a tensor without history gives a single box).
// Throws ValueError for an undefined root or an unknown rankdir.
std::string to_dot(const Tensor& root, const DotOptions& options = {});
// Writes to_dot(root, options) to `path` atomically (a temporary file, then a rename).
void save_dot(const Tensor& root, const std::filesystem::path& path,
              const DotOptions& options = {});

}  // namespace xgrad::autograd
