// Gradient clipping against PyTorch 1.13 (clip_grad_norm_, clip_grad_value_) and bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>
#include <xgrad/optim.hpp>
#include <xgrad/xgrad.hpp>

#include "reference/optim_reference_data.hpp"

using namespace xgrad;
namespace ref = optim_reference;
using Catch::Contains;

namespace {

// Parameters [2, 3], [4], [1] whose gradients are the reference's.
std::vector<Tensor> params_with_grads(Dtype dtype = kFloat64) {
    const std::vector<Shape> shapes = {{2, 3}, {4}, {1}};
    std::vector<Tensor> ps;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        Tensor p = zeros(shapes[i], {.dtype = dtype, .requires_grad = true});
        p.set_grad(tensor(ref::clip_grads[i], shapes[i], {.dtype = dtype}));
        ps.push_back(p);
    }
    return ps;
}

std::vector<double> all_grads(const std::vector<Tensor>& ps) {
    std::vector<double> v;
    for (const Tensor& p : ps) {
        const auto g = p.grad().to_vector<double>();
        v.insert(v.end(), g.begin(), g.end());
    }
    return v;
}

}  // namespace

TEST_CASE("clip_grad_norm_ matches PyTorch for p-norms and the inf norm", "[optim]") {
    REQUIRE(ref::clip_norm_cases().size() == 10);
    for (const auto& c : ref::clip_norm_cases()) {
        INFO("norm_type " << c.norm_type << ", max_norm " << c.max_norm);
        auto ps = params_with_grads();
        const double total = optim::clip_grad_norm_(ps, c.max_norm, c.norm_type);
        CHECK(total == Approx(c.total_norm).epsilon(1e-12));
        const auto got = all_grads(ps);
        REQUIRE(got.size() == c.grads.size());
        for (std::size_t i = 0; i < got.size(); ++i)
            CHECK(got[i] == Approx(c.grads[i]).epsilon(1e-12).margin(1e-300));
        if (c.max_norm > c.total_norm) CHECK(got == all_grads(params_with_grads()));
    }
    // the inf-norm constant
    auto ps = params_with_grads();
    CHECK(optim::clip_grad_norm_(ps, 100.0, optim::inf_norm) == 4.0);
}

TEST_CASE("clip_grad_norm_ in float32, with missing gradients and without any", "[optim]") {
    auto ps = params_with_grads(kFloat32);
    const auto& c = ref::clip_norm_cases().front();  // 2-norm, max_norm 1
    REQUIRE(c.norm_type == 2.0);
    const double total = optim::clip_grad_norm_(ps, c.max_norm);
    CHECK(total == Approx(c.total_norm).epsilon(1e-6));
    const auto got = all_grads(ps);
    for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(got[i] == Approx(c.grads[i]).epsilon(1e-5).margin(1e-7));
    CHECK(ps[0].grad().dtype() == kFloat32);

    // parameters without a gradient are skipped; none at all gives 0
    Tensor lonely = zeros({3}, {.dtype = kFloat64, .requires_grad = true});
    auto some = params_with_grads();
    some.push_back(lonely);
    CHECK(optim::clip_grad_norm_(some, 1.0) == Approx(c.total_norm).epsilon(1e-12));
    CHECK_FALSE(lonely.grad().defined());
    CHECK(optim::clip_grad_norm_({lonely}, 1.0) == 0.0);
    CHECK(optim::clip_grad_norm_({}, 1.0) == 0.0);
}

TEST_CASE("clip_grad_norm_ with a non-finite norm", "[optim]") {
    auto ps = params_with_grads();
    {
        NoGradGuard no_grad;
        ps[1].grad().fill_(INFINITY);
    }
    const auto before = all_grads(ps);
    CHECK_THROWS_AS(optim::clip_grad_norm_(ps, 1.0, 2.0, true), ValueError);
    CHECK_THROWS_WITH(optim::clip_grad_norm_(ps, 1.0, 2.0, true),
                      Contains("xgrad::optim::clip_grad_norm_") && Contains("is inf"));
    CHECK(all_grads(ps) == before);  // unchanged on failure
    // as PyTorch without error_if_nonfinite: scaled by max_norm / inf = 0 (inf * 0 = nan)
    CHECK(std::isinf(optim::clip_grad_norm_(ps, 1.0)));
    const auto after = all_grads(ps);
    CHECK(after[0] == 0.0);
    CHECK(std::isnan(after[6]));
}

TEST_CASE("clip_grad_value_ matches PyTorch", "[optim]") {
    auto ps = params_with_grads();
    optim::clip_grad_value_(ps, 0.6);
    CHECK(all_grads(ps) == ref::clip_value_0_6);
    auto ps32 = params_with_grads(kFloat32);
    optim::clip_grad_value_(ps32, 0.6);
    const auto got = all_grads(ps32);
    for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(got[i] == Approx(ref::clip_value_0_6[i]).epsilon(1e-6));
}

TEST_CASE("clipping rejects bad arguments and changes nothing", "[optim]") {
    auto ps = params_with_grads();
    const auto before = all_grads(ps);
    CHECK_THROWS_AS(optim::clip_grad_norm_(ps, -1.0), ValueError);
    CHECK_THROWS_WITH(optim::clip_grad_norm_(ps, -1.0),
                      Contains("xgrad::optim::clip_grad_norm_") && Contains("max_norm -1"));
    CHECK_THROWS_WITH(optim::clip_grad_norm_(ps, 1.0, 0.0), Contains("norm_type 0"));
    CHECK_THROWS_WITH(optim::clip_grad_norm_(ps, 1.0, -2.0), Contains("norm_type -2"));
    CHECK_THROWS_WITH(optim::clip_grad_norm_(ps, 1.0, NAN), Contains("norm_type nan"));
    CHECK_THROWS_WITH(optim::clip_grad_norm_({ps[0], Tensor()}, 1.0),
                      Contains("parameter 1 is an undefined tensor"));
    CHECK_THROWS_WITH(optim::clip_grad_value_(ps, -0.5),
                      Contains("xgrad::optim::clip_grad_value_") && Contains("clip_value -0.5"));
    CHECK_THROWS_AS(optim::clip_grad_value_({Tensor()}, 1.0), ValueError);
    CHECK(all_grads(ps) == before);
}

TEST_CASE("clipping fits in a training step", "[optim]") {
    Tensor w = tensor({3.0, -4.0}, {.dtype = kFloat64, .requires_grad = true});
    optim::SGD opt({w}, {.lr = 0.1});
    opt.zero_grad();
    (w * w).sum().backward();  // gradient (6, -8), norm 10
    CHECK(optim::clip_grad_norm_(opt.parameters(), 1.0) == Approx(10.0));
    opt.step();
    const auto v = w.to_vector<double>();
    CHECK(v[0] == Approx(3.0 - 0.1 * 0.6).epsilon(1e-6));
    CHECK(v[1] == Approx(-4.0 + 0.1 * 0.8).epsilon(1e-6));
}
