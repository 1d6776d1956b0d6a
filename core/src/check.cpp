// Size arithmetic that cannot wrap: every element count and byte size xgrad computes from a
// user's shape, a file header or an argument goes through these, so an absurd size is an error
// naming the op instead of a wrapped product and an out-of-bounds write.
#include <xgrad/core/check.hpp>

namespace xgrad {

std::int64_t checked_mul(std::int64_t a, std::int64_t b, const char* op, const char* what) {
    std::int64_t r = 0;
    if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) || r > kMaxSize)
        raise<ShapeError>(op, what, " ", a, " * ", b, " is too large (the limit is 2^62)");
    return r;
}

std::int64_t checked_add(std::int64_t a, std::int64_t b, const char* op, const char* what) {
    std::int64_t r = 0;
    if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r) || r > kMaxSize)
        raise<ShapeError>(op, what, " ", a, " + ", b, " is too large (the limit is 2^62)");
    return r;
}

std::int64_t checked_numel(const Shape& s, const char* op) {
    // The product of the non-zero extents must fit too, even when a zero extent makes the tensor
    // empty: a [0, 2^40, 2^40] tensor would otherwise pass here and overflow in the first op that
    // reduces away its zero dimension.
    std::int64_t product = 1;
    bool empty = false;
    for (auto d : s) {
        if (d < 0) raise<ValueError>(op, "negative dimension in shape ", s);
        if (d == 0) {
            empty = true;
            continue;
        }
        if (__builtin_mul_overflow(product, d, &product) || product > kMaxSize)
            raise<ShapeError>(op, "shape ", s, " has more than 2^62 elements");
    }
    return empty ? 0 : product;
}

std::size_t checked_nbytes(const Shape& s, std::size_t element_size, const char* op) {
    const std::int64_t n = checked_numel(s, op);
    std::int64_t bytes = 0;
    if (__builtin_mul_overflow(n, static_cast<std::int64_t>(element_size), &bytes) ||
        bytes > kMaxSize)
        raise<ShapeError>(op, "shape ", s, " needs ", n, " elements of ", element_size,
                          " bytes, more than 2^62 bytes");
    return static_cast<std::size_t>(bytes);
}

std::int64_t check_non_negative(std::int64_t v, const char* op, const char* what) {
    if (v < 0) raise<ValueError>(op, what, " must be non-negative, got ", v);
    return v;
}

std::int64_t check_positive(std::int64_t v, const char* op, const char* what) {
    if (v <= 0) raise<ValueError>(op, what, " must be positive, got ", v);
    return v;
}

}  // namespace xgrad
