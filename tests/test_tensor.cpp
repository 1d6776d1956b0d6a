// Tensor creation, read-out, dtypes, random generators and printing.
#include <catch2/catch.hpp>
#include <sstream>
#include <xgrad/xgrad.hpp>

using namespace xgrad;

static std::string str(const Tensor& t) {
    std::ostringstream os;
    os << t;
    return os.str();
}

TEST_CASE("tensor from values: shapes and dtypes", "[tensor]") {
    Tensor a = tensor({1.f, 2.f, 3.f});
    CHECK(a.shape() == Shape{3});
    CHECK(a.dtype() == kFloat32);
    Tensor b = tensor({{1, 2, 3}, {4, 5, 6}});
    CHECK(b.shape() == Shape{2, 3});
    CHECK(b.dtype() == kInt64);
    CHECK(b.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6});
    Tensor c = tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2}, {kFloat64});
    CHECK(c.dtype() == kFloat64);
    CHECK(c.size(0) == 3);
    CHECK(c.size(-1) == 2);
    CHECK(c.dim() == 2);
    CHECK(c.numel() == 6);
    CHECK(scalar_tensor(2.5).item<float>() == 2.5f);
    CHECK(scalar_tensor(2.5).dim() == 0);
    CHECK_THROWS_AS(tensor(std::vector<float>{1, 2, 3}, {2, 2}), ShapeError);
    CHECK_THROWS_AS((tensor({{1.f, 2.f}, {3.f}})), ShapeError);
}

TEST_CASE("filled, ranges and identity", "[tensor]") {
    CHECK(zeros({2, 2}).to_vector<float>() == std::vector<float>(4, 0.f));
    CHECK(ones({3}, {kFloat64}).to_vector<double>() == std::vector<double>(3, 1.0));
    CHECK(full({2}, 7.5).to_vector<float>() == std::vector<float>{7.5f, 7.5f});
    Tensor r = arange(5);
    CHECK(r.dtype() == kInt64);
    CHECK(r.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3, 4});
    Tensor rf = arange(0.0, 1.0, 0.25);
    CHECK(rf.dtype() == kFloat32);
    CHECK(rf.to_vector<float>() == std::vector<float>{0.f, .25f, .5f, .75f});
    CHECK(arange(1, 10, 3).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 4, 7});
    CHECK_THROWS_AS(arange(0, 5, 0), ValueError);
    CHECK_THROWS_AS(arange(5, 0, 1), ValueError);
    Tensor l = linspace(0, 1, 5, {kFloat64});
    CHECK(l.to_vector<double>() == std::vector<double>{0, .25, .5, .75, 1});
    CHECK(linspace(-1, 1, 1).to_vector<float>() == std::vector<float>{-1});
    Tensor e = eye(2, 3);
    CHECK(e.to_vector<float>() == std::vector<float>{1, 0, 0, 0, 1, 0});
    CHECK(zeros_like(e).shape() == Shape{2, 3});
    CHECK(ones_like(r).dtype() == kInt64);
    CHECK(full_like(e, 2, {kFloat64}).dtype() == kFloat64);
    CHECK_THROWS_AS(zeros({2, -1}), ValueError);
}

TEST_CASE("random tensors are reproducible and well distributed", "[tensor]") {
    manual_seed(7);
    Tensor a = randn({1000});
    manual_seed(7);
    Tensor b = randn({1000});
    CHECK(a.to_vector<float>() == b.to_vector<float>());
    Generator g1(3), g2(3);
    CHECK(rand({5}, g1).to_vector<float>() == rand({5}, g2).to_vector<float>());
    CHECK(rand({5}, g1).to_vector<float>() != rand({5}, g1).to_vector<float>());

    Generator g(11);
    Tensor n = randn({20000}, g, {kFloat64});
    CHECK(n.mean().item<double>() == Approx(0).margin(0.03));
    CHECK(n.std().item<double>() == Approx(1).margin(0.03));
    Tensor u = rand({20000}, g, {kFloat64});
    auto uv = u.to_vector<double>();
    CHECK(*std::min_element(uv.begin(), uv.end()) >= 0.0);
    CHECK(*std::max_element(uv.begin(), uv.end()) < 1.0);
    CHECK(u.mean().item<double>() == Approx(0.5).margin(0.01));
    Tensor ri = randint(-2, 3, {5000}, g);
    auto rv = ri.to_vector<std::int64_t>();
    CHECK(*std::min_element(rv.begin(), rv.end()) == -2);
    CHECK(*std::max_element(rv.begin(), rv.end()) == 2);
    CHECK_THROWS_AS(randint(3, 3, {2}), ValueError);
    CHECK_THROWS_AS(randn({2}, {kInt64}), DtypeError);
}

TEST_CASE("item, to_vector and data_ptr check their arguments", "[tensor]") {
    Tensor a = tensor({1.f, 2.f});
    CHECK_THROWS_AS(a.item<float>(), ValueError);
    CHECK_THROWS_WITH(a.item<float>(), Catch::Contains("xgrad::item") && Catch::Contains("[2]"));
    CHECK_THROWS_AS(a.data_ptr<double>(), DtypeError);
    CHECK(a.data_ptr<float>()[1] == 2.f);
    CHECK(a.to_vector<double>() == std::vector<double>{1, 2});
    Tensor undefined;
    CHECK_FALSE(undefined.defined());
    CHECK_THROWS_AS(undefined.shape(), ValueError);
}

TEST_CASE("dtype conversion", "[tensor]") {
    Tensor a = tensor({1.5f, -2.5f});
    CHECK(a.to(kFloat64).to_vector<double>() == std::vector<double>{1.5, -2.5});
    CHECK(a.to(kInt64).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2});
    CHECK(a.to(kBool).to_vector<bool>() == std::vector<bool>{true, true});
    CHECK(a.to(kFloat32).is_same(a));
    // Conversion between floating dtypes carries the gradient.
    Tensor x = tensor({1.0, 2.0}, {kFloat64, true});
    (x.to(kFloat32) * 3.f).sum().backward();
    CHECK(x.grad().dtype() == kFloat64);
    CHECK(x.grad().to_vector<double>() == std::vector<double>{3, 3});
}

TEST_CASE("mixing dtypes is an error, not a silent cast", "[tensor]") {
    Tensor a = tensor({1.f, 2.f});
    Tensor b = tensor({1.0, 2.0}, {kFloat64});
    CHECK_THROWS_AS(a + b, DtypeError);
    CHECK_THROWS_WITH(a * b, Catch::Contains("xgrad::mul") && Catch::Contains("float32 [2]") &&
                                 Catch::Contains("float64 [2]"));
    CHECK_THROWS_AS(arange(3) + 0.5, DtypeError);
    CHECK_THROWS_AS(exp(arange(3)), DtypeError);
}

TEST_CASE("requires_grad only on floating leaves", "[tensor]") {
    Tensor i = arange(3);
    CHECK_THROWS_AS(i.requires_grad_(), DtypeError);
    CHECK_THROWS_WITH(i.requires_grad_(), Catch::Contains("int64") && Catch::Contains("[3]"));
    CHECK_THROWS_AS(ones({2}, {kInt64, true}), DtypeError);
    Tensor x = ones({2}, {kFloat32, true});
    CHECK(x.requires_grad());
    CHECK(x.is_leaf());
    Tensor y = x * 2.f;
    CHECK(y.requires_grad());
    CHECK_FALSE(y.is_leaf());
    CHECK_THROWS_AS(y.requires_grad_(false), AutogradError);
}

TEST_CASE("printing follows PyTorch", "[tensor]") {
    CHECK(str(tensor({1.f, 2.f, 3.f})) == "tensor([1., 2., 3.])");
    CHECK(str(tensor({{1.5f, -2.f}, {3.f, 4.25f}})) ==
          "tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.2500]])");
    CHECK(str(tensor({1, 20})) == "tensor([ 1, 20])");
    CHECK(str(scalar_tensor(0.5)) == "tensor(0.5000)");
    CHECK(str(tensor({1.0}, {kFloat64})) == "tensor([1.], dtype=float64)");
    CHECK(str(ones({2}, {kFloat32, true})) == "tensor([1., 1.], requires_grad=True)");
    Tensor x = ones({2}, {kFloat32, true});
    CHECK(str(x * x) == "tensor([1., 1.], grad_fn=<MulBackward>)");
    CHECK(str(tensor({1.f, 2.f}) > 1.5) == "tensor([False,  True])");
    CHECK(str(zeros({0, 3})) == "tensor([], size=[0, 3])");
    CHECK(str(arange(2000)).find("...") != std::string::npos);
    CHECK(str(zeros({2, 1, 2})) == "tensor([[[0., 0.]],\n\n        [[0., 0.]]])");
}
