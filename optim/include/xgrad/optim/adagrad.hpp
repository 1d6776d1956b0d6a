// Adagrad, exactly as torch.optim.Adagrad (PyTorch 1.13) defines it:
//   t += 1;  g = maximize ? -grad : grad;   if weight_decay != 0: g = g + weight_decay * p
//   clr = lr / (1 + (t - 1) * lr_decay);  s = s + g * g;  p = p - clr * g / (sqrt(s) + eps)
#pragma once
#include <string>
#include <vector>

#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

struct AdagradOptions {
    double lr = 1e-2;
    double lr_decay = 0.0;
    double weight_decay = 0.0;
    double initial_accumulator_value = 0.0;  // starting value of the sum of squared gradients
    double eps = 1e-10;
    bool maximize = false;
};

// optim::Adagrad opt(params, {.lr = 0.1, .lr_decay = 1e-3});
// State per parameter: "step" and "sum". As in PyTorch it exists from construction (sum filled
// with initial_accumulator_value), so a state dict taken before any step already holds it. Each
// group's own initial_accumulator_value is used (PyTorch uses the constructor's for every group).
class Adagrad : public OptimizerWithOptions<AdagradOptions> {
  public:
    explicit Adagrad(std::vector<Tensor> params, AdagradOptions options = {});
    explicit Adagrad(std::vector<Group> groups);

    using Optimizer::step;
    void step() override;

  protected:
    void validate_options(const AdagradOptions& options) const override;
    std::vector<OptionRef> option_refs(AdagradOptions& options) const override;
    std::vector<std::string> required_buffers(const AdagradOptions& options) const override;
    void on_group_added(std::size_t group) override;

  private:
    void init_state(std::size_t group, std::size_t index);
};

}  // namespace xgrad::optim
