// Helpers shared by the test files.
#pragma once
#include <array>
#include <cstdint>

#include <xgrad/xgrad.hpp>

namespace xgrad::test {

// gradcheck / gradgradcheck options that report a failure in the result instead of throwing,
// so that a test can print the report.
inline autograd::GradcheckOptions no_throw() {
    autograd::GradcheckOptions o;
    o.raise_exception = false;
    return o;
}

// Sliding-window options from kernel size, dilation, padding and stride.
inline UnfoldOptions window(std::array<std::int64_t, 2> k, std::array<std::int64_t, 2> d,
                            std::array<std::int64_t, 2> p, std::array<std::int64_t, 2> s) {
    UnfoldOptions o;
    o.kernel_size = k;
    o.dilation = d;
    o.padding = p;
    o.stride = s;
    return o;
}

}  // namespace xgrad::test
