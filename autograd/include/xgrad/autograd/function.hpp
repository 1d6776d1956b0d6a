// Custom ops with a hand-written backward, in the style of torch::autograd::Function:
//
//   struct Clip : autograd::Function<Clip> {
//       static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x) {
//           ctx->save_for_backward({x});
//           return clamp(x, -1.0, 1.0);
//       }
//       static TensorList backward(autograd::AutogradContext* ctx, const TensorList& grads) {
//           return {grads[0]};  // straight-through estimator
//       }
//   };
//   Tensor y = Clip::apply(x);
//
// forward runs with recording off. backward returns one gradient per Tensor argument of
// forward (undefined for those that need none). It runs with recording on when the caller asked
// for create_graph, so a backward written in Tensor ops is itself differentiable.
#pragma once
#include <any>
#include <map>
#include <string>
#include <type_traits>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/node.hpp>

namespace xgrad::autograd {

class AutogradContext {
  public:
    explicit AutogradContext(Node* node) : node_(node) {}
    void save_for_backward(TensorList tensors) { node_->save(std::move(tensors)); }
    TensorList get_saved_variables() const;
    bool needs_input_grad(std::size_t i) const { return node_->needs_input_grad(i); }
    // Non-tensor state for backward (sizes, flags, constants).
    std::map<std::string, std::any> saved_data;

  private:
    Node* node_;
};

namespace detail {

void check_custom_grads(const TensorList& grads, std::size_t n_inputs);

template <class Derived>
class FunctionNode final : public Node {
  public:
    FunctionNode() : ctx(this) {}
    const char* name() const override { return "CustomFunctionBackward"; }
    TensorList apply(const Tensor& grad_output) override {
        TensorList grads = Derived::backward(&ctx, TensorList{grad_output});
        check_custom_grads(grads, num_inputs());
        return grads;
    }
    AutogradContext ctx;
};

inline void collect_tensor(TensorList& out, const Tensor& t) {
    out.push_back(t);
}
template <class T>
void collect_tensor(TensorList&, const T&) {}

}  // namespace detail

template <class Derived>
struct Function {
    template <class... Args>
    static Tensor apply(Args&&... args) {
        TensorList inputs;
        (detail::collect_tensor(inputs, args), ...);
        auto node = std::make_shared<detail::FunctionNode<Derived>>();
        Tensor out;
        {
            NoGradGuard no_grad;
            out = Derived::forward(&node->ctx, std::forward<Args>(args)...);
        }
        // A fresh handle, so marking it as the node's output never touches an input.
        out = out.detach();
        if (should_record(inputs)) attach_node(node, out, inputs);
        return out;
    }
};

}  // namespace xgrad::autograd
