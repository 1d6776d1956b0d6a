// ExponentialMovingAverage: an average of the weights, kept next to them, for evaluation.
//
// After each optimizer step, update() moves a copy of every parameter a little towards its
// current value:
//   averaged = averaged + (1 - d) * (param - averaged)     (= d * averaged + (1 - d) * param)
// as torch.optim.swa_utils.AveragedModel with get_ema_multi_avg_fn(decay) (a torch lerp_) and
// timm's ModelEmaV2 do. The averages start as copies of the parameters (at construction or
// reset()). With `warmup`, update n (1, 2, ...) uses d = min(decay, (1 + n) / (10 + n)), as
// TensorFlow's ExponentialMovingAverage with num_updates and timm's ModelEmaV3 do, so that an
// average started at the random initialisation forgets it quickly.
//
// The averages are plain tensors outside the tape (no grad, no history); updates write them in
// place through the raw data, one loop per parameter. To evaluate (or save) the averaged
// weights, swap them into the parameters for a while:
//
//   optim::ExponentialMovingAverage ema(model.parameters(), {.decay = 0.999});
//   for (...) { ...; opt.step(); ema.update(); }
//   {
//       optim::AveragedParameters use_average(ema);  // the parameters hold the averages...
//       evaluate(model);
//   }                                                // ...and their own values again here
//
// It works on tensors, not on nn types: pass a module's buffers too (e.g. batch-norm running
// statistics, floating ones) to average them as well.
#pragma once
#include <cstdint>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::optim {

struct EMAOptions {
    double decay = 0.999;  // in [0, 1]: the weight of the old average at each update
    bool warmup = false;   // use min(decay, (1 + n) / (10 + n)) at update n
};

class ExponentialMovingAverage {
  public:
    // Throws ValueError for a decay outside [0, 1], an empty list, an undefined or non-floating
    // tensor, or a tensor listed twice.
    explicit ExponentialMovingAverage(std::vector<Tensor> params, EMAOptions options = {});

    // One update of every average (outside the tape). Throws ValueError while the averages are
    // swapped in (see swap()).
    void update();
    // The decay that the next update() will use.
    double next_decay() const;
    // Updates since construction or the last reset().
    std::int64_t num_updates() const { return num_updates_; }
    const EMAOptions& options() const { return options_; }

    // The tracked tensors, and their averages (same order, shapes and dtypes).
    const std::vector<Tensor>& params() const { return params_; }
    const std::vector<Tensor>& averaged() const { return averaged_; }

    // Exchanges the values of the parameters and of the averages, in place (the tensors keep
    // their identity, so optimizers and modules holding the parameters see the averages).
    // Calling it again swaps back. swapped() says which state it is in.
    void swap();
    bool swapped() const { return swapped_; }

    // Copies the averages into the parameters (for good, e.g. at the end of training).
    void copy_to_params() const;
    // Restarts the averages from the parameters' current values; num_updates() becomes 0.
    void reset();

  private:
    std::vector<Tensor> params_;
    std::vector<Tensor> averaged_;
    EMAOptions options_;
    std::int64_t num_updates_ = 0;
    bool swapped_ = false;
};

// RAII: swaps the averages into the parameters for the lifetime of the guard, and back.
class AveragedParameters {
  public:
    explicit AveragedParameters(ExponentialMovingAverage& ema);
    ~AveragedParameters();
    AveragedParameters(const AveragedParameters&) = delete;
    AveragedParameters& operator=(const AveragedParameters&) = delete;

  private:
    ExponentialMovingAverage& ema_;
};

}  // namespace xgrad::optim
