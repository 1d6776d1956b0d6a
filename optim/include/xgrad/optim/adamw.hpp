// AdamW: Adam with decoupled weight decay, exactly as torch.optim.AdamW (PyTorch 1.13):
//   p = p * (1 - lr * weight_decay), then the Adam update without the L2 term.
#pragma once
#include <array>
#include <string>
#include <vector>

#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

struct AdamWOptions {
    double lr = 1e-3;
    std::array<double, 2> betas{0.9, 0.999};  // each in [0, 1)
    double eps = 1e-8;
    double weight_decay = 1e-2;  // decoupled: shrinks the weights directly
    bool amsgrad = false;
    bool maximize = false;
};

// optim::AdamW opt(params, {.lr = 1e-3, .weight_decay = 0.05});
// State per parameter: "step", "exp_avg", "exp_avg_sq" and, with amsgrad, "max_exp_avg_sq".
class AdamW : public OptimizerWithOptions<AdamWOptions> {
  public:
    explicit AdamW(std::vector<Tensor> params, AdamWOptions options = {});
    explicit AdamW(std::vector<Group> groups);

    using Optimizer::step;
    void step() override;

  protected:
    void validate_options(const AdamWOptions& options) const override;
    std::vector<OptionRef> option_refs(AdamWOptions& options) const override;
    std::vector<std::string> required_buffers(const AdamWOptions& options) const override;
};

}  // namespace xgrad::optim
