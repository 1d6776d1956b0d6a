// Learning-rate schedulers, as torch.optim.lr_scheduler (PyTorch 1.13) defines them.
//
// A scheduler changes the lr of its optimizer's groups through Optimizer::lr / set_lr. Its
// constructor records each group's starting lr (the optimizer's initial_lr, set by the first
// scheduler attached, as PyTorch's "initial_lr") and takes the first step (epoch 0); each
// step() then advances one epoch. The rules are PyTorch's chainable (recursive) forms: each
// computes the new lr from the group's current lr, so several schedulers stepping the same
// optimizer compose exactly as in PyTorch, e.g. a linear warm-up followed by cosine decay:
//   optim::LinearLR warmup(opt, {.start_factor = 0.1, .total_iters = 5});
//   optim::CosineAnnealingLR cosine(opt, {.T_max = 100});
//   for (...) { train_one_epoch(); warmup.step(); cosine.step(); }   // or a ChainedScheduler
//
// Typical loop: opt.step() for every batch, scheduler.step() once per epoch.
//
// To resume a run, build the optimizer and the schedulers as before (their constructors take
// the first step), then load the optimizer's state dict and each scheduler's: the optimizer's
// restores the learning rates and initial_lr, the schedulers' restore their epoch counters.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <xgrad/optim/mode.hpp>
#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

// A scheduler's mutable state: kind ("StepLR", ...) and named values, e.g. "last_epoch",
// "base_lrs.<g>", "last_lr.<g>" (and "best", "num_bad_epochs", "cooldown_counter" for
// ReduceLROnPlateau). Options are not part of it: rebuild the scheduler with the same options,
// then load.
struct SchedulerState {
    std::string kind{};
    std::map<std::string, double> scalars{};
};

class LRScheduler {
  public:
    virtual ~LRScheduler();
    LRScheduler(const LRScheduler&) = delete;
    LRScheduler& operator=(const LRScheduler&) = delete;

    const std::string& name() const { return name_; }
    Optimizer& optimizer() const { return *optimizer_; }

    // Advances one epoch and writes the new learning rates into the optimizer.
    void step();
    // Epochs stepped so far (0 right after construction).
    std::int64_t last_epoch() const { return last_epoch_; }
    // The learning rate each group started with (the optimizer's initial_lr).
    const std::vector<double>& base_lrs() const { return base_lrs_; }
    // The learning rates this scheduler set last (PyTorch's get_last_lr()).
    const std::vector<double>& last_lr() const { return last_lr_; }

    SchedulerState state_dict() const;
    // Throws ValueError (another kind, another group count, missing or unknown keys); nothing
    // changes on failure. It does not touch the optimizer: load the optimizer's state too.
    void load_state_dict(const SchedulerState& state);

  protected:
    LRScheduler(Optimizer& optimizer, std::string name);
    std::string who() const;
    // PyTorch's _initial_step: records initial_lr / base_lrs and steps to epoch 0. Derived
    // constructors call it last, after validating their options.
    void start();
    // The new lr of every group at epoch last_epoch() (the chainable form).
    virtual std::vector<double> compute_lr() const = 0;
    // The current lr of every group.
    std::vector<double> group_lrs() const;

  private:
    Optimizer* optimizer_;
    std::string name_;
    std::int64_t last_epoch_ = -1;
    std::vector<double> base_lrs_;
    std::vector<double> last_lr_;
};

// Multiplies the lr by gamma every step_size epochs.
struct StepLROptions {
    std::int64_t step_size = 0;  // required, >= 1
    double gamma = 0.1;
};
class StepLR : public LRScheduler {
  public:
    StepLR(Optimizer& optimizer, StepLROptions options);

  protected:
    std::vector<double> compute_lr() const override;

  private:
    StepLROptions options_;
};

// Multiplies the lr by gamma at each milestone epoch (a milestone listed k times: gamma^k).
struct MultiStepLROptions {
    std::vector<std::int64_t> milestones{};  // epochs >= 1, in any order
    double gamma = 0.1;
};
class MultiStepLR : public LRScheduler {
  public:
    MultiStepLR(Optimizer& optimizer, MultiStepLROptions options);

  protected:
    std::vector<double> compute_lr() const override;

  private:
    MultiStepLROptions options_;
    std::map<std::int64_t, int> counts_;
};

// Multiplies the lr by gamma every epoch.
struct ExponentialLROptions {
    double gamma = std::numeric_limits<double>::quiet_NaN();  // required, finite and >= 0
};
class ExponentialLR : public LRScheduler {
  public:
    ExponentialLR(Optimizer& optimizer, ExponentialLROptions options);

  protected:
    std::vector<double> compute_lr() const override;

  private:
    ExponentialLROptions options_;
};

// Cosine annealing from the base lr down to eta_min over T_max epochs (SGDR without restarts;
// past T_max the lr climbs back up, as in PyTorch).
struct CosineAnnealingLROptions {
    std::int64_t T_max = 0;  // required, >= 1
    double eta_min = 0.0;
};
class CosineAnnealingLR : public LRScheduler {
  public:
    CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options);

  protected:
    std::vector<double> compute_lr() const override;

  private:
    CosineAnnealingLROptions options_;
};

// Scales the lr by a factor that moves linearly from start_factor to end_factor over
// total_iters epochs, then stays: with start_factor < 1 = end_factor, a linear warm-up.
struct LinearLROptions {
    double start_factor = 1.0 / 3.0;  // in (0, 1]
    double end_factor = 1.0;          // in [0, 1]
    std::int64_t total_iters = 5;     // >= 1
};
class LinearLR : public LRScheduler {
  public:
    LinearLR(Optimizer& optimizer, LinearLROptions options = {});

  protected:
    std::vector<double> compute_lr() const override;

  private:
    LinearLROptions options_;
};

// Steps several schedulers of the same optimizer together, in order (PyTorch's
// ChainedScheduler). The schedulers must outlive it.
class ChainedScheduler {
  public:
    explicit ChainedScheduler(std::vector<std::reference_wrapper<LRScheduler>> schedulers);
    void step();
    const std::vector<double>& last_lr() const { return last_lr_; }

  private:
    std::vector<std::reference_wrapper<LRScheduler>> schedulers_;
    std::vector<double> last_lr_;
};

// How ReduceLROnPlateau compares with the best value: relative (best * (1 -/+ threshold)) or
// absolute (best -/+ threshold).
enum class ThresholdMode { rel, abs };

struct ReduceLROnPlateauOptions {
    Mode mode = Mode::min;
    double factor = 0.1;         // new lr = lr * factor, in [0, 1)
    std::int64_t patience = 10;  // bad epochs tolerated before reducing
    double threshold = 1e-4;
    ThresholdMode threshold_mode = ThresholdMode::rel;
    std::int64_t cooldown = 0;           // epochs to wait after a reduction
    std::vector<double> min_lr = {0.0};  // one value for all groups, or one per group
    double eps = 1e-8;                   // reductions smaller than this are skipped
};

// Reduces the lr when a monitored metric stops improving.
//   optim::ReduceLROnPlateau plateau(opt, {.factor = 0.5, .patience = 3});
//   for (...) { train(); plateau.step(validation_loss); }
class ReduceLROnPlateau {
  public:
    ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
    ReduceLROnPlateau(const ReduceLROnPlateau&) = delete;
    ReduceLROnPlateau& operator=(const ReduceLROnPlateau&) = delete;

    void step(double metric);
    std::int64_t last_epoch() const { return last_epoch_; }
    double best() const { return best_; }
    std::int64_t num_bad_epochs() const { return num_bad_epochs_; }
    bool in_cooldown() const { return cooldown_counter_ > 0; }
    const std::vector<double>& last_lr() const { return last_lr_; }

    SchedulerState state_dict() const;
    void load_state_dict(const SchedulerState& state);

  private:
    bool is_better(double a, double best) const;

    Optimizer* optimizer_;
    ReduceLROnPlateauOptions options_;
    std::vector<double> min_lrs_;
    double best_;
    std::int64_t num_bad_epochs_ = 0;
    std::int64_t cooldown_counter_ = 0;
    std::int64_t last_epoch_ = 0;
    std::vector<double> last_lr_;
};

}  // namespace xgrad::optim
