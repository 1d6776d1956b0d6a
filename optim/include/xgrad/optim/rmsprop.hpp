// RMSprop, exactly as torch.optim.RMSprop (PyTorch 1.13) defines it:
//   g = maximize ? -grad : grad;   if weight_decay != 0: g = g + weight_decay * p
//   v = alpha * v + (1 - alpha) * g * g
//   centered: a = alpha * a + (1 - alpha) * g;  d = sqrt(v - a * a) + eps;  else d = sqrt(v) + eps
//   momentum > 0: b = momentum * b + g / d;  p = p - lr * b;   else p = p - lr * g / d
#pragma once
#include <string>
#include <vector>

#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

struct RMSpropOptions {
    double lr = 1e-2;
    double alpha = 0.99;  // smoothing constant, in [0, 1]
    double eps = 1e-8;
    double weight_decay = 0.0;
    double momentum = 0.0;
    bool centered = false;  // normalise by an estimate of the gradient's variance
    bool maximize = false;
};

// optim::RMSprop opt(params, {.lr = 1e-3, .momentum = 0.9, .centered = true});
// State per parameter: "step", "square_avg", "momentum_buffer" (momentum > 0) and "grad_avg"
// (centered).
class RMSprop : public OptimizerWithOptions<RMSpropOptions> {
  public:
    explicit RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});
    explicit RMSprop(std::vector<Group> groups);

    using Optimizer::step;
    void step() override;

  protected:
    void validate_options(const RMSpropOptions& options) const override;
    std::vector<OptionRef> option_refs(RMSpropOptions& options) const override;
    std::vector<std::string> required_buffers(const RMSpropOptions& options) const override;
};

}  // namespace xgrad::optim
