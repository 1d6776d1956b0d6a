// The one home of xgrad's argument checks and of the size arithmetic that cannot wrap.
//
// Every error message has the form "xgrad::<op>: <what>", so `raise` and XGRAD_CHECK build it:
//
//     XGRAD_CHECK(n >= 0, ValueError, "linspace", "steps must be non-negative, got ", n);
//     raise<ShapeError>("matmul", "shapes ", a.shape(), " and ", b.shape(), " do not match");
//
// The message parts are streamed (Shape prints as "[2, 3]"), and only on the failing path, so a
// check costs one branch when it passes. Free of xtensor, so custom ops and layers may use it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <xgrad/core/error.hpp>
#include <xgrad/core/shape.hpp>

namespace xgrad {

namespace detail {
template <class... Parts>
std::string error_message(const char* op, const Parts&... parts) {
    std::ostringstream os;
    os << "xgrad::" << op << ": ";
    (os << ... << parts);
    return os.str();
}
}  // namespace detail

// Throws E (an xgrad::Error) with the message "xgrad::<op>: <parts...>".
template <class E = Error, class... Parts>
[[noreturn]] void raise(const char* op, const Parts&... parts) {
    throw E(detail::error_message(op, parts...));
}

// Throws E naming `op` unless `cond` holds; the message parts are evaluated only on failure.
#define XGRAD_CHECK(cond, E, op, ...)                             \
    do {                                                          \
        if (!(cond)) ::xgrad::raise<::xgrad::E>(op, __VA_ARGS__); \
    } while (0)

// ---- size arithmetic: element counts, byte sizes and index ranges that cannot wrap ----

// The largest element count or byte size xgrad accepts: 2^62, so that sums of two sizes and
// signed index arithmetic (begin + length, start + (n - 1) * step) stay inside int64.
inline constexpr std::int64_t kMaxSize = std::int64_t(1) << 62;

// a * b for non-negative sizes; ShapeError naming `op` and `what` when the product passes kMaxSize.
std::int64_t checked_mul(std::int64_t a, std::int64_t b, const char* op, const char* what);
// a + b for non-negative sizes; ShapeError when the sum passes kMaxSize.
std::int64_t checked_add(std::int64_t a, std::int64_t b, const char* op, const char* what);

// The number of elements of `s`: ValueError on a negative extent, ShapeError naming the shape
// when the product of its non-zero extents passes kMaxSize.
std::int64_t checked_numel(const Shape& s, const char* op);
// numel * element_size in bytes, ShapeError naming the shape when it passes kMaxSize.
std::size_t checked_nbytes(const Shape& s, std::size_t element_size, const char* op);

// A size that must be non-negative (a count, a length, a width): ValueError otherwise.
std::int64_t check_non_negative(std::int64_t v, const char* op, const char* what);
// A size that must be positive (a step, a stride, a dilation, a batch size): ValueError otherwise.
std::int64_t check_positive(std::int64_t v, const char* op, const char* what);

}  // namespace xgrad
