// max_pool2d, the direct sliding-window max: it must equal the composition it replaces (max over
// the window axis of the unfolded, -inf padded image) in values and in first- and second-order
// gradients, ties and NaN included; gradcheck and gradgradcheck in float64 with stride,
// padding and dilation; and the error paths.
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;

namespace {

// The reference: pad with -inf, unfold, max over the block entries.
Tensor pool_by_composition(const Tensor& x, const UnfoldOptions& o) {
    const double inf = std::numeric_limits<double>::infinity();
    const Tensor padded = pad(x, {o.padding[1], o.padding[1], o.padding[0], o.padding[0]}, -inf);
    UnfoldOptions u = o;
    u.padding = {0, 0};
    const Tensor cols = unfold(padded, u);
    const std::int64_t n = x.size(0), c = x.size(1);
    const std::int64_t kk = o.kernel_size[0] * o.kernel_size[1];
    const std::int64_t l = cols.size(2);
    const Tensor y = cols.reshape({n, c, kk, l}).max({2});
    const std::int64_t oh =
        (x.size(2) + 2 * o.padding[0] - o.dilation[0] * (o.kernel_size[0] - 1) - 1) / o.stride[0] +
        1;
    return y.reshape({n, c, oh, l / oh});
}

void check_same(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
    for (std::size_t i = 0; i < va.size(); ++i) {
        INFO("element " << i);
        if (std::isnan(vb[i]))
            CHECK(std::isnan(va[i]));
        else
            CHECK(va[i] == Approx(vb[i]).margin(1e-12));
    }
}

const std::vector<UnfoldOptions>& option_cases() {
    static const std::vector<UnfoldOptions> cases = {
        test::window({2, 2}, {1, 1}, {0, 0}, {2, 2}),  // LeNet's pooling
        test::window({3, 3}, {1, 1}, {1, 1}, {2, 2}),  // overlapping, padded (ResNet's stem)
        test::window({2, 3}, {2, 1}, {1, 1}, {1, 2}),  // dilated, uneven
        test::window({3, 2}, {1, 2}, {1, 1}, {2, 1}),
    };
    return cases;
}

}  // namespace

TEST_CASE("max_pool2d equals max over the unfolded blocks, ties and NaN included", "[max_pool]") {
    Generator gen(11);
    for (const UnfoldOptions& o : option_cases()) {
        INFO("kernel " << o.kernel_size[0] << "x" << o.kernel_size[1] << " padding " << o.padding[0]
                       << "x" << o.padding[1] << " stride " << o.stride[0] << "x" << o.stride[1]);
        // Small integers: many ties within a block. A NaN and an -inf in one image.
        Tensor base = randint(-2, 3, {2, 3, 7, 8}, gen).to(kFloat64);
        std::vector<double> v = base.to_vector<double>();
        v[5] = std::nan("");
        v[60] = -std::numeric_limits<double>::infinity();
        const Tensor data = tensor(v, base.shape(), TensorOptions{kFloat64});
        Tensor x1 = data.clone().requires_grad_();
        Tensor x2 = data.clone().requires_grad_();
        const Tensor y1 = max_pool2d(x1, o);
        const Tensor y2 = pool_by_composition(x2, o);
        check_same(y1, y2);
        // First-order gradients, weighted so that each block's gradient differs.
        const Tensor w = randn(y1.shape(), gen, TensorOptions{kFloat64});
        // NaN blocks pass their gradient to the NaN entry; keep the sum finite.
        const Tensor finite = logical_not(isnan(y1)).to(kFloat64);
        (where(isnan(y1), zeros_like(y1), y1) * w).sum().backward();
        (where(isnan(y2), zeros_like(y2), y2) * w).sum().backward();
        check_same(x1.grad(), x2.grad());
        CHECK(finite.sum().item<double>() > 0);
    }
}

TEST_CASE("max_pool2d: gradcheck and gradgradcheck with stride, padding and dilation",
          "[max_pool]") {
    Generator gen(3);
    for (const UnfoldOptions& o : option_cases()) {
        INFO("kernel " << o.kernel_size[0] << "x" << o.kernel_size[1] << " stride " << o.stride[0]
                       << "x" << o.stride[1]);
        // Distinct values: the max is differentiable there.
        Tensor x = randn({2, 2, 6, 7}, gen, TensorOptions{kFloat64, true});
        auto f = [o](const TensorList& in) { return max_pool2d(in[0], o); };
        auto r = autograd::gradcheck(f, {x}, test::no_throw());
        INFO(r.report);
        CHECK(r.ok);
        // Second order through a non-linearity, so that the double backward is not trivial.
        auto f2 = [o](const TensorList& in) { return tanh(max_pool2d(in[0] * in[0], o)); };
        auto r2 = autograd::gradgradcheck(f2, {x}, test::no_throw());
        INFO(r2.report);
        CHECK(r2.ok);
    }
}

TEST_CASE("max_pool2d: the double backward equals the composition's", "[max_pool]") {
    const UnfoldOptions o = test::window({3, 3}, {1, 1}, {1, 1}, {2, 2});
    Generator gen(4);
    Tensor x = randn({1, 2, 5, 5}, gen, TensorOptions{kFloat64, true});
    Tensor v = randn({1, 2, 5, 5}, gen, TensorOptions{kFloat64});
    auto hvp = [&](auto pool) {
        Tensor y = pool(x * x);
        Tensor g = autograd::grad({(y * y).sum()}, {x}, {}, {.create_graph = true})[0];
        return autograd::grad({(g * v).sum()}, {x})[0];
    };
    check_same(hvp([&](const Tensor& t) { return max_pool2d(t, o); }),
               hvp([&](const Tensor& t) { return pool_by_composition(t, o); }));
}

TEST_CASE("max_pool2d: a block wholly in the padding gives -inf and no gradient", "[max_pool]") {
    // Width 1 padded to 3; a kernel of 2 dilated by 2 reads padded columns 0 and 2: padding only.
    const UnfoldOptions o = test::window({1, 2}, {1, 2}, {0, 1}, {1, 1});
    Tensor x = full({1, 1, 1, 1}, 5.0, {kFloat64, true});
    Tensor y = max_pool2d(x, o);
    REQUIRE(y.shape() == Shape{1, 1, 1, 1});
    CHECK(y.item<double>() == -std::numeric_limits<double>::infinity());
    y.backward(ones_like(y));
    CHECK(x.grad().item<double>() == 0.0);
}

TEST_CASE("max_pool2d: bad input names the op and the shapes", "[max_pool]") {
    const UnfoldOptions o = test::window({2, 2}, {1, 1}, {0, 0}, {2, 2});
    CHECK_THROWS_AS(max_pool2d(zeros({2, 3, 4}), o), ShapeError);
    CHECK_THROWS_WITH(max_pool2d(zeros({2, 3, 4}), o),
                      Catch::Contains("max_pool2d") && Catch::Contains("[2, 3, 4]"));
    CHECK_THROWS_AS(max_pool2d(zeros({1, 1, 1, 1}), o), ShapeError);
    CHECK_THROWS_AS(max_pool2d(zeros({1, 1, 4, 4}, {Dtype::i64}), o), DtypeError);
    CHECK_THROWS_AS(max_pool2d(zeros({1, 1, 4, 4}), test::window({0, 2}, {1, 1}, {0, 0}, {1, 1})),
                    ValueError);
    CHECK_THROWS_AS(max_pool2d(Tensor(), o), ValueError);
}
