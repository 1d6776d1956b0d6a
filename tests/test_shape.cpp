// Shape ops: no-copy views, permutes, broadcasting and their gradients.
#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
using autograd::gradcheck;
using autograd::gradgradcheck;

namespace {
Tensor leaf(const Shape& shape, std::uint64_t seed) {
    Generator g(seed);
    return randn(shape, g, {kFloat64}).requires_grad_();
}
}  // namespace

TEST_CASE("reshape family shares storage", "[shape]") {
    Tensor x = arange(0.0, 6.0, 1.0);
    Tensor r = x.reshape({2, 3});
    CHECK(r.shape() == Shape{2, 3});
    CHECK(r.data_ptr<float>() == x.data_ptr<float>());
    CHECK(x.view({3, -1}).shape() == Shape{3, 2});
    CHECK(x.view({3, -1}).data_ptr<float>() == x.data_ptr<float>());
    CHECK(r.flatten().data_ptr<float>() == x.data_ptr<float>());
    CHECK(r.unsqueeze(0).shape() == Shape{1, 2, 3});
    CHECK(r.unsqueeze(-1).shape() == Shape{2, 3, 1});
    CHECK(r.unsqueeze(1).data_ptr<float>() == x.data_ptr<float>());
    CHECK(zeros({1, 3, 1}).squeeze().shape() == Shape{3});
    CHECK(zeros({1, 3, 1}).squeeze(0).shape() == Shape{3, 1});
    CHECK(zeros({1, 3, 1}).squeeze(1).shape() == Shape{1, 3, 1});
    CHECK(zeros({2, 3, 4, 5}).flatten(1, 2).shape() == Shape{2, 12, 5});
    // An in-place write through a view is visible in the original, as in PyTorch.
    r.fill_(1.0);
    CHECK(x.sum().item<float>() == 6.f);
    CHECK_THROWS_AS(x.reshape({4, 2}), ShapeError);
    CHECK_THROWS_WITH(x.reshape({4, 2}), Catch::Contains("xgrad::reshape") &&
                                             Catch::Contains("[6]") && Catch::Contains("[4, 2]"));
    CHECK_THROWS_AS(x.reshape({-1, -1}), ShapeError);
    CHECK_THROWS_AS(x.unsqueeze(3), IndexError);
    CHECK_THROWS_AS(zeros({2, 3}).flatten(1, 0), IndexError);
}

TEST_CASE("transpose, permute and expand copy correctly", "[shape]") {
    Tensor x = arange(0.0, 6.0, 1.0).reshape({2, 3});
    CHECK(x.t().to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
    CHECK(x.t().shape() == Shape{3, 2});
    Tensor y = arange(0.0, 24.0, 1.0).reshape({2, 3, 4});
    Tensor p = y.permute({2, 0, 1});
    CHECK(p.shape() == Shape{4, 2, 3});
    CHECK(p.to_vector<float>()[1] == 4.f);   // p[0,0,1] = y[0,1,0]
    CHECK(p.to_vector<float>()[3] == 12.f);  // p[0,1,0] = y[1,0,0]
    CHECK(y.transpose(0, 2).shape() == Shape{4, 3, 2});
    Tensor e = tensor({1.f, 2.f}).reshape({2, 1}).expand({2, 3});
    CHECK(e.to_vector<float>() == std::vector<float>{1, 1, 1, 2, 2, 2});
    CHECK(tensor({1.f, 2.f}).expand({3, -1}).shape() == Shape{3, 2});
    CHECK(broadcast_to(scalar_tensor(3.f), {2, 2}).to_vector<float>() ==
          std::vector<float>(4, 3.f));
    CHECK(sum_to(ones({2, 3, 4}), {3, 1}).to_vector<float>() == std::vector<float>(3, 8.f));
    CHECK_THROWS_AS(y.permute({0, 0, 1}), IndexError);
    CHECK_THROWS_AS(y.permute({0, 1}), ShapeError);
    CHECK_THROWS_AS(tensor({1.f, 2.f}).expand({3}), ShapeError);
    CHECK_THROWS_AS(sum_to(ones({2, 3}), {4}), ShapeError);
    CHECK_THROWS_AS(y.t(), ShapeError);
}

TEST_CASE("gradcheck: shape ops", "[shape][gradcheck]") {
    Tensor x = leaf({2, 3, 4}, 1);
    Tensor v = leaf({3, 1}, 2);
    auto check = [](const autograd::TensorFunction& f, const TensorList& in) {
        CHECK(gradcheck(f, in).ok);
        CHECK(gradgradcheck(f, in).ok);
    };
    check([](const TensorList& a) { return a[0].reshape({4, 6}) * 2.0; }, {x});
    check([](const TensorList& a) { return a[0].view({-1}).pow(2.0); }, {x});
    check([](const TensorList& a) { return a[0].flatten(1).sin(); }, {x});
    check([](const TensorList& a) { return a[0].unsqueeze(1).squeeze(1).exp(); }, {x});
    check(
        [](const TensorList& a) {
            return a[0].permute({2, 0, 1}) * a[0].permute({2, 0, 1});
        },
        {x});
    check([](const TensorList& a) { return a[0].transpose(0, 2).tanh(); }, {x});
    check([](const TensorList& a) { return a[0].expand({2, 3, 5}) * 1.5; }, {v});
    check([](const TensorList& a) { return sum_to(a[0], {3, 1}).pow(2.0); }, {x});
}
