// Convergence: "repeat until convergence" for a training loop.
//
// Feed it the monitored cost once per check (every step, or every epoch with a validation
// cost). It stops when the cost has not improved by more than min_delta on `patience`
// consecutive checks, when max_steps checks have been made, or (optionally) when the cost is
// NaN or infinite.
//
//   optim::Convergence conv({.min_delta = 1e-6, .patience = 20, .max_steps = 10000});
//   while (!conv.should_stop()) {
//       opt.zero_grad();
//       Tensor loss = cost(model(x), y);
//       loss.backward();
//       opt.step();
//       if (conv.update(loss.item<double>())) save_best();   // true: a new best cost
//   }
#pragma once
#include <cstdint>
#include <limits>

#include <xgrad/optim/mode.hpp>

namespace xgrad::optim {

struct ConvergenceOptions {
    double min_delta = 0.0;      // an improvement must exceed this (absolute), >= 0
    std::int64_t patience = 10;  // checks in a row without improvement that stop, >= 1
    std::int64_t max_steps = std::numeric_limits<std::int64_t>::max();  // >= 1
    Mode mode = Mode::min;          // Mode::max for a score such as accuracy
    bool stop_on_nonfinite = true;  // a NaN/inf cost stops at once (divergence)
};

enum class StopReason {
    none,       // keep going
    converged,  // no improvement for `patience` checks
    max_steps,  // the step limit was reached
    nonfinite,  // the cost became NaN or infinite
};

class Convergence {
  public:
    explicit Convergence(ConvergenceOptions options = {});

    // Records one check. Returns true when `cost` is a new best (improved on the previous best
    // by more than min_delta; the first finite cost always is).
    bool update(double cost);
    bool should_stop() const { return reason_ != StopReason::none; }
    StopReason reason() const { return reason_; }

    double best() const { return best_; }                  // +inf (or -inf for Mode::max) until set
    std::int64_t best_step() const { return best_step_; }  // 1-based check index of best(); 0
    std::int64_t steps() const { return steps_; }          // checks made so far
    std::int64_t bad_checks() const { return bad_checks_; }  // since the last improvement
    double last() const { return last_; }                    // the last cost given (NaN before any)
    const ConvergenceOptions& options() const { return options_; }

    void reset();

  private:
    ConvergenceOptions options_;
    double best_;
    double last_;
    std::int64_t best_step_ = 0;
    std::int64_t steps_ = 0;
    std::int64_t bad_checks_ = 0;
    StopReason reason_ = StopReason::none;
};

}  // namespace xgrad::optim
