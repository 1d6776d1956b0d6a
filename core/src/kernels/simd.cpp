// The dispatched elementwise and reduction loops (kernels/simd.hpp). Every body below is plain
// C++ that GCC and Clang auto-vectorise; XGRAD_DISPATCHED compiles it for baseline x86-64,
// AVX2+FMA and AVX-512 and picks one at run time (kernels/isa.hpp: why this design, and the
// rules that keep it ODR-safe). Everything here has internal linkage except the entry points.
//
// float32 exp, log, tanh and sigmoid use the Cephes single-precision algorithms (range
// reduction + minimax polynomial), written branch-free so that they vectorise: libm's scalar
// calls do not, and glibc's vector math (libmvec) is only declared under -ffast-math. Measured
// against the correctly rounded values (tests/test_dispatch.cpp) they stay within 2 ulp, like
// xsimd's versions they replace. float64 transcendental functions stay on xtensor/xsimd.
// Built with -fno-math-errno (CMakeLists.txt) so that std::sqrt vectorises.
#include "kernels/simd.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/isa.hpp"

namespace xgrad::kernels::simd {

namespace {

// ---- elementwise binary ----

template <class T, class F>
XGRAD_ALWAYS_INLINE void loop2(Mode m, const T* __restrict a, const T* __restrict b,
                               T* __restrict out, std::int64_t n, F f) {
    switch (m) {
        case Mode::vv:
            for (std::int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
            return;
        case Mode::vs: {
            const T y = *b;
            for (std::int64_t i = 0; i < n; ++i) out[i] = f(a[i], y);
            return;
        }
        case Mode::sv: {
            const T x = *a;
            for (std::int64_t i = 0; i < n; ++i) out[i] = f(x, b[i]);
            return;
        }
    }
}

#define XGRAD_LAMBDA(...)                          \
    [=](T x, T y) __attribute__((always_inline)) { \
        return __VA_ARGS__;                        \
    }

template <class T>
XGRAD_ALWAYS_INLINE void binary_body(Bin op, Mode m, const T* a, const T* b, T* out, std::int64_t n,
                                     T param) {
    switch (op) {
        case Bin::add:
            return loop2(m, a, b, out, n, XGRAD_LAMBDA(x + y));
        case Bin::sub:
            return loop2(m, a, b, out, n, XGRAD_LAMBDA(x - y));
        case Bin::mul:
            return loop2(m, a, b, out, n, XGRAD_LAMBDA(x * y));
        case Bin::div:
            if constexpr (std::is_floating_point_v<T>) loop2(m, a, b, out, n, XGRAD_LAMBDA(x / y));
            return;
        case Bin::minimum:
            return loop2(m, a, b, out, n, XGRAD_LAMBDA(x < y ? x : y));
        case Bin::maximum:
            return loop2(m, a, b, out, n, XGRAD_LAMBDA(x > y ? x : y));
        case Bin::tanh_backward:
            return loop2(m, a, b, out, n, XGRAD_LAMBDA(x * (T(1) - y * y)));
        case Bin::sigmoid_backward:
            return loop2(m, a, b, out, n, XGRAD_LAMBDA(x * y * (T(1) - y)));
        case Bin::threshold_backward:
            return loop2(m, a, b, out, n, XGRAD_LAMBDA(y > param ? x : T(0)));
    }
}

#undef XGRAD_LAMBDA

// ---- float32 transcendental functions (Cephes expf, logf, tanhf) ----

XGRAD_ALWAYS_INLINE float bits_to_float(std::int32_t i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}
XGRAD_ALWAYS_INLINE std::int32_t float_to_bits(float f) {
    std::int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i;
}

// e^x, NaN, infinities and subnormal results included.
XGRAD_ALWAYS_INLINE float exp_f32(float x) {
    const bool nan = x != x;
    // Beyond these bounds the result is inf or 0 (the clamped values still give them).
    float c = nan ? 0.f : x;
    c = c > 89.f ? 89.f : c;
    c = c < -104.f ? -104.f : c;
    // n = round(c / ln 2) by the 1.5 * 2^23 trick (|c / ln 2| < 2^22), r = c - n ln 2 in two
    // parts (Cody-Waite).
    const float shifter = 12582912.f;
    const float n = (c * 1.44269504088896341f + shifter) - shifter;
    float r = c - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * z + r + 1.f;
    // y * 2^n as two exact power-of-two scalings (n in [-150, 129]: each half is a normal
    // float; the product rounds once to a subnormal, overflows to inf, or is exact).
    const auto ni = static_cast<std::int32_t>(n);
    const std::int32_t n1 = ni / 2, n2 = ni - n1;
    const float res = y * bits_to_float((n1 + 127) << 23) * bits_to_float((n2 + 127) << 23);
    return nan ? x : res;
}

// Natural logarithm: log(0) = -inf, log(x < 0) = NaN, log(inf) = inf, subnormals handled.
XGRAD_ALWAYS_INLINE float log_f32(float x) {
    const bool sub = x < 1.17549435e-38f;      // also 0, negatives and -inf: replaced below
    const float xs = sub ? x * 8388608.f : x;  // * 2^23
    const std::int32_t i = float_to_bits(xs);
    float e = static_cast<float>(((i >> 23) & 0xff) - 126) - (sub ? 23.f : 0.f);
    float m = bits_to_float((i & 0x007fffff) | 0x3f000000);  // mantissa in [0.5, 1)
    const bool low = m < 0.707106781186547524f;
    e = low ? e - 1.f : e;
    const float t = low ? m + m - 1.f : m - 1.f;
    const float z = t * t;
    float p = 7.0376836292e-2f;
    p = p * t - 1.1514610310e-1f;
    p = p * t + 1.1676998740e-1f;
    p = p * t - 1.2420140846e-1f;
    p = p * t + 1.4249322787e-1f;
    p = p * t - 1.6668057665e-1f;
    p = p * t + 2.0000714765e-1f;
    p = p * t - 2.4999993993e-1f;
    p = p * t + 3.3333331174e-1f;
    float y = p * t * z;
    y = y + -2.12194440e-4f * e;
    y = y - 0.5f * z;
    float res = t + y;
    res = res + 0.693359375f * e;
    const float inf = bits_to_float(0x7f800000);
    res = x == inf ? inf : res;
    res = x == 0.f ? -inf : res;
    res = x < 0.f ? bits_to_float(0x7fc00000) : res;
    return x != x ? x : res;
}

XGRAD_ALWAYS_INLINE float tanh_f32(float x) {
    const float ax = x < 0.f ? -x : x;
    // |x| < 0.625: odd polynomial; otherwise 1 - 2 / (e^{2|x|} + 1) (1 once e^{2|x|} = inf).
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = p * z * x + x;
    const float big = 1.f - 2.f / (exp_f32(ax + ax) + 1.f);
    return ax < 0.625f ? small : (x < 0.f ? -big : big);
}

XGRAD_ALWAYS_INLINE float sigmoid_f32(float x) {
    return 1.f / (1.f + exp_f32(-x));
}

// ---- elementwise unary ----

template <class T, class F>
XGRAD_ALWAYS_INLINE void loop1(const T* __restrict x, T* __restrict out, std::int64_t n, F f) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
}

#define XGRAD_LAMBDA(...)                     \
    [=](T v) __attribute__((always_inline)) { \
        return __VA_ARGS__;                   \
    }

template <class T>
XGRAD_ALWAYS_INLINE void unary_body(Un op, const T* x, T* out, std::int64_t n, T lo, T hi) {
    switch (op) {
        case Un::neg:
            return loop1(x, out, n, XGRAD_LAMBDA(-v));
        case Un::abs:
            return loop1(x, out, n, XGRAD_LAMBDA(std::abs(v)));
        case Un::relu:
            return loop1(x, out, n, XGRAD_LAMBDA(v > T(0) ? v : T(0)));
        case Un::square:
            return loop1(x, out, n, XGRAD_LAMBDA(v * v));
        case Un::clamp:
            return loop1(x, out, n, XGRAD_LAMBDA(v < lo ? lo : (hi < v ? hi : v)));
        case Un::sqrt:
            if constexpr (std::is_floating_point_v<T>) loop1(x, out, n, XGRAD_LAMBDA(std::sqrt(v)));
            return;
        case Un::exp:
            if constexpr (std::is_same_v<T, float>) loop1(x, out, n, XGRAD_LAMBDA(exp_f32(v)));
            return;
        case Un::log:
            if constexpr (std::is_same_v<T, float>) loop1(x, out, n, XGRAD_LAMBDA(log_f32(v)));
            return;
        case Un::tanh:
            if constexpr (std::is_same_v<T, float>) loop1(x, out, n, XGRAD_LAMBDA(tanh_f32(v)));
            return;
        case Un::sigmoid:
            if constexpr (std::is_same_v<T, float>) loop1(x, out, n, XGRAD_LAMBDA(sigmoid_f32(v)));
            return;
    }
}

#undef XGRAD_LAMBDA

// ---- reductions ----

// Eight independent partial sums: the compiler vectorises them (a single accumulator is one
// long dependency chain), and float32 sums accumulate in double. No reassociation happens
// (no -ffast-math), so the result is the same on every ISA.
template <class Acc, class T>
XGRAD_ALWAYS_INLINE Acc sum_body(const T* p, std::int64_t n) {
    Acc part[8] = {};
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) part[k] += static_cast<Acc>(p[i + k]);
    Acc acc = 0;
    for (; i < n; ++i) acc += static_cast<Acc>(p[i]);
    for (int k = 0; k < 8; ++k) acc += part[k];
    return acc;
}

template <class Acc, class T>
XGRAD_ALWAYS_INLINE void accumulate_body(Acc* __restrict acc, const T* __restrict row,
                                         std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) acc[i] += static_cast<Acc>(row[i]);
}

using i64 = std::int64_t;

XGRAD_DISPATCHED(void, binary_f32, binary_body<float>,
                 (Bin op, Mode m, const float* a, const float* b, float* out, i64 n, float p),
                 (op, m, a, b, out, n, p))
XGRAD_DISPATCHED(void, binary_f64, binary_body<double>,
                 (Bin op, Mode m, const double* a, const double* b, double* out, i64 n, double p),
                 (op, m, a, b, out, n, p))
XGRAD_DISPATCHED(void, binary_i64, binary_body<i64>,
                 (Bin op, Mode m, const i64* a, const i64* b, i64* out, i64 n, i64 p),
                 (op, m, a, b, out, n, p))
XGRAD_DISPATCHED(void, unary_f32, unary_body<float>,
                 (Un op, const float* x, float* out, i64 n, float lo, float hi),
                 (op, x, out, n, lo, hi))
XGRAD_DISPATCHED(void, unary_f64, unary_body<double>,
                 (Un op, const double* x, double* out, i64 n, double lo, double hi),
                 (op, x, out, n, lo, hi))
XGRAD_DISPATCHED(void, unary_i64, unary_body<i64>,
                 (Un op, const i64* x, i64* out, i64 n, i64 lo, i64 hi), (op, x, out, n, lo, hi))
XGRAD_DISPATCHED(double, sum_f32, (sum_body<double, float>), (const float* p, i64 n), (p, n))
XGRAD_DISPATCHED(double, sum_f64, (sum_body<double, double>), (const double* p, i64 n), (p, n))
XGRAD_DISPATCHED(i64, sum_i64, (sum_body<i64, i64>), (const i64* p, i64 n), (p, n))
XGRAD_DISPATCHED(void, accumulate_f32, (accumulate_body<double, float>),
                 (double* acc, const float* row, i64 n), (acc, row, n))
XGRAD_DISPATCHED(void, accumulate_f64, (accumulate_body<double, double>),
                 (double* acc, const double* row, i64 n), (acc, row, n))
XGRAD_DISPATCHED(void, accumulate_i64, (accumulate_body<i64, i64>),
                 (i64 * acc, const i64* row, i64 n), (acc, row, n))

}  // namespace

void binary(Bin op, Mode m, const float* a, const float* b, float* out, i64 n, float param) {
    binary_f32(op, m, a, b, out, n, param);
}
void binary(Bin op, Mode m, const double* a, const double* b, double* out, i64 n, double param) {
    binary_f64(op, m, a, b, out, n, param);
}
void binary(Bin op, Mode m, const i64* a, const i64* b, i64* out, i64 n, i64 param) {
    binary_i64(op, m, a, b, out, n, param);
}
void unary(Un op, const float* x, float* out, i64 n, float lo, float hi) {
    unary_f32(op, x, out, n, lo, hi);
}
void unary(Un op, const double* x, double* out, i64 n, double lo, double hi) {
    unary_f64(op, x, out, n, lo, hi);
}
void unary(Un op, const i64* x, i64* out, i64 n, i64 lo, i64 hi) {
    unary_i64(op, x, out, n, lo, hi);
}
double sum(const float* p, i64 n) {
    return sum_f32(p, n);
}
double sum(const double* p, i64 n) {
    return sum_f64(p, n);
}
i64 sum(const i64* p, i64 n) {
    return sum_i64(p, n);
}
void accumulate(double* acc, const float* row, i64 n) {
    accumulate_f32(acc, row, n);
}
void accumulate(double* acc, const double* row, i64 n) {
    accumulate_f64(acc, row, n);
}
void accumulate(i64* acc, const i64* row, i64 n) {
    accumulate_i64(acc, row, n);
}

}  // namespace xgrad::kernels::simd
