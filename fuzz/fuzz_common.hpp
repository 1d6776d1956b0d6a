// Helpers shared by the libFuzzer targets in this folder (not part of the library).
//
// The contract every target checks: a loader given arbitrary bytes either succeeds or throws an
// exception derived from xgrad::Error. Targets catch xgrad::Error (an expected rejection) and
// nothing else, so std::bad_alloc, std::length_error, nlohmann exceptions, ... escape and
// libFuzzer reports them as crashes ("deadly signal" after std::terminate). Semantic checks
// that fail call fuzz_fail(), which prints what went wrong and aborts.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/threads.hpp>

namespace xgrad_fuzz {

// The scratch files of this process (TempFile), removed when the process dies of a failure.
inline std::vector<std::string>& scratch_paths() {
    static auto* paths = new std::vector<std::string>();  // never destroyed: used at death
    return *paths;
}
inline void remove_scratch_files() {
    for (const std::string& p : scratch_paths()) ::unlink(p.c_str());
}

// Prints "FUZZ CHECK FAILED: <what>" to stderr and aborts (libFuzzer saves the input).
[[noreturn]] inline void fuzz_fail(const std::string& what) {
    std::fprintf(stderr, "\nFUZZ CHECK FAILED: %s\n", what.c_str());
    std::fflush(stderr);
    remove_scratch_files();
    std::abort();
}

// Called from each target's LLVMFuzzerInitialize: one thread (OpenBLAS and xgrad's pool), so
// runs are deterministic and no worker spins on the shared cores; an exception that escapes
// (std::terminate) also removes the scratch files before libFuzzer reports the crash. (After a
// sanitizer report they stay: libFuzzer owns the sanitizers' death callback.)
inline std::terminate_handler& previous_terminate() {
    static std::terminate_handler h = nullptr;
    return h;
}
inline void init_target() {
    xgrad::set_num_threads(1);
    // The previous handler (libstdc++'s) prints the exception's type and what() and aborts.
    previous_terminate() = std::set_terminate([] {
        remove_scratch_files();
        if (previous_terminate()) previous_terminate()();
        std::abort();
    });
}

// With XGRAD_FUZZ_VERBOSE=1 in the environment, targets say what each input did (accepted, or
// the error message): handy when replaying one file.
inline bool verbose() {
    static const bool on = [] {
        const char* v = std::getenv("XGRAD_FUZZ_VERBOSE");
        return v && *v && std::strcmp(v, "0") != 0;
    }();
    return on;
}
inline void note(const std::string& what, bool ok, const std::string& error = "") {
    if (verbose())
        std::fprintf(stderr, "  %s: %s\n", what.c_str(),
                     ok ? "accepted" : ("rejected: " + error).c_str());
}

// Runs `f`; true if it returned, false if it threw an xgrad::Error (the expected way to reject
// bad input; `error` gets the message). Any other exception propagates.
template <class F>
bool accepts(F&& f, std::string* error = nullptr) {
    try {
        f();
        return true;
    } catch (const xgrad::Error& e) {
        if (error) *error = e.what();
        return false;
    }
}

// A per-process scratch file "/tmp/xgrad_fuzz_<tag>_<pid><suffix>": write() replaces its
// contents, the destructor (and remove()) deletes it, and so does a failure (fuzz_fail, or an
// exception that escapes).
class TempFile {
  public:
    TempFile(const std::string& tag, const std::string& suffix)
        : path_("/tmp/xgrad_fuzz_" + tag + "_" + std::to_string(::getpid()) + suffix) {
        scratch_paths().push_back(path_);
    }
    ~TempFile() { remove(); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const std::string& path() const { return path_; }

    void write(const void* data, std::size_t size) const {
        std::FILE* f = std::fopen(path_.c_str(), "wb");
        if (!f) fuzz_fail("cannot create the scratch file " + path_);
        if (size > 0 && std::fwrite(data, 1, size, f) != size) {
            std::fclose(f);
            fuzz_fail("cannot write the scratch file " + path_);
        }
        if (std::fclose(f) != 0) fuzz_fail("cannot close the scratch file " + path_);
    }
    void write(const std::string& bytes) const { write(bytes.data(), bytes.size()); }

    void remove() const { ::unlink(path_.c_str()); }

  private:
    std::string path_;
};

// Bit-exact equality of two byte ranges (NaNs compare equal to themselves).
inline bool same_bytes(const void* a, const void* b, std::size_t n) {
    return n == 0 || std::memcmp(a, b, n) == 0;
}

}  // namespace xgrad_fuzz
