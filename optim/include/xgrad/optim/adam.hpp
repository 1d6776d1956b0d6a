// Adam (with the AMSGrad variant), exactly as torch.optim.Adam (PyTorch 1.13) defines it:
//   g = maximize ? -grad : grad;   if weight_decay != 0: g = g + weight_decay * p   (L2)
//   t += 1;  m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   v_hat = amsgrad ? (v_max = max(v_max, v)) : v
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)
#pragma once
#include <array>
#include <string>
#include <vector>

#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

struct AdamOptions {
    double lr = 1e-3;
    std::array<double, 2> betas{0.9, 0.999};  // each in [0, 1)
    double eps = 1e-8;
    double weight_decay = 0.0;  // L2 penalty added to the gradient (see AdamW for decoupled)
    bool amsgrad = false;
    bool maximize = false;
};

// optim::Adam opt(model_params, {.lr = 1e-3});
// optim::Adam opt(params, {.lr = 1e-3, .betas = {0.9, 0.98}, .amsgrad = true});
// State per parameter: "step", "exp_avg", "exp_avg_sq" and, with amsgrad, "max_exp_avg_sq".
class Adam : public OptimizerWithOptions<AdamOptions> {
  public:
    explicit Adam(std::vector<Tensor> params, AdamOptions options = {});
    explicit Adam(std::vector<Group> groups);

    using Optimizer::step;
    void step() override;

  protected:
    void validate_options(const AdamOptions& options) const override;
    std::vector<OptionRef> option_refs(AdamOptions& options) const override;
    std::vector<std::string> required_buffers(const AdamOptions& options) const override;
};

}  // namespace xgrad::optim
