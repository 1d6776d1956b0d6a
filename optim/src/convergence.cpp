// Convergence: stop a training loop when the monitored cost stops improving.
#include <cmath>
#include <limits>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/optim/convergence.hpp>
#include "optim_common.hpp"

namespace xgrad::optim {

Convergence::Convergence(ConvergenceOptions options) : options_(options) {
    const std::string w = "xgrad::optim::Convergence";
    detail::require(detail::finite_nonneg(options.min_delta), w, "min_delta", options.min_delta,
                    "finite and >= 0");
    if (options.patience < 1)
        raise<ValueError>("optim::Convergence", "invalid patience ",
                          std::to_string(options.patience), " (must be >= 1)");
    if (options.max_steps < 1)
        raise<ValueError>("optim::Convergence", "invalid max_steps ",
                          std::to_string(options.max_steps), " (must be >= 1)");
    if (options.mode != Mode::min && options.mode != Mode::max)
        raise<ValueError>("optim::Convergence", "unknown mode ",
                          std::to_string(static_cast<int>(options.mode)));
    reset();
}

void Convergence::reset() {
    const double inf = std::numeric_limits<double>::infinity();
    best_ = options_.mode == Mode::min ? inf : -inf;
    last_ = std::numeric_limits<double>::quiet_NaN();
    best_step_ = 0;
    steps_ = 0;
    bad_checks_ = 0;
    reason_ = StopReason::none;
}

bool Convergence::update(double cost) {
    ++steps_;
    last_ = cost;
    const bool finite = std::isfinite(cost);
    bool improved = false;
    if (finite)
        improved = options_.mode == Mode::min ? cost < best_ - options_.min_delta
                                              : cost > best_ + options_.min_delta;
    if (improved) {
        best_ = cost;
        best_step_ = steps_;
        bad_checks_ = 0;
    } else {
        ++bad_checks_;
    }
    if (reason_ == StopReason::none) {
        if (!finite && options_.stop_on_nonfinite)
            reason_ = StopReason::nonfinite;
        else if (bad_checks_ >= options_.patience)
            reason_ = StopReason::converged;
        else if (steps_ >= options_.max_steps)
            reason_ = StopReason::max_steps;
    }
    return improved;
}

}  // namespace xgrad::optim
