// Random number generation. Every random creation function draws from a Generator: the
// process-wide default one (seeded by manual_seed) or an explicit one, so runs are reproducible.
#pragma once
#include <cstdint>

namespace xgrad {

// Everything that decides a generator's future draws: restoring it replays them exactly
// (autograd::checkpoint uses this so that dropout recomputes the same mask).
struct GeneratorState {
    std::uint64_t seed = 0;  // what initial_seed() reports
    std::uint64_t s[4] = {0, 0, 0, 0};
    bool has_spare_normal = false;  // normal() draws in pairs and caches the second value
    double spare_normal = 0.0;
};

class Generator {
  public:
    explicit Generator(std::uint64_t seed = 5489u) { manual_seed(seed); }
    void manual_seed(std::uint64_t seed);
    std::uint64_t initial_seed() const { return seed_; }
    // The full state (PyTorch's get_state/set_state): set_state(get_state()) is a no-op, and
    // the draws after a set_state are the ones that followed the matching get_state.
    GeneratorState get_state() const;
    void set_state(const GeneratorState& state);

    std::uint64_t next_u64();  // xoshiro256** step
    double uniform();          // [0, 1) with 53 random bits
    double normal();           // standard normal (Box-Muller, cached second value)
    // Uniform integer in [low, high); requires low < high.
    std::int64_t randint(std::int64_t low, std::int64_t high);

  private:
    std::uint64_t seed_ = 0;
    std::uint64_t s_[4] = {0, 0, 0, 0};
    bool has_spare_normal_ = false;
    double spare_normal_ = 0.0;
};

// The generator used when none is given (one per process, not thread-safe).
Generator& default_generator();
// Seeds the default generator.
void manual_seed(std::uint64_t seed);

}  // namespace xgrad
