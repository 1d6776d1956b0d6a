// <xgrad/xtensor.hpp>: zero-copy views of tensors as xtensor expressions, expressions evaluated
// into tensors, and external memory wrapped without a copy (from_blob). Built as C++17, as a
// user of this header on Debian's xtensor 0.24.3 must (see the header).
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include <xgrad/xgrad.hpp>
#include <xgrad/xtensor.hpp>

using namespace xgrad;

TEST_CASE("as_xtensor views share the tensor's data and shape, for every dtype and rank",
          "[xtensor]") {
    for (const Shape& shape : std::vector<Shape>{{}, {5}, {2, 3}, {2, 3, 4}, {2, 1, 3, 2}}) {
        INFO("shape " << shape_str(shape));
        Tensor f = arange(0.0, double(shape_numel(shape)), {.dtype = kFloat32}).reshape(shape);
        Tensor d = f.to(kFloat64), i = f.to(kInt64), b = f > 2.0;
        auto fv = as_xtensor<float>(f);
        REQUIRE(fv.dimension() == shape.size());
        for (std::size_t k = 0; k < shape.size(); ++k)
            CHECK(fv.shape()[k] == static_cast<std::size_t>(shape[k]));
        CHECK(fv.data() == f.data_ptr<float>());  // no copy
        // Writes through the view are the tensor's new values.
        fv += 1.f;
        const std::vector<double> after = f.to_vector<double>();
        for (std::size_t k = 0; k < after.size(); ++k) CHECK(after[k] == double(k) + 1);
        auto dv = as_xtensor<double>(std::as_const(d));
        auto iv = as_xtensor<std::int64_t>(std::as_const(i));
        auto bv = as_xtensor<bool>(std::as_const(b));
        CHECK(dv.size() == static_cast<std::size_t>(d.numel()));
        for (std::size_t k = 0; k < dv.size(); ++k) {
            CHECK(dv.data()[k] == double(k));
            CHECK(iv.data()[k] == std::int64_t(k));
            CHECK(bv.data()[k] == (k > 2));
        }
    }
}

TEST_CASE("a view keeps the data alive after its tensor is gone", "[xtensor]") {
    auto view = as_xtensor<float>(arange(0.0, 4.0));  // a temporary: a read-only view
    Tensor t = full({3}, 7.0);
    auto v2 = as_xtensor<float>(t);
    t = Tensor();  // the view still holds the storage
    CHECK(view(3) == 3.f);
    CHECK(v2(1) == 7.f);
    v2(1) = 8.f;
    CHECK(v2(1) == 8.f);
}

TEST_CASE("a writable view bumps the version; a read-only one does not", "[xtensor]") {
    Tensor x = randn({4, 3}, {.dtype = kFloat64});
    const std::uint64_t v0 = x.version();
    auto read = as_xtensor<double>(std::as_const(x));
    CHECK(x.version() == v0);
    auto write = as_xtensor<double>(x);
    CHECK(x.version() > v0);
    // A value saved for backward before the write is refused, not silently read.
    Tensor w = randn({4, 3}, {.dtype = kFloat64, .requires_grad = true});
    Tensor a = randn({4, 3}, {.dtype = kFloat64});
    Tensor y = (w * a).sum();  // saves a
    auto av = as_xtensor<double>(a);
    av *= 2.0;
    CHECK_THROWS_AS(y.backward(), AutogradError);
    (void)read;
    (void)write;
}

TEST_CASE("as_xtensor names both dtypes when they differ", "[xtensor]") {
    Tensor x = zeros({2, 2});
    CHECK_THROWS_AS(as_xtensor<double>(x), DtypeError);
    CHECK_THROWS_WITH(as_xtensor<double>(std::as_const(x)), Catch::Contains("as_xtensor") &&
                                                                Catch::Contains("float32") &&
                                                                Catch::Contains("float64"));
    const Tensor undefined;
    CHECK_THROWS_AS(as_xtensor<float>(undefined), ValueError);
}

TEST_CASE("from_xtensor evaluates an expression into a new tensor", "[xtensor]") {
    xt::xarray<double> a = {{1., 2., 3.}, {4., 5., 6.}};
    Tensor t = from_xtensor(a * 2.0 + 1.0);
    CHECK(t.dtype() == kFloat64);
    CHECK(t.shape() == Shape{2, 3});
    CHECK(t.to_vector<double>() == std::vector<double>{3, 5, 7, 9, 11, 13});
    a(0, 0) = 100.;  // the tensor owns its copy
    CHECK(t.to_vector<double>()[0] == 3);
    // Value types pick the dtype; options convert.
    CHECK(from_xtensor(xt::xarray<float>{1.f, 2.f}).dtype() == kFloat32);
    CHECK(from_xtensor(xt::xarray<int>{1, 2}).dtype() == kInt64);
    CHECK(from_xtensor(xt::xarray<bool>{true, false}).dtype() == kBool);
    Tensor c = from_xtensor(xt::xarray<double>{1.5, -2.5}, {.dtype = kInt64});
    CHECK(c.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2});
    Tensor s = from_xtensor(xt::xarray<double>(3.5));  // rank 0
    CHECK(s.dim() == 0);
    CHECK(s.item<double>() == 3.5);
    Tensor g = from_xtensor(xt::linspace<double>(0., 1., 5), {.requires_grad = true});
    CHECK(g.requires_grad());
    // Round trip: tensor -> view -> expression -> tensor.
    Tensor r = randn({3, 4, 2}, {.dtype = kFloat64});
    Tensor back = from_xtensor(xt::transpose(as_xtensor<double>(std::as_const(r)), {1, 0, 2}));
    CHECK(back.to_vector<double>() == r.permute({1, 0, 2}).to_vector<double>());
}

TEST_CASE("from_blob wraps external memory without a copy", "[xtensor]") {
    std::vector<float> mem = {1, 2, 3, 4, 5, 6};
    Tensor t = from_blob(mem.data(), {2, 3});
    CHECK(t.dtype() == kFloat32);
    CHECK(t.data_ptr<float>() == mem.data());
    t.copy_(t * 2.0);  // in place: the caller's memory changes
    CHECK(mem == std::vector<float>{2, 4, 6, 8, 10, 12});
    Tensor owned = t.clone();
    mem[0] = -1;
    CHECK(owned.to_vector<float>()[0] == 2);
    CHECK(t.to_vector<float>()[0] == -1);
    // Ops and autograd work on it as on any tensor.
    std::vector<double> wmem = {0.5, -1.0, 2.0};
    Tensor w = from_blob(wmem.data(), {3}, {.dtype = kFloat64, .requires_grad = true});
    (w * w).sum().backward();
    CHECK(w.grad().to_vector<double>() == std::vector<double>{1.0, -2.0, 4.0});
}

TEST_CASE("from_blob calls the deleter once, when the last tensor goes", "[xtensor]") {
    int calls = 0;
    auto* buf = new double[4]{1, 2, 3, 4};
    {
        Tensor t = from_blob(buf, {4},
                             [&calls](void* p) {
                                 ++calls;
                                 delete[] static_cast<double*>(p);
                             },
                             {.dtype = kFloat64});
        Tensor view = t.reshape({2, 2});  // shares the storage
        t = Tensor();
        CHECK(calls == 0);
        CHECK(view.sum().item<double>() == 10);
    }
    CHECK(calls == 1);
}

TEST_CASE("from_blob refuses null and misaligned pointers and bad shapes", "[xtensor]") {
    CHECK_THROWS_AS(from_blob(nullptr, {3}), ValueError);
    CHECK_NOTHROW(from_blob(nullptr, {0}));  // nothing to read
    alignas(8) unsigned char raw[64] = {};
    CHECK_THROWS_WITH(from_blob(raw + 1, {2}, {.dtype = kFloat64}),
                      Catch::Contains("from_blob") && Catch::Contains("aligned"));
    CHECK_THROWS_AS(from_blob(raw, {-1}), Error);
    CHECK_THROWS_AS(from_blob(raw, {2}, {.dtype = kInt64, .requires_grad = true}), DtypeError);
}
