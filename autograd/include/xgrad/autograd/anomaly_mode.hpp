// Anomaly mode: find the forward op behind a NaN or Inf gradient.
//
//   {
//       autograd::DetectAnomalyGuard detect;         // or AnomalyMode::set_enabled(true)
//       Tensor loss = model(x).sum();                 // every node remembers where it was made
//       loss.backward();  // AutogradError: "LogBackward returned a gradient with NaN for
//   }                     //  input 0 ...; created by log in Sequential > MyBlock > ..."
//
// While it is on, every recorded node keeps its creation context (the op, the chain of
// enclosing modules called through Module::operator() and AnomalyScope labels, and a raw
// backtrace), and backward checks every gradient a node returns for NaN and Inf. Off, it
// costs one relaxed atomic load per recorded op. The switch is process-wide, as in PyTorch;
// the scope labels are per thread.
#pragma once
#include <atomic>
#include <string>
#include <vector>

namespace xgrad {

namespace detail {
extern std::atomic<bool> anomaly_enabled;
}

// What a node remembers about its creation while anomaly mode is on.
struct AnomalyMetadata {
    std::string op;                // the forward op ("mul"), from the node's name
    std::string context;           // "Sequential > Linear > my label", empty at top level
    std::vector<void*> backtrace;  // return addresses at record time
    // A readable report: op, context and the backtrace (symbolised where the binary allows;
    // otherwise module+offset pairs for addr2line).
    std::string describe() const;
};

namespace autograd {

struct AnomalyMode {
    static bool is_enabled() {
        return xgrad::detail::anomaly_enabled.load(std::memory_order_relaxed);
    }
    // The global switch; guards add to it while they live.
    static void set_enabled(bool enabled);
};

// Turns anomaly mode on for its lifetime (nests; the global switch stays as it was).
class DetectAnomalyGuard {
  public:
    DetectAnomalyGuard();
    ~DetectAnomalyGuard();
    DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
    DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;
};

// Labels the nodes recorded in this scope on this thread (shown in anomaly reports); does
// nothing when anomaly mode is off. Module::operator() opens one with the module's name.
class AnomalyScope {
  public:
    explicit AnomalyScope(const std::string& label);
    ~AnomalyScope();
    AnomalyScope(const AnomalyScope&) = delete;
    AnomalyScope& operator=(const AnomalyScope&) = delete;

  private:
    bool pushed_ = false;
};

namespace detail {
// The context of a node being recorded now (called only in anomaly mode).
AnomalyMetadata capture_anomaly_metadata(const char* node_name);
}  // namespace detail

}  // namespace autograd
}  // namespace xgrad
