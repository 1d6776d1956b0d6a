// Dropout: zeroes each element with probability p in training mode and scales the survivors by
// 1 / (1 - p), so the expected value is unchanged; the identity in evaluation mode.
#pragma once
#include <string>

#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

// The mask is drawn from the default generator (seeded by manual_seed), a fresh one on every
// training-mode call; the gradient flows through the kept elements, scaled by 1 / (1 - p).
// p = 0 (or eval mode) returns the input itself; p = 1 gives zeros. p outside [0, 1] is a
// ValueError. Composed from ops: rand_like, a comparison and where.
class Dropout : public Module {
  public:
    explicit Dropout(double p = 0.5);
    Tensor forward(const Tensor& input) override;
    std::string extra_repr() const override;

    double p;
};

}  // namespace xgrad::nn
