// Anomaly mode's switch, scope labels and creation records (see anomaly_mode.hpp).
#include <cxxabi.h>
#include <execinfo.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>

#include <xgrad/autograd/anomaly_mode.hpp>

namespace xgrad {

namespace detail {
std::atomic<bool> anomaly_enabled{false};
}

namespace {
std::mutex switch_mutex;
bool global_switch = false;
int live_guards = 0;

void update_flag() {
    detail::anomaly_enabled.store(global_switch || live_guards > 0, std::memory_order_relaxed);
}

thread_local std::vector<std::string> scope_labels;

constexpr int kMaxFrames = 32;

// "./prog(_ZN5xgrad3mulE...+0x1c) [0x...]" -> "./prog(xgrad::mul(...)+0x1c) [0x...]".
std::string demangle_frame(const char* frame) {
    std::string s(frame);
    const auto open = s.find('(');
    const auto plus = s.find('+', open == std::string::npos ? 0 : open);
    if (open == std::string::npos || plus == std::string::npos || plus == open + 1) return s;
    const std::string mangled = s.substr(open + 1, plus - open - 1);
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), std::free);
    if (status != 0 || !name) return s;
    return s.substr(0, open + 1) + name.get() + s.substr(plus);
}
}  // namespace

std::string AnomalyMetadata::describe() const {
    std::ostringstream os;
    os << "the forward op of " << op;
    if (!context.empty()) os << ", called in " << context;
    if (!backtrace.empty()) {
        os << "\n  recorded at (innermost first; addresses resolve with addr2line -Cfe <binary>):";
        std::unique_ptr<char*, void (*)(void*)> symbols(
            backtrace_symbols(backtrace.data(), static_cast<int>(backtrace.size())), std::free);
        for (std::size_t i = 0; i < backtrace.size(); ++i)
            os << "\n    #" << i << " "
               << (symbols ? demangle_frame(symbols.get()[i]) : std::string("?"));
    }
    return os.str();
}

namespace autograd {

void AnomalyMode::set_enabled(bool enabled) {
    std::lock_guard<std::mutex> lock(switch_mutex);
    global_switch = enabled;
    update_flag();
}

DetectAnomalyGuard::DetectAnomalyGuard() {
    std::lock_guard<std::mutex> lock(switch_mutex);
    ++live_guards;
    update_flag();
}

DetectAnomalyGuard::~DetectAnomalyGuard() {
    std::lock_guard<std::mutex> lock(switch_mutex);
    --live_guards;
    update_flag();
}

AnomalyScope::AnomalyScope(const std::string& label) {
    if (!AnomalyMode::is_enabled()) return;
    scope_labels.push_back(label);
    pushed_ = true;
}

AnomalyScope::~AnomalyScope() {
    if (pushed_) scope_labels.pop_back();
}

namespace detail {
AnomalyMetadata capture_anomaly_metadata(const char* node_name) {
    AnomalyMetadata m;
    m.op = node_name;
    for (std::size_t i = 0; i < scope_labels.size(); ++i)
        m.context += (i ? " > " : "") + scope_labels[i];
    void* frames[kMaxFrames];
    const int n = ::backtrace(frames, kMaxFrames);
    // Skip this function and attach_node: the first frame left is the op itself.
    const int skip = n > 2 ? 2 : 0;
    m.backtrace.assign(frames + skip, frames + n);
    return m;
}
}  // namespace detail

}  // namespace autograd
}  // namespace xgrad
