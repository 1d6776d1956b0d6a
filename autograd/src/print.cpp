// operator<< for tensors, formatted like PyTorch's repr.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include <xgrad/autograd/node.hpp>
#include "kernels/dispatch.hpp"

namespace xgrad {

namespace {

constexpr std::int64_t kSummarizeAbove = 1000;  // PyTorch's print threshold
constexpr std::int64_t kEdgeItems = 3;

struct Formatter {
    std::vector<double> values;
    Dtype dtype;
    int mode = 0;  // 0 integer-valued floats "1.", 1 fixed "1.2345", 2 scientific, 3 int, 4 bool
    std::size_t width = 0;

    std::string format(double v) const {
        char buf[64];
        if (mode == 4) return v != 0 ? "True" : "False";
        if (std::isnan(v)) return "nan";
        if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
        switch (mode) {
            case 0:
                std::snprintf(buf, sizeof buf, "%.0f.", v);
                break;
            case 1:
                std::snprintf(buf, sizeof buf, "%.4f", v);
                break;
            case 2:
                std::snprintf(buf, sizeof buf, "%.4e", v);
                break;
            default:
                std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
                break;
        }
        return buf;
    }

    void choose(const std::vector<double>& shown) {
        if (dtype == Dtype::b8) {
            mode = 4;
        } else if (dtype == Dtype::i64) {
            mode = 3;
        } else {
            bool integral = true;
            double max_abs = 0, min_abs = INFINITY;
            for (double v : shown) {
                if (!std::isfinite(v)) continue;
                integral = integral && v == std::floor(v);
                max_abs = std::max(max_abs, std::fabs(v));
                if (v != 0) min_abs = std::min(min_abs, std::fabs(v));
            }
            if (integral && max_abs < 1e8)
                mode = 0;
            else if (max_abs >= 1e8 || (min_abs < 1e-4 && max_abs / min_abs > 1e3))
                mode = 2;
            else
                mode = 1;
        }
        for (double v : shown) width = std::max(width, format(v).size());
    }
};

// Recursively prints dims [d, ndim) of the block starting at `offset`.
void print_block(std::ostream& os, const Formatter& f, const Shape& shape, const Shape& strides,
                 std::size_t d, std::int64_t offset, bool summarize, std::size_t indent) {
    const std::int64_t n = shape[d];
    auto next = [&](std::int64_t i) {
        return (summarize && n > 2 * kEdgeItems && i == kEdgeItems - 1) ? n - kEdgeItems : i + 1;
    };
    os << '[';
    if (d + 1 == shape.size()) {
        for (std::int64_t i = 0; i < n; i = next(i)) {
            if (i) os << ", ";
            if (summarize && n > 2 * kEdgeItems && i == n - kEdgeItems) os << "..., ";
            std::string s = f.format(f.values[static_cast<std::size_t>(offset + i * strides[d])]);
            os << std::string(f.width - s.size(), ' ') << s;
        }
    } else {
        const std::string newlines(shape.size() - d - 1, '\n');
        for (std::int64_t i = 0; i < n; i = next(i)) {
            if (i) os << ',' << newlines << std::string(indent + 1, ' ');
            if (summarize && n > 2 * kEdgeItems && i == n - kEdgeItems)
                os << "...," << newlines << std::string(indent + 1, ' ');
            print_block(os, f, shape, strides, d + 1, offset + i * strides[d], summarize,
                        indent + 1);
        }
    }
    os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
    if (!t.defined()) return os << "tensor(undefined)";
    Formatter f;
    f.dtype = t.dtype();
    f.values = t.to_vector<double>();
    const bool summarize = t.numel() > kSummarizeAbove;
    // The width is chosen from the elements that are shown (all of them, for small tensors).
    f.choose(f.values);
    os << "tensor(";
    if (t.dim() == 0) {
        os << f.format(f.values[0]);
    } else if (t.numel() == 0) {
        os << "[], size=" << shape_str(t.shape());
    } else {
        print_block(os, f, t.shape(), contiguous_strides(t.shape()), 0, 0, summarize, 7);
    }
    if (t.dtype() == Dtype::f64) os << ", dtype=float64";
    if (t.grad_fn())
        os << ", grad_fn=<" << t.grad_fn()->name() << '>';
    else if (t.requires_grad())
        os << ", requires_grad=True";
    return os << ')';
}

}  // namespace xgrad
