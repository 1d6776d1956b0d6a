#include <algorithm>
#include <ostream>
#include <string>

#include <xgrad/core/check.hpp>
#include <xgrad/core/shape.hpp>

namespace xgrad {

std::int64_t shape_numel(const Shape& s) {
    return checked_numel(s, "numel");
}

std::string shape_str(const Shape& s) {
    std::string out = "[";
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(s[i]);
    }
    return out + "]";
}

std::ostream& operator<<(std::ostream& os, const Shape& s) {
    return os << shape_str(s);
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
    if (a == b) return a;
    const std::size_t n = std::max(a.size(), b.size());
    Shape out(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
        const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
        if (da != db && da != 1 && db != 1)
            raise<ShapeError>(op, "shapes ", shape_str(a), " and ", shape_str(b),
                              " cannot be broadcast (dimension ", std::to_string(i), ": ",
                              std::to_string(da), " vs ", std::to_string(db), ")");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

std::int64_t normalize_axis(std::int64_t axis, std::int64_t ndim, const char* op) {
    const std::int64_t lo = ndim > 0 ? -ndim : -1, hi = ndim > 0 ? ndim - 1 : 0;
    if (axis < lo || axis > hi)
        raise<IndexError>(op, "dimension ", std::to_string(axis),
                          " is out of range for a tensor with ", std::to_string(ndim),
                          " dimension(s) (expected in [", std::to_string(lo), ", ",
                          std::to_string(hi), "])");
    return axis < 0 ? axis + std::max<std::int64_t>(ndim, 1) : axis;
}

std::vector<std::int64_t> normalize_axes(const std::vector<std::int64_t>& axes, std::int64_t ndim,
                                         const char* op) {
    std::vector<std::int64_t> out;
    if (axes.empty()) {
        for (std::int64_t i = 0; i < ndim; ++i) out.push_back(i);
        return out;
    }
    for (auto a : axes) out.push_back(normalize_axis(a, ndim, op));
    std::sort(out.begin(), out.end());
    if (std::adjacent_find(out.begin(), out.end()) != out.end())
        raise<IndexError>(op, "dimension listed twice in ", shape_str(axes));
    // A 0-d tensor accepts axis 0/-1 (as PyTorch does) but has nothing to reduce.
    if (ndim == 0) out.clear();
    return out;
}

Shape contiguous_strides(const Shape& s) {
    Shape st(s.size());
    std::int64_t acc = 1;
    for (std::size_t i = s.size(); i-- > 0;) {
        st[i] = acc;
        acc *= s[i];
    }
    return st;
}

}  // namespace xgrad
