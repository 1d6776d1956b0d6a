// Runtime element types. A tensor carries one of these; kernels are templates dispatched on it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <iosfwd>

namespace xgrad {

enum class Dtype : std::uint8_t {
    f32,  // default for floating-point tensors
    f64,  // gradcheck and research
    i64,  // labels and indices; never differentiable
    b8,   // results of comparisons (masks); never differentiable
};

inline constexpr Dtype kFloat32 = Dtype::f32;
inline constexpr Dtype kFloat64 = Dtype::f64;
inline constexpr Dtype kInt64 = Dtype::i64;
inline constexpr Dtype kBool = Dtype::b8;
// PyTorch's C++ spellings (at::kFloat, at::kDouble, at::kLong).
inline constexpr Dtype kFloat = Dtype::f32;
inline constexpr Dtype kDouble = Dtype::f64;
inline constexpr Dtype kLong = Dtype::i64;

const char* dtype_name(Dtype d);  // "float32", "float64", "int64", "bool"
std::size_t dtype_size(Dtype d);
inline bool is_floating(Dtype d) {
    return d == Dtype::f32 || d == Dtype::f64;
}
std::ostream& operator<<(std::ostream& os, Dtype d);

// Maps a C++ type to its Dtype (float, double, int64_t, bool).
template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
    static constexpr Dtype value = Dtype::f32;
};
template <>
struct dtype_of<double> {
    static constexpr Dtype value = Dtype::f64;
};
template <>
struct dtype_of<std::int64_t> {
    static constexpr Dtype value = Dtype::i64;
};
template <>
struct dtype_of<bool> {
    static constexpr Dtype value = Dtype::b8;
};

}  // namespace xgrad
