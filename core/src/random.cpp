#include <cmath>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/random.hpp>

namespace xgrad {

namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}
}  // namespace

void Generator::manual_seed(std::uint64_t seed) {
    // Our own generator (not <random>'s distributions) so sequences are identical on every
    // standard library.
    seed_ = seed;
    std::uint64_t x = seed;
    for (auto& s : s_) s = splitmix64(x);
    has_spare_normal_ = false;
}

GeneratorState Generator::get_state() const {
    GeneratorState st;
    st.seed = seed_;
    for (int i = 0; i < 4; ++i) st.s[i] = s_[i];
    st.has_spare_normal = has_spare_normal_;
    st.spare_normal = spare_normal_;
    return st;
}

void Generator::set_state(const GeneratorState& st) {
    // xoshiro256** never leaves the all-zero state, and no seed leads to it: such a state can
    // only be a mistake (a default-constructed GeneratorState), and would draw zeros forever.
    if ((st.s[0] | st.s[1] | st.s[2] | st.s[3]) == 0)
        raise<ValueError>("Generator::set_state",
                          "the all-zero state is not a valid xoshiro256** state");
    seed_ = st.seed;
    for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
    has_spare_normal_ = st.has_spare_normal;
    spare_normal_ = st.spare_normal;
}

std::uint64_t Generator::next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Generator::uniform() {
    return double(next_u64() >> 11) * 0x1.0p-53;
}

double Generator::normal() {
    if (has_spare_normal_) {
        has_spare_normal_ = false;
        return spare_normal_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double two_pi = 6.283185307179586476925286766559;
    spare_normal_ = r * std::sin(two_pi * u2);
    has_spare_normal_ = true;
    return r * std::cos(two_pi * u2);
}

std::int64_t Generator::randint(std::int64_t low, std::int64_t high) {
    if (low >= high)
        raise<ValueError>("randint", "low (", std::to_string(low), ") must be below high (",
                          std::to_string(high), ")");
    const std::uint64_t range = std::uint64_t(high) - std::uint64_t(low);
    // Rejection sampling: no modulo bias.
    const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % range);
    std::uint64_t r;
    do r = next_u64();
    while (r >= limit);
    // In unsigned arithmetic: low + r may pass INT64_MAX on the way (low = INT64_MIN).
    return static_cast<std::int64_t>(std::uint64_t(low) + r % range);
}

Generator& default_generator() {
    static Generator gen(5489u);
    return gen;
}

void manual_seed(std::uint64_t seed) {
    default_generator().manual_seed(seed);
}

}  // namespace xgrad
