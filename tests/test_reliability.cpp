// Size arithmetic that cannot wrap, and errors instead of crashes: every argument an outside
// audit found to corrupt memory or give a silently wrong answer (int64 wrap-around in shapes,
// slices, windows, pads, loaders and generators) is here, with the error or the right answer.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "test_helpers.hpp"

using namespace xgrad;
using Catch::Contains;

namespace {
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t k2p62 = std::int64_t(1) << 62;
}  // namespace

TEST_CASE("checked size arithmetic refuses products and sums past 2^62", "[reliability]") {
    CHECK(checked_numel({}, "t") == 1);
    CHECK(checked_numel({2, 3, 4}, "t") == 24);
    CHECK(checked_numel({k2p62}, "t") == k2p62);
    CHECK(checked_numel({0, 5}, "t") == 0);
    CHECK_THROWS_WITH(checked_numel({2, k2p62}, "myop"),
                      Contains("xgrad::myop: shape [2, 4611686018427387904] has more than 2^62"));
    // (2^62 + 1) * 4 wraps to 4 in int64: the product must not pass as a small one.
    CHECK_THROWS_AS(checked_numel({k2p62 + 1, 4}, "t"), ShapeError);
    // Empty, but a reduction over the zero dim would leave 3037000499^2 > 2^62 elements.
    CHECK_THROWS_AS(checked_numel({0, 3037000499, 3037000499}, "t"), ShapeError);
    CHECK_THROWS_AS(checked_numel({2, -1}, "t"), ValueError);
    CHECK(checked_nbytes({3, 5}, 8, "t") == 120);
    CHECK_THROWS_WITH(checked_nbytes({k2p62}, 4, "zeros"), Contains("more than 2^62 bytes"));
    CHECK(checked_mul(3, 4, "t", "x") == 12);
    CHECK_THROWS_AS(checked_mul(kMax, 2, "t", "x"), ShapeError);
    CHECK_THROWS_AS(checked_mul(-1, 2, "t", "x"), ShapeError);
    CHECK(checked_add(k2p62 - 1, 1, "t", "x") == k2p62);
    CHECK_THROWS_AS(checked_add(k2p62, 1, "t", "x"), ShapeError);
    CHECK_THROWS_WITH(check_positive(0, "op", "step"), "xgrad::op: step must be positive, got 0");
    CHECK_THROWS_AS(check_non_negative(-3, "op", "length"), ValueError);
}

TEST_CASE("raise and XGRAD_CHECK build the xgrad::op: message", "[reliability]") {
    CHECK_THROWS_WITH(raise<ShapeError>("matmul", "shapes ", Shape{2, 3}, " and ", Shape{4}),
                      "xgrad::matmul: shapes [2, 3] and [4]");
    auto f = [](int v) { XGRAD_CHECK(v > 0, ValueError, "f", "v must be positive, got ", v); };
    CHECK_NOTHROW(f(1));
    CHECK_THROWS_AS(f(-2), ValueError);
    CHECK_THROWS_WITH(f(-2), "xgrad::f: v must be positive, got -2");
}

TEST_CASE("creation refuses sizes that would wrap instead of overflowing the heap",
          "[reliability]") {
    // 2^62 floats is 2^64 bytes: the byte size wraps to 0 without the check.
    CHECK_THROWS_AS(zeros({k2p62}), ShapeError);
    CHECK_THROWS_WITH(zeros({k2p62}), Contains("[4611686018427387904]"));
    CHECK_THROWS_AS(empty({4, k2p62}), ShapeError);
    CHECK_THROWS_AS(ones({k2p62 + 1, 4}), ShapeError);
    CHECK_THROWS_AS(linspace(0, 1, kMax), ShapeError);
    CHECK_THROWS_AS(arange(0.0, 1e300, 1.0), ShapeError);
    CHECK_THROWS_AS(full({-2, 3}, 1.0), ValueError);
    CHECK_THROWS_AS(randn({kMax, kMax}), ShapeError);
    // A shape with a zero extent is empty, but its other extents must still fit.
    CHECK(zeros({0, 1000000, 1000000}).numel() == 0);
    CHECK_THROWS_AS(zeros({0, 3037000499, 3037000499}), ShapeError);
}

TEST_CASE("an allocation the machine cannot satisfy is an OutOfMemoryError naming the size",
          "[reliability]") {
    // 4 TiB: a valid shape, more memory than this machine (or any CI machine) has.
    try {
        Tensor t = zeros({std::int64_t(1) << 40});
        FAIL("allocated 4 TiB");
    } catch (const OutOfMemoryError& e) {
        CHECK_THAT(e.what(),
                   Contains("xgrad::allocate: out of memory") && Contains("4398046511104 bytes"));
    }
    // OutOfMemoryError is an xgrad::Error: one catch clause covers every failure.
    CHECK_THROWS_AS(zeros({std::int64_t(1) << 40}), Error);
    // Allocation still works afterwards.
    CHECK(ones({3}).sum().item<float>() == 3.0f);
}

TEST_CASE("reshape and expand refuse sizes whose product wraps", "[reliability]") {
    Tensor x = zeros({4});
    // (2^62 + 1) * 4 == 4 modulo 2^64: accepted before, every read after it out of bounds.
    CHECK_THROWS_AS(x.reshape({k2p62 + 1, 4}), ShapeError);
    CHECK_THROWS_AS(x.view({k2p62 + 1, 4}), ShapeError);
    CHECK_THROWS_AS(x.reshape({-1, k2p62, 4}), ShapeError);
    CHECK_THROWS_AS(x.reshape({-2, -2}), ShapeError);
    CHECK(x.reshape({2, -1}).shape() == Shape{2, 2});
    CHECK_THROWS_AS(x.expand({k2p62 + 1, 4}), ShapeError);
    CHECK_THROWS_AS(zeros({1}).expand({k2p62, 4}), ShapeError);
    CHECK_THROWS_AS(zeros({1}).expand({-2}), ShapeError);
    CHECK(zeros({1}).expand({3, 2}).shape() == Shape{3, 2});
}

TEST_CASE("slice and narrow with extreme steps and lengths give the right rows or an error",
          "[reliability]") {
    Tensor x = arange(std::int64_t(0), std::int64_t(10));
    // A step of INT64_MAX selects the first element only (end - start + step - 1 wrapped).
    Tensor s = slice(x, 0, 0, 10, kMax);
    CHECK(s.to_vector<std::int64_t>() == std::vector<std::int64_t>{0});
    CHECK(slice(x, 0, 3, kMax, kMax).to_vector<std::int64_t>() == std::vector<std::int64_t>{3});
    CHECK(slice(x, 0, kMin, kMax, 4).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{0, 4, 8});
    CHECK(slice(x, 0, kMax, kMin, 1).numel() == 0);
    CHECK_THROWS_AS(slice(x, 0, 0, 10, 0), ValueError);
    CHECK_THROWS_AS(slice(x, 0, 0, 10, kMin), ValueError);
    // narrow(0, 5, INT64_MAX): start + length wrapped negative and passed the bounds check.
    CHECK_THROWS_AS(narrow(x, 0, 5, kMax), IndexError);
    CHECK_THROWS_AS(narrow(x, 0, kMax, 1), IndexError);
    CHECK_THROWS_AS(narrow(x, 0, kMin, 1), IndexError);
    CHECK(narrow(x, 0, 5, 5).to_vector<std::int64_t>() == std::vector<std::int64_t>{5, 6, 7, 8, 9});

    // The gradient of a huge-step slice lands on the one selected element.
    Tensor w = arange(0.0, 5.0, 1.0, {.dtype = kFloat64, .requires_grad = true});
    slice(w, 0, 1, kMax, kMax).sum().backward();
    CHECK(w.grad().to_vector<double>() == std::vector<double>{0, 1, 0, 0, 0});
}

TEST_CASE("window ops refuse dilations, paddings and kernels that wrap", "[reliability]") {
    Tensor img = ones({1, 1, 4, 4});
    using test::window;
    // dilation 2^62: (kh - 1) * dilation wrapped and rows came out zero or repeated.
    CHECK_THROWS_AS(unfold(img, window({2, 2}, {k2p62, 1}, {0, 0}, {1, 1})), ShapeError);
    CHECK_THROWS_AS(unfold(img, window({2, 2}, {kMax, kMax}, {0, 0}, {1, 1})), ShapeError);
    CHECK_THROWS_AS(unfold(img, window({2, 2}, {1, 1}, {k2p62, 0}, {1, 1})), ShapeError);
    CHECK_THROWS_AS(unfold(img, window({kMax, kMax}, {1, 1}, {0, 0}, {1, 1})), ShapeError);
    CHECK_THROWS_AS(max_pool2d(img, window({2, 2}, {k2p62, 1}, {0, 0}, {1, 1})), ShapeError);
    CHECK_THROWS_AS(fold(ones({1, 4, 1}), {2, 2}, window({kMax, 2}, {1, 1}, {0, 0}, {1, 1})),
                    ShapeError);
    // A stride of INT64_MAX is fine: one block.
    Tensor one = unfold(img, window({2, 2}, {1, 1}, {0, 0}, {kMax, kMax}));
    CHECK(one.shape() == Shape{1, 4, 1});
    CHECK(one.sum().item<float>() == 4.0f);
}

TEST_CASE("pad refuses huge and INT64_MIN widths", "[reliability]") {
    Tensor x = ones({2, 3});
    CHECK_THROWS_AS(pad(x, {kMin, 0}), ValueError);
    CHECK_THROWS_AS(pad(x, {0, kMax}), ValueError);
    CHECK_THROWS_AS(pad(x, {k2p62, k2p62}), ShapeError);
    CHECK_THROWS_AS(pad(x, {0, k2p62}), ShapeError);
    CHECK_THROWS_AS(pad(x, {-k2p62, 0}), ShapeError);
    CHECK(pad(x, {1, -1}).sum().item<float>() == 4.0f);
}

TEST_CASE("var with an extreme correction divides by the exact degrees of freedom",
          "[reliability]") {
    Tensor x = tensor({1.0, 2.0, 3.0, 6.0}, {.dtype = kFloat64});
    // Sum of squared deviations about the mean 3: 4 + 1 + 0 + 9 = 14.
    CHECK(var(x, {}, false, 1).item<double>() == Approx(14.0 / 3.0));
    const double huge = var(x, {}, false, kMin).item<double>();
    CHECK(huge == Approx(14.0 / (4.0 + 9223372036854775808.0)));
    CHECK(huge > 0.0);
    CHECK(std::isinf(var(x, {}, false, kMax).item<double>()));  // N - correction <= 0: 14 / 0
}

TEST_CASE("randint over the whole int64 range and eye with a negative size", "[reliability]") {
    Generator gen(7);
    Tensor r = randint(kMin, kMax, {1000}, gen);
    bool negative = false, positive = false;
    for (auto v : r.to_vector<std::int64_t>()) {
        CHECK(v < kMax);
        negative = negative || v < 0;
        positive = positive || v > 0;
    }
    CHECK((negative && positive));  // spread over the range, not stuck at one end
    for (auto v : randint(kMin, kMin + 2, {100}, gen).to_vector<std::int64_t>())
        CHECK((v == kMin || v == kMin + 1));
    CHECK_THROWS_AS(eye(3, -5), ValueError);
    CHECK_THROWS_WITH(eye(3, -5), Contains("xgrad::eye"));
    CHECK_THROWS_AS(eye(-1), ValueError);
    CHECK(eye(3).shape() == Shape{3, 3});
    CHECK(eye(2, 3).sum().item<float>() == 2.0f);
}

TEST_CASE("a DataLoader with a batch size near INT64_MAX gives one batch of everything",
          "[reliability]") {
    Tensor x = arange(0.0, 10.0, 1.0).reshape({10, 1});
    data::DataLoader loader(data::TensorDataset(x), {.batch_size = kMax});
    CHECK(loader.size() == 1);
    int batches = 0;
    for (auto& batch : loader) {
        CHECK(batch.input.shape() == Shape{10, 1});
        ++batches;
    }
    CHECK(batches == 1);
    data::DataLoader dropping(data::TensorDataset(x), {.batch_size = kMax, .drop_last = true});
    CHECK(dropping.size() == 0);
    data::DataLoader prefetching(data::TensorDataset(x), {.batch_size = kMax, .prefetch = true});
    batches = 0;
    for (auto& batch : prefetching) batches += batch.input.shape()[0] == 10;
    CHECK(batches == 1);
}

TEST_CASE("concat refuses a joined size that wraps", "[reliability]") {
    Tensor a = zeros({0, k2p62});
    CHECK_THROWS_AS(concat({a, a}, 1), ShapeError);
    CHECK(concat({zeros({0, 2}), zeros({0, 3})}, 1).shape() == Shape{0, 5});
}
