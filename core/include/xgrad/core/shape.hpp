// Shapes, NumPy broadcasting and axis normalisation.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace xgrad {

using Shape = std::vector<std::int64_t>;

// Product of the extents (1 for a scalar shape {}). Checked: a negative extent is a ValueError and
// a product past 2^62 a ShapeError (see checked_numel in <xgrad/core/check.hpp>).
std::int64_t shape_numel(const Shape& s);
// "[2, 3]" for messages and printing.
std::string shape_str(const Shape& s);
std::ostream& operator<<(std::ostream& os, const Shape& s);

// NumPy broadcasting of two shapes; throws ShapeError naming `op` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Maps a possibly negative axis into [0, ndim); throws IndexError naming `op` if out of range.
std::int64_t normalize_axis(std::int64_t axis, std::int64_t ndim, const char* op);
// Normalises, sorts and de-duplicates a list of axes; an empty list means "all axes".
std::vector<std::int64_t> normalize_axes(const std::vector<std::int64_t>& axes, std::int64_t ndim,
                                         const char* op);

// Row-major strides (in elements) of a contiguous tensor of this shape.
Shape contiguous_strides(const Shape& s);

}  // namespace xgrad
