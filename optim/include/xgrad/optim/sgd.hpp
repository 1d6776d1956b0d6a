// Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay,
// exactly as torch.optim.SGD (PyTorch 1.13) defines it:
//   g = maximize ? -grad : grad;   if weight_decay != 0: g = g + weight_decay * p
//   if momentum != 0: b = (first step) ? g : momentum * b + (1 - dampening) * g
//                     g = nesterov ? g + momentum * b : b
//   p = p - lr * g
#pragma once
#include <string>
#include <vector>

#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

struct SGDOptions {
    double lr = 1e-3;  // PyTorch 1.13 requires lr; 1e-3 is PyTorch 2's default
    double momentum = 0.0;
    double dampening = 0.0;
    double weight_decay = 0.0;  // L2 penalty added to the gradient
    bool nesterov = false;      // needs momentum > 0 and dampening == 0
    bool maximize = false;
};

// optim::SGD opt(params, {.lr = 0.1, .momentum = 0.9});
// optim::SGD opt({{params_a, {.lr = 0.1}}, {params_b, {.lr = 0.01}}});
// State per parameter: "momentum_buffer" (only with momentum).
class SGD : public OptimizerWithOptions<SGDOptions> {
  public:
    explicit SGD(std::vector<Tensor> params, SGDOptions options = {});
    explicit SGD(std::vector<Group> groups);

    using Optimizer::step;
    void step() override;

  protected:
    void validate_options(const SGDOptions& options) const override;
    std::vector<OptionRef> option_refs(SGDOptions& options) const override;
    std::vector<std::string> required_buffers(const SGDOptions& options) const override;
};

}  // namespace xgrad::optim
