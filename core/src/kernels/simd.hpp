// The hot elementwise and reduction loops as plain functions on raw arrays, each compiled for
// baseline x86-64, AVX2+FMA and AVX-512 and dispatched at run time (kernels/isa.hpp). Callers
// (kernels/elementwise.hpp, the op files) handle shapes, broadcasting and threads; these see
// one contiguous run at a time.
#pragma once
#include <cstdint>

namespace xgrad::kernels::simd {

// out[i] = op(a[i], b[i]). tanh_backward: g * (1 - y * y) with (g, y) = (a, b);
// sigmoid_backward: g * y * (1 - y); threshold_backward: b > param ? a : 0; minimum/maximum as
// xtensor's (a < b ? a : b, a > b ? a : b). Integer tensors use only add..maximum.
enum class Bin : int {
    add,
    sub,
    mul,
    div,
    minimum,
    maximum,
    tanh_backward,
    sigmoid_backward,
    threshold_backward
};
// Operand layout of a run: two arrays, the array a with the scalar b[0], or the scalar a[0]
// with the array b.
enum class Mode : int { vv, vs, sv };

void binary(Bin op, Mode m, const float* a, const float* b, float* out, std::int64_t n,
            float param);
void binary(Bin op, Mode m, const double* a, const double* b, double* out, std::int64_t n,
            double param);
void binary(Bin op, Mode m, const std::int64_t* a, const std::int64_t* b, std::int64_t* out,
            std::int64_t n, std::int64_t param);

// out[i] = op(x[i]). relu: x > 0 ? x : 0; clamp: x < lo ? lo : (hi < x ? hi : x) (xtensor's
// clip); sqrt for floating types only. exp, log, tanh and sigmoid: float32 only (a vectorisable
// implementation, within 2 ulp of the correctly rounded value; see simd.cpp).
enum class Un : int { neg, abs, relu, square, clamp, sqrt, exp, log, tanh, sigmoid };

void unary(Un op, const float* x, float* out, std::int64_t n, float lo, float hi);
void unary(Un op, const double* x, double* out, std::int64_t n, double lo, double hi);
void unary(Un op, const std::int64_t* x, std::int64_t* out, std::int64_t n, std::int64_t lo,
           std::int64_t hi);

// Sum of p[0..n) in eight interleaved partial sums (float32 accumulated in double). The order
// of additions is fixed, so every ISA gives the same bits.
double sum(const float* p, std::int64_t n);
double sum(const double* p, std::int64_t n);
std::int64_t sum(const std::int64_t* p, std::int64_t n);

// acc[i] += row[i].
void accumulate(double* acc, const float* row, std::int64_t n);
void accumulate(double* acc, const double* row, std::int64_t n);
void accumulate(std::int64_t* acc, const std::int64_t* row, std::int64_t n);

}  // namespace xgrad::kernels::simd
