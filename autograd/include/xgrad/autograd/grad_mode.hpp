// Whether ops record themselves on the tape. Thread-local, as in PyTorch.
#pragma once

namespace xgrad {

struct GradMode {
    static bool is_enabled();
    static void set_enabled(bool enabled);
};

// Turns recording off in a scope: inference needs forward propagation only.
class NoGradGuard {
  public:
    NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
    ~NoGradGuard() { GradMode::set_enabled(prev_); }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

  private:
    bool prev_;
};

// Turns recording on (or to `enabled`) in a scope, e.g. inside a NoGradGuard.
class AutoGradMode {
  public:
    explicit AutoGradMode(bool enabled) : prev_(GradMode::is_enabled()) {
        GradMode::set_enabled(enabled);
    }
    ~AutoGradMode() { GradMode::set_enabled(prev_); }
    AutoGradMode(const AutoGradMode&) = delete;
    AutoGradMode& operator=(const AutoGradMode&) = delete;

  private:
    bool prev_;
};

}  // namespace xgrad
