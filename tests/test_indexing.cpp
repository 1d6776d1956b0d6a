// slice / narrow / select / index_select / gather / scatter_add / index_add / concat / stack /
// split / pad: values, gradients (gradcheck, gradgradcheck) and error paths.
//
// Non-trivial reference values come from PyTorch 1.13 in float64, printed by
// tests/reference/indexing_reference.py (run with /usr/bin/python3) and pasted here.
#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

#include <cstdint>
#include <vector>

using namespace xgrad;
using autograd::gradcheck;
using autograd::gradgradcheck;

namespace {

Tensor f64(const std::vector<double>& values, const Shape& shape, bool requires_grad = false) {
    return tensor(values, shape, TensorOptions{kFloat64, requires_grad});
}

Tensor i64(const std::vector<std::int64_t>& values, const Shape& shape) {
    return tensor(values, shape);
}

// The 3x4 input shared with the reference script.
Tensor x34(bool requires_grad = false) {
    return f64({0.5, -1.25, 2.0, 3.5, -0.75, 1.5, -2.25, 0.25, 4.0, -3.0, 1.75, -0.5}, {3, 4},
               requires_grad);
}

// arange(numel) * 0.25 - 1 in `shape`: the loss weights of the reference script.
Tensor weights(const Shape& shape) {
    std::vector<double> w(static_cast<std::size_t>(shape_numel(shape)));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i) * 0.25 - 1.0;
    return f64(w, shape);
}

Tensor arange24() {
    return arange(0.0, 24.0, 1.0, TensorOptions{kFloat64}).reshape({2, 3, 4});
}

Tensor random64(const Shape& shape, std::uint64_t seed) {
    Generator gen(seed);
    return randn(shape, gen, TensorOptions{kFloat64, true});
}

void check_values(const Tensor& t, const Shape& shape, const std::vector<double>& expected) {
    REQUIRE(t.defined());
    REQUIRE(t.shape() == shape);
    const std::vector<double> v = t.to_vector<double>();
    REQUIRE(v.size() == expected.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        INFO("element " << i);
        CHECK(v[i] == Approx(expected[i]).margin(1e-12));
    }
}

}  // namespace

// ---- slice / narrow / select ---------------------------------------------------------------

TEST_CASE("indexing: slice values with step and negative indices", "[indexing]") {
    const Tensor a = arange24();
    check_values(slice(a, 2, 1, 4, 2), {2, 3, 2},
                 {1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0, 17.0, 19.0, 21.0, 23.0});
    check_values(
        slice(a, 1, -2, 10), {2, 2, 4},
        {4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0});
    check_values(slice(a, -1, -3, -1), {2, 3, 2},
                 {1.0, 2.0, 5.0, 6.0, 9.0, 10.0, 13.0, 14.0, 17.0, 18.0, 21.0, 22.0});
    check_values(slice(a, 2, 0, 4, 3), {2, 3, 2},
                 {0.0, 3.0, 4.0, 7.0, 8.0, 11.0, 12.0, 15.0, 16.0, 19.0, 20.0, 23.0});
    // an empty range gives a zero-size dimension
    CHECK(slice(a, 1, 2, 1).shape() == Shape{2, 0, 4});
}

TEST_CASE("indexing: narrow and select values", "[indexing]") {
    const Tensor a = arange24();
    check_values(
        narrow(a, 1, 1, 2), {2, 2, 4},
        {4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0});
    check_values(a.narrow(-1, -2, 1), {2, 3, 1}, {2.0, 6.0, 10.0, 14.0, 18.0, 22.0});
    check_values(select(a, 1, -1), {2, 4}, {8.0, 9.0, 10.0, 11.0, 20.0, 21.0, 22.0, 23.0});
    check_values(a.select(0, 1).select(0, 0), {4}, {12.0, 13.0, 14.0, 15.0});
}

TEST_CASE("indexing: gradcheck slice, narrow, select", "[indexing]") {
    Tensor x = random64({3, 5, 4}, 11);
    CHECK(gradcheck([](const TensorList& in) { return slice(in[0], 1, -4, 5, 2); }, {x}).ok);
    CHECK(gradcheck([](const TensorList& in) { return slice(in[0], -1, 1, -1, 1); }, {x}).ok);
    CHECK(gradcheck([](const TensorList& in) { return narrow(in[0], 0, 1, 2); }, {x}).ok);
    CHECK(gradcheck([](const TensorList& in) { return select(in[0], 2, -2); }, {x}).ok);
    CHECK(gradgradcheck(
              [](const TensorList& in) {
                  Tensor s = slice(in[0], 1, 0, 5, 3);
                  return s * s;
              },
              {x})
              .ok);
}

TEST_CASE("indexing: slice backward places the gradient into zeros", "[indexing]") {
    Tensor x = f64({1, 2, 3, 4, 5, 6}, {6}, true);
    slice(x, 0, -5, 6, 2).sum().backward();
    check_values(x.grad(), {6}, {0, 1, 0, 1, 0, 1});
}

TEST_CASE("indexing: slice, narrow, select errors", "[indexing]") {
    const Tensor a = arange24();
    CHECK_THROWS_AS(slice(a, 0, 0, 2, 0), ValueError);
    CHECK_THROWS_WITH(slice(a, 0, 0, 2, 0), Catch::Contains("xgrad::slice"));
    CHECK_THROWS_AS(slice(a, 3, 0, 1), IndexError);
    CHECK_THROWS_WITH(slice(a, 3, 0, 1), Catch::Contains("xgrad::slice"));
    CHECK_THROWS_AS(slice(scalar_tensor(1.0), 0, 0, 1), IndexError);
    CHECK_THROWS_AS(narrow(a, 2, 3, 2), IndexError);
    CHECK_THROWS_WITH(narrow(a, 2, 3, 2), Catch::Contains("xgrad::narrow"));
    CHECK_THROWS_AS(narrow(a, 2, 0, -1), IndexError);
    CHECK_THROWS_AS(select(a, 1, 3), IndexError);
    CHECK_THROWS_WITH(select(a, 1, 3), Catch::Contains("xgrad::select") && Catch::Contains("3"));
    CHECK_THROWS_AS(select(a, 1, -4), IndexError);
}

// ---- index_select --------------------------------------------------------------------------

TEST_CASE("indexing: index_select values with repeated indices", "[indexing]") {
    Tensor x = x34(true);
    Tensor y = index_select(x, 0, i64({2, 0, 2}, {3}));
    check_values(y, {3, 4}, {4.0, -3.0, 1.75, -0.5, 0.5, -1.25, 2.0, 3.5, 4.0, -3.0, 1.75, -0.5});
    CHECK(y.grad_fn() != nullptr);
    (y * weights({3, 4})).sum().backward();
    check_values(x.grad(), {3, 4}, {0.0, 0.25, 0.5, 0.75, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.5});

    check_values(x34().index_select(1, i64({3, 3, 1}, {3})), {3, 3},
                 {3.5, 3.5, -1.25, 0.25, 0.25, 1.5, -0.5, -0.5, -3.0});
    // a 0-d index keeps the dimension with size 1, an empty index gives size 0
    check_values(index_select(x34(), 0, scalar_tensor(std::int64_t{1})), {1, 4},
                 {-0.75, 1.5, -2.25, 0.25});
    CHECK(index_select(x34(), 1, i64({}, {0})).shape() == Shape{3, 0});
    // a 0-d input takes one index and stays 0-d
    check_values(index_select(scalar_tensor(5.0), 0, i64({0}, {1})), {}, {5.0});
}

TEST_CASE("indexing: index_select on int64 and bool tensors", "[indexing]") {
    Tensor a = tensor<std::int64_t>({10, 20, 30, 40}, {2, 2});
    CHECK(index_select(a, 1, i64({1, 0, 1}, {3})).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{20, 10, 20, 40, 30, 40});
    CHECK(index_select(a, 0, i64({1}, {1})).dtype() == kInt64);
    Tensor b = tensor<bool>({true, false, false}, {3});
    CHECK(index_select(b, 0, i64({1, 0}, {2})).to_vector<bool>() == std::vector<bool>{false, true});
}

TEST_CASE("indexing: gradcheck index_select", "[indexing]") {
    Tensor x = random64({4, 3, 2}, 21);
    const Tensor idx = i64({3, 0, 3, 3, 1}, {5});
    CHECK(gradcheck([idx](const TensorList& in) { return index_select(in[0], 0, idx); }, {x}).ok);
    CHECK(gradcheck(
              [](const TensorList& in) {
                  return in[0].index_select(-1, i64({1, 1}, {2}));
              },
              {x})
              .ok);
    CHECK(gradgradcheck(
              [idx](const TensorList& in) {
                  Tensor y = index_select(in[0], 0, idx);
                  return y * y;
              },
              {x})
              .ok);
    Tensor s = f64({1.5}, {}, true);
    CHECK(gradcheck([](const TensorList& in) { return index_select(in[0], 0, i64({0}, {1})); }, {s})
              .ok);
}

TEST_CASE("indexing: index_select errors", "[indexing]") {
    const Tensor x = x34();
    CHECK_THROWS_AS(index_select(x, 0, f64({0.0}, {1})), DtypeError);
    CHECK_THROWS_WITH(index_select(x, 0, f64({0.0}, {1})), Catch::Contains("xgrad::index_select"));
    CHECK_THROWS_AS(index_select(x, 0, i64({0, 3, 1}, {3})), IndexError);
    CHECK_THROWS_WITH(index_select(x, 0, i64({0, 3, 1}, {3})),
                      Catch::Contains("xgrad::index_select") && Catch::Contains("index 3") &&
                          Catch::Contains("size 3"));
    CHECK_THROWS_AS(index_select(x, 1, i64({-1}, {1})), IndexError);
    CHECK_THROWS_AS(index_select(x, 0, i64({0, 1}, {1, 2})), IndexError);
    CHECK_THROWS_AS(index_select(x, 2, i64({0}, {1})), IndexError);
    CHECK_THROWS_WITH(index_select(x, 2, i64({0}, {1})), Catch::Contains("xgrad::index_select"));
    CHECK_THROWS_AS(index_select(scalar_tensor(1.0), 0, i64({0, 0}, {2})), ShapeError);
    CHECK_THROWS_AS(index_select(Tensor(), 0, i64({0}, {1})), ValueError);
}

// ---- gather --------------------------------------------------------------------------------

TEST_CASE("indexing: gather values and gradient", "[indexing]") {
    check_values(gather(x34(), 1, i64({0, 3, 3, 2, 2, 1, 1, 0, 0}, {3, 3})), {3, 3},
                 {0.5, 3.5, 3.5, -2.25, -2.25, 1.5, -3.0, 4.0, 4.0});
    Tensor x = x34(true);
    Tensor y = x.gather(0, i64({2, 0, 1, 1, 0, 0, 2, 1}, {2, 4}));
    check_values(y, {2, 4}, {4.0, -1.25, -2.25, 0.25, 0.5, -1.25, 1.75, 0.25});
    (y * weights({2, 4})).sum().backward();
    check_values(x.grad(), {3, 4}, {0.0, -0.5, 0.0, 0.0, 0.0, 0.0, -0.5, 0.5, -1.0, 0.0, 0.5, 0.0});
    // index may be longer than the input along dim
    check_values(gather(f64({1, 2, 3, 4, 5, 6}, {2, 3}), 1, i64({0, 1, 2, 2}, {1, 4})), {1, 4},
                 {1, 2, 3, 3});
    // 0-d input with a one-element index
    check_values(gather(scalar_tensor(5.0), 0, i64({0}, {1})), {1}, {5.0});
}

TEST_CASE("indexing: gather on int64 and bool tensors", "[indexing]") {
    Tensor a = tensor<std::int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor r = gather(a, 1, i64({2, 0, 1, 1}, {2, 2}));
    CHECK(r.dtype() == kInt64);
    CHECK(r.to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 1, 5, 5});
    Tensor b = tensor<bool>({true, false, false, true}, {2, 2});
    CHECK(gather(b, 0, i64({1, 1}, {1, 2})).to_vector<bool>() == std::vector<bool>{false, true});
}

TEST_CASE("indexing: gather second derivative matches PyTorch", "[indexing]") {
    Tensor x = x34(true);
    const Tensor idx = i64({0, 3, 3, 2, 2, 1, 1, 0, 0}, {3, 3});
    Tensor y = gather(x, 1, idx);
    Tensor loss = (y * y * weights({3, 3})).sum();  // gather(x)^2, as in the reference
    TensorList g = autograd::grad({loss}, {x}, {}, autograd::GradOptions{{}, true});
    check_values(g[0], {3, 4},
                 {-1.0, 0.0, 0.0, -8.75, 0.0, 0.75, 1.125, 0.0, 14.0, -3.0, 0.0, 0.0});
    REQUIRE(g[0].requires_grad());
    (g[0] * weights({3, 4})).sum().backward();
    check_values(x.grad(), {3, 4},
                 {2.0, 0.0, 0.0, 0.625, 0.0, 0.125, -0.25, 0.0, 3.5, 1.25, 0.0, 0.0});
}

TEST_CASE("indexing: gradcheck and gradgradcheck gather", "[indexing]") {
    Tensor x = random64({3, 4, 2}, 31);
    const Tensor i1 = i64({3, 3, 0, 1, 2, 2, 0, 0, 1, 3, 3, 3}, {2, 3, 2});
    const Tensor i0 = i64({2, 0, 1, 1, 0, 2, 2, 2}, {4, 1, 2});
    CHECK(gradcheck([i1](const TensorList& in) { return gather(in[0], 1, i1); }, {x}).ok);
    CHECK(gradcheck([i0](const TensorList& in) { return gather(in[0], 0, i0); }, {x}).ok);
    CHECK(gradgradcheck(
              [i1](const TensorList& in) {
                  Tensor y = gather(in[0], 1, i1);
                  return y * y;
              },
              {x})
              .ok);
    CHECK(gradgradcheck([i0](const TensorList& in) { return gather(in[0].pow(3.0), 0, i0); }, {x})
              .ok);
}

TEST_CASE("indexing: gather errors", "[indexing]") {
    const Tensor x = x34();
    CHECK_THROWS_AS(gather(x, 1, i64({0, 1}, {2})), ShapeError);
    CHECK_THROWS_WITH(gather(x, 1, i64({0, 1}, {2})), Catch::Contains("xgrad::gather"));
    CHECK_THROWS_AS(gather(x, 1, i64({0, 0, 0, 0, 0, 0, 0, 0}, {4, 2})), ShapeError);
    CHECK_THROWS_WITH(gather(x, 1, i64({0, 0, 0, 0, 0, 0, 0, 0}, {4, 2})),
                      Catch::Contains("xgrad::gather") && Catch::Contains("[4, 2]"));
    CHECK_THROWS_AS(gather(x, 1, i64({0, 4}, {1, 2})), IndexError);
    CHECK_THROWS_WITH(gather(x, 1, i64({0, 4}, {1, 2})), Catch::Contains("xgrad::gather") &&
                                                             Catch::Contains("index 4") &&
                                                             Catch::Contains("size 4"));
    CHECK_THROWS_AS(gather(x, 0, i64({-1}, {1, 1})), IndexError);
    CHECK_THROWS_AS(gather(x, 0, tensor<float>({0.0f}, {1, 1})), DtypeError);
    CHECK_THROWS_WITH(gather(x, 0, tensor<float>({0.0f}, {1, 1})),
                      Catch::Contains("xgrad::gather"));
    CHECK_THROWS_AS(gather(x, -3, i64({0}, {1, 1})), IndexError);
}

// ---- scatter_add ---------------------------------------------------------------------------

TEST_CASE("indexing: scatter_add with duplicate indices and gradients", "[indexing]") {
    Tensor x = x34(true);
    Tensor src = f64({1, 2, 3, 4, 10, 20, 30, 40}, {2, 4}, true);
    const Tensor idx = i64({0, 1, 2, 0, 0, 1, 0, 0}, {2, 4});
    Tensor y = scatter_add(x, 0, idx, src);
    check_values(y, {3, 4},
                 {11.5, -1.25, 32.0, 47.5, -0.75, 23.5, -2.25, 0.25, 4.0, -3.0, 4.75, -0.5});
    (y * y * weights({3, 4})).sum().backward();
    check_values(x.grad(), {3, 4},
                 {-23.0, 1.875, -32.0, -23.75, 0.0, 11.75, -2.25, 0.375, 8.0, -7.5, 14.25, -1.75});
    check_values(src.grad(), {2, 4}, {-23.0, 11.75, 14.25, -23.75, -23.0, 11.75, -32.0, -23.75});
}

TEST_CASE("indexing: scatter_add with src larger than index", "[indexing]") {
    Tensor x = x34();
    Tensor src = f64({1, 2, 3, 4, 5, 6, 7, 8, 9, 0.5, 0.5, 0.5}, {4, 3}, true);
    Tensor y = scatter_add(x, 1, i64({3, 3, 0, 1, 2, 3}, {3, 2}), src);
    check_values(y, {3, 4}, {0.5, -1.25, 2.0, 6.5, 3.25, 6.5, -2.25, 0.25, 4.0, -3.0, 8.75, 7.5});
    (y * weights({3, 4})).sum().backward();
    // only src[:3, :2] is used; the rest gets a zero gradient
    check_values(src.grad(), {4, 3},
                 {-0.25, -0.25, 0.0, 0.0, 0.25, 0.0, 1.5, 1.75, 0.0, 0.0, 0.0, 0.0});
}

TEST_CASE("indexing: scatter_add on int64 and scalar inputs", "[indexing]") {
    Tensor a = zeros({4}, TensorOptions{kInt64});
    Tensor r = scatter_add(a, 0, i64({1, 3, 1, 1}, {4}), tensor<std::int64_t>({1, 2, 3, 4}));
    CHECK(r.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 8, 0, 2});
    CHECK(a.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 0, 0, 0});  // not in place
    check_values(
        scatter_add(scalar_tensor(5.0), 0, scalar_tensor(std::int64_t{0}), scalar_tensor(2.0)), {},
        {7.0});
}

TEST_CASE("indexing: gradcheck and gradgradcheck scatter_add", "[indexing]") {
    Tensor x = random64({3, 4}, 41);
    Tensor src = random64({2, 5}, 42);
    const Tensor idx = i64({0, 0, 3, 1, 0, 2, 3, 3}, {2, 4});
    auto f = [idx](const TensorList& in) { return scatter_add(in[0], 1, idx, in[1]); };
    CHECK(gradcheck(f, {x, src}).ok);
    Tensor fixed = random64({2, 5}, 43).detach();
    CHECK(gradcheck(
              [idx, fixed](const TensorList& in) { return scatter_add(in[0], 1, idx, fixed); }, {x})
              .ok);
    CHECK(gradgradcheck(
              [idx](const TensorList& in) {
                  Tensor y = scatter_add(in[0], 1, idx, in[1] * in[1]);
                  return y * in[0];
              },
              {x, src})
              .ok);
}

TEST_CASE("indexing: scatter_add errors", "[indexing]") {
    const Tensor x = x34();
    const Tensor src = f64({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4});
    CHECK_THROWS_AS(scatter_add(x, 0, i64({0, 1, 2, 0}, {1, 4}), src.to(kFloat32)), DtypeError);
    CHECK_THROWS_WITH(scatter_add(x, 0, i64({0, 1, 2, 0}, {1, 4}), src.to(kFloat32)),
                      Catch::Contains("xgrad::scatter_add"));
    CHECK_THROWS_AS(scatter_add(x, 0, i64({0, 0, 0, 0, 0, 0}, {3, 2}), src), ShapeError);
    CHECK_THROWS_WITH(scatter_add(x, 0, i64({0, 0, 0, 0, 0, 0}, {3, 2}), src),
                      Catch::Contains("xgrad::scatter_add") && Catch::Contains("[3, 2]"));
    CHECK_THROWS_AS(scatter_add(x, 1, i64({0, 0, 0, 0, 0}, {1, 5}), src), ShapeError);
    CHECK_THROWS_AS(scatter_add(x, 0, i64({0, 1}, {2}), src), ShapeError);
    CHECK_THROWS_AS(scatter_add(x, 0, i64({0, 5}, {1, 2}), src), IndexError);
    CHECK_THROWS_WITH(scatter_add(x, 0, i64({0, 5}, {1, 2}), src),
                      Catch::Contains("xgrad::scatter_add") && Catch::Contains("index 5") &&
                          Catch::Contains("size 3"));
    CHECK_THROWS_AS(scatter_add(x, 0, f64({0}, {1, 1}), src), DtypeError);
    Tensor b = tensor<bool>({true, false}, {2});
    CHECK_THROWS_AS(scatter_add(b, 0, i64({0}, {1}), b), DtypeError);
    CHECK_THROWS_WITH(scatter_add(b, 0, i64({0}, {1}), b), Catch::Contains("xgrad::scatter_add"));
}

// ---- index_add -----------------------------------------------------------------------------

TEST_CASE("indexing: index_add with duplicate indices and gradients", "[indexing]") {
    Tensor x = x34(true);
    Tensor src = f64({1.0, -2.0, 0.5, 3.0, 4.0, -1.5, 2.5, 0.0, 6.0}, {3, 3}, true);
    Tensor y = index_add(x, 1, i64({0, 2, 0}, {3}), src);
    check_values(y, {3, 4}, {2.0, -1.25, 0.0, 3.5, 0.75, 1.5, 1.75, 0.25, 12.5, -3.0, 1.75, -0.5});
    (y * y * weights({3, 4})).sum().backward();
    check_values(x.grad(), {3, 4},
                 {-4.0, 1.875, 0.0, -1.75, 0.0, 0.75, 1.75, 0.375, 25.0, -7.5, 5.25, -1.75});
    check_values(src.grad(), {3, 3}, {-4.0, 0.0, -4.0, 0.0, 1.75, 0.0, 25.0, 5.25, 25.0});
}

TEST_CASE("indexing: index_add on int64 and scalar inputs", "[indexing]") {
    Tensor a = tensor<std::int64_t>({1, 1, 1, 1, 1, 1}, {3, 2});
    Tensor r = index_add(a, 0, i64({2, 2}, {2}), tensor<std::int64_t>({5, 6, 7, 8}, {2, 2}));
    CHECK(r.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 1, 1, 13, 15});
    // a 0-d input: every index is 0, the source may list several values
    Tensor s = f64({5.0}, {}, true);
    Tensor src = f64({2.0, 3.0}, {2}, true);
    Tensor y = index_add(s, 0, i64({0, 0}, {2}), src);
    check_values(y, {}, {10.0});
    CHECK(gradcheck(
              [](const TensorList& in) {
                  return index_add(in[0], 0, i64({0, 0}, {2}), in[1]);
              },
              {s, src})
              .ok);
}

TEST_CASE("indexing: gradcheck and gradgradcheck index_add", "[indexing]") {
    Tensor x = random64({4, 3}, 51);
    Tensor src = random64({4, 5}, 52);
    const Tensor idx = i64({2, 0, 2, 2, 1}, {5});
    CHECK(
        gradcheck([idx](const TensorList& in) { return index_add(in[0], 1, idx, in[1]); }, {x, src})
            .ok);
    CHECK(gradgradcheck(
              [idx](const TensorList& in) {
                  Tensor y = index_add(in[0], 1, idx, in[1]);
                  return y * y;
              },
              {x, src})
              .ok);
}

TEST_CASE("indexing: index_add errors", "[indexing]") {
    const Tensor x = x34();
    const Tensor src = f64({1, 2, 3, 4, 5, 6}, {3, 2});
    CHECK_THROWS_AS(index_add(x, 1, i64({0, 1, 2}, {3}), src), ShapeError);
    CHECK_THROWS_WITH(index_add(x, 1, i64({0, 1, 2}, {3}), src),
                      Catch::Contains("xgrad::index_add") && Catch::Contains("3 elements"));
    CHECK_THROWS_AS(index_add(x, 0, i64({0, 1}, {2}), f64({1, 2, 3, 4, 5, 6}, {2, 3})), ShapeError);
    CHECK_THROWS_AS(index_add(x, 1, i64({0, 1, 2, 3, 0, 1}, {6}), f64({1, 2, 3, 4, 5, 6}, {6})),
                    ShapeError);
    CHECK_THROWS_AS(index_add(x, 1, i64({0, 4}, {2}), src), IndexError);
    CHECK_THROWS_WITH(index_add(x, 1, i64({0, 4}, {2}), src), Catch::Contains("xgrad::index_add") &&
                                                                  Catch::Contains("index 4") &&
                                                                  Catch::Contains("size 4"));
    CHECK_THROWS_AS(index_add(x, 1, i64({0, 1}, {2}), src.to(kFloat32)), DtypeError);
    CHECK_THROWS_WITH(index_add(x, 1, i64({0, 1}, {2}), src.to(kFloat32)),
                      Catch::Contains("xgrad::index_add"));
    CHECK_THROWS_AS(index_add(x, 1, i64({0, 1}, {1, 2}), src), IndexError);
    CHECK_THROWS_AS(index_add(x, 1, f64({0, 1}, {2}), src), DtypeError);
}

// ---- concat / stack / split ----------------------------------------------------------------

TEST_CASE("indexing: concat, stack, split values", "[indexing]") {
    Tensor a = f64({1, 2, 3, 4}, {2, 2});
    Tensor b = f64({5, 6}, {2, 1});
    Tensor c = f64({7, 8, 9, 10, 11, 12}, {2, 3});
    check_values(concat({a, b, c}, 1), {2, 6}, {1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12});
    check_values(cat({a, a}, 0), {4, 2}, {1, 2, 3, 4, 1, 2, 3, 4});
    check_values(stack({a, a + a}, 1), {2, 2, 2}, {1, 2, 2, 4, 3, 4, 6, 8});
    check_values(stack({a, a + a}, -1), {2, 2, 2}, {1, 2, 2, 4, 3, 6, 4, 8});
    TensorList parts = split(c, 2, 1);
    REQUIRE(parts.size() == 2);
    check_values(parts[0], {2, 2}, {7, 8, 10, 11});
    check_values(parts[1], {2, 1}, {9, 12});
}

TEST_CASE("indexing: gradcheck concat, stack, split", "[indexing]") {
    Tensor a = random64({2, 3}, 61);
    Tensor b = random64({2, 1}, 62);
    Tensor frozen = random64({2, 2}, 63).detach();  // does not require grad
    CHECK(gradcheck(
              [frozen](const TensorList& in) {
                  return concat({in[0], frozen, in[1]}, 1);
              },
              {a, b})
              .ok);
    CHECK(gradgradcheck(
              [frozen](const TensorList& in) {
                  Tensor y = concat({in[0] * in[0], frozen, in[1]}, -1);
                  return y * y;
              },
              {a, b})
              .ok);
    Tensor c = random64({2, 3}, 64);
    CHECK(gradcheck(
              [](const TensorList& in) {
                  return stack({in[0], in[1], in[0]}, 1);
              },
              {a, c})
              .ok);
    CHECK(gradcheck(
              [](const TensorList& in) {
                  TensorList p = split(in[0], 2, 1);
                  return p[1] * p[1] + p[0].sum();
              },
              {a})
              .ok);
}

TEST_CASE("indexing: concat gradient skips inputs without grad", "[indexing]") {
    Tensor a = f64({1, 2}, {2}, true);
    Tensor frozen = f64({3, 4, 5}, {3});
    Tensor y = concat({a, frozen}, 0);
    (y * f64({1, 2, 3, 4, 5}, {5})).sum().backward();
    check_values(a.grad(), {2}, {1, 2});
    CHECK_FALSE(frozen.grad().defined());
}

TEST_CASE("indexing: concat, stack, split errors", "[indexing]") {
    Tensor a = f64({1, 2, 3, 4}, {2, 2});
    CHECK_THROWS_AS(concat({}, 0), ValueError);
    CHECK_THROWS_WITH(concat({}, 0), Catch::Contains("xgrad::concat"));
    CHECK_THROWS_AS(concat({a, f64({1, 2, 3}, {3, 1})}, 1), ShapeError);
    CHECK_THROWS_WITH(concat({a, f64({1, 2, 3}, {3, 1})}, 1),
                      Catch::Contains("xgrad::concat") && Catch::Contains("[3, 1]"));
    CHECK_THROWS_AS(concat({a, a.to(kFloat32)}, 0), DtypeError);
    CHECK_THROWS_AS(concat({a, a}, 2), IndexError);
    CHECK_THROWS_AS(stack({a, f64({1, 2}, {2})}, 0), ShapeError);
    CHECK_THROWS_WITH(stack({a, f64({1, 2}, {2})}, 0), Catch::Contains("xgrad::stack"));
    CHECK_THROWS_AS(stack({}, 0), ValueError);
    CHECK_THROWS_AS(split(a, 0, 0), ValueError);
    CHECK_THROWS_WITH(split(a, 0, 0), Catch::Contains("xgrad::split"));
    CHECK_THROWS_AS(split(a, 1, 5), IndexError);
}

// ---- pad -----------------------------------------------------------------------------------

TEST_CASE("indexing: pad values (positive, mixed, negative)", "[indexing]") {
    check_values(pad(f64({1, 2, 3, 4}, {2, 2}), {1, 1, 1, 0}, -1.0), {3, 4},
                 {-1.0, -1.0, -1.0, -1.0, -1.0, 1.0, 2.0, -1.0, -1.0, 3.0, 4.0, -1.0});
    Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}, true);
    Tensor y = pad(x, {1, 2, -1, 1}, 0.5);
    check_values(y, {2, 6}, {0.5, 4.0, 5.0, 6.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5});
    (y * weights({2, 6})).sum().backward();
    check_values(x.grad(), {2, 3}, {0.0, 0.0, 0.0, -0.75, -0.5, -0.25});

    Tensor z = f64({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4}, true);
    Tensor c = pad(z, {-1, -2});
    check_values(c, {2, 1}, {2.0, 6.0});
    (c * weights({2, 1})).sum().backward();
    check_values(z.grad(), {2, 4}, {0.0, -1.0, 0.0, 0.0, 0.0, -0.75, 0.0, 0.0});

    check_values(
        pad(arange(0.0, 8.0, 1.0, TensorOptions{kFloat64}).reshape({2, 2, 2}), {0, 1, 1, 0, 1, 0}),
        {3, 3, 3}, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
                    0.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0, 4.0, 5.0, 0.0, 6.0, 7.0, 0.0});
    // cropping everything leaves a zero-size dimension; empty pads copy
    CHECK(pad(z, {-4, 0}).shape() == Shape{2, 0});
    check_values(pad(scalar_tensor(3.0, TensorOptions{kFloat64}), {}), {}, {3.0});
}

TEST_CASE("indexing: pad on int64 and bool tensors", "[indexing]") {
    Tensor a = tensor<std::int64_t>({1, 2}, {2});
    CHECK(pad(a, {1, 2}, 7.0).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{7, 1, 2, 7, 7});
    Tensor b = tensor<bool>({true}, {1});
    CHECK(pad(b, {1, 0}).to_vector<bool>() == std::vector<bool>{false, true});
}

TEST_CASE("indexing: gradcheck and gradgradcheck pad", "[indexing]") {
    Tensor x = random64({2, 3, 4}, 71);
    CHECK(gradcheck([](const TensorList& in) { return pad(in[0], {1, 2, 0, 1}, 0.25); }, {x}).ok);
    CHECK(gradcheck(
              [](const TensorList& in) {
                  return pad(in[0], {-1, 1, 2, -2, -1, 0});
              },
              {x})
              .ok);
    CHECK(gradgradcheck(
              [](const TensorList& in) {
                  Tensor y = pad(in[0], {2, -1, -1, 1}, 1.5);
                  return y * y;
              },
              {x})
              .ok);
    CHECK(gradgradcheck([](const TensorList& in) { return pad(in[0].pow(3.0), {1, 1}); }, {x}).ok);
}

TEST_CASE("indexing: pad errors", "[indexing]") {
    Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK_THROWS_AS(pad(a, {1}), ValueError);
    CHECK_THROWS_WITH(pad(a, {1}), Catch::Contains("xgrad::pad"));
    CHECK_THROWS_AS(pad(a, {1, 1, 1, 1, 1, 1}), ShapeError);
    CHECK_THROWS_WITH(pad(a, {1, 1, 1, 1, 1, 1}),
                      Catch::Contains("xgrad::pad") && Catch::Contains("[2, 3]"));
    CHECK_THROWS_AS(pad(a, {-2, -2}), ShapeError);
    CHECK_THROWS_WITH(pad(a, {-2, -2}), Catch::Contains("xgrad::pad"));
    CHECK_THROWS_AS(pad(a, {-4, 2}), ShapeError);
    CHECK_THROWS_AS(pad(tensor<std::int64_t>({1}, {1}), {1, 1}, 2.5), DtypeError);
    CHECK_THROWS_WITH(pad(tensor<std::int64_t>({1}, {1}), {1, 1}, 2.5),
                      Catch::Contains("xgrad::pad"));
}
