// ExponentialMovingAverage: values against a hand computation, warm-up, swapping the averages in
// and out, float32, the tape left alone, and bad input.
#include <catch2/catch.hpp>
#include <vector>
#include <xgrad/optim.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
using Catch::Contains;

namespace {

Tensor leaf(std::vector<double> values, Dtype dtype = kFloat64) {
    const std::int64_t n = static_cast<std::int64_t>(values.size());
    return tensor(values, {n}, {.dtype = dtype, .requires_grad = true});
}

void set_values(Tensor& p, std::vector<double> values) {
    NoGradGuard no_grad;
    p.copy_(tensor(values, {static_cast<std::int64_t>(values.size())}, {.dtype = p.dtype()}));
}

}  // namespace

TEST_CASE("EMA: averages follow a = d a + (1 - d) p, computed by hand", "[optim][ema]") {
    Tensor w = leaf({1.0, -2.0});
    Tensor b = leaf({4.0});
    optim::ExponentialMovingAverage ema({w, b}, {.decay = 0.9});
    REQUIRE(ema.num_updates() == 0);
    // The averages start as copies of the parameters.
    CHECK(ema.averaged()[0].to_vector<double>() == std::vector<double>{1.0, -2.0});
    CHECK_FALSE(ema.averaged()[0].requires_grad());
    CHECK_FALSE(ema.averaged()[0].is_same(w));

    set_values(w, {2.0, 0.0});
    set_values(b, {3.0});
    ema.update();
    // 0.9 * 1 + 0.1 * 2 = 1.1; 0.9 * -2 + 0.1 * 0 = -1.8; 0.9 * 4 + 0.1 * 3 = 3.9
    auto a = ema.averaged()[0].to_vector<double>();
    CHECK(a[0] == Approx(1.1).epsilon(1e-14));
    CHECK(a[1] == Approx(-1.8).epsilon(1e-14));
    CHECK(ema.averaged()[1].item<double>() == Approx(3.9).epsilon(1e-14));

    set_values(w, {3.0, 1.0});
    ema.update();
    // 0.9 * 1.1 + 0.1 * 3 = 1.29; 0.9 * -1.8 + 0.1 * 1 = -1.52; b unchanged: 0.9 * 3.9 + 0.3 = 3.81
    a = ema.averaged()[0].to_vector<double>();
    CHECK(a[0] == Approx(1.29).epsilon(1e-14));
    CHECK(a[1] == Approx(-1.52).epsilon(1e-14));
    CHECK(ema.averaged()[1].item<double>() == Approx(3.81).epsilon(1e-14));
    CHECK(ema.num_updates() == 2);
    // The parameters themselves are untouched.
    CHECK(w.to_vector<double>() == std::vector<double>{3.0, 1.0});
}

TEST_CASE("EMA: decay 0 follows the parameters, decay 1 keeps the start", "[optim][ema]") {
    Tensor p = leaf({1.0, 2.0});
    optim::ExponentialMovingAverage follow({p}, {.decay = 0.0});
    optim::ExponentialMovingAverage keep({p}, {.decay = 1.0});
    set_values(p, {5.0, 7.0});
    follow.update();
    keep.update();
    CHECK(follow.averaged()[0].to_vector<double>() == std::vector<double>{5.0, 7.0});
    CHECK(keep.averaged()[0].to_vector<double>() == std::vector<double>{1.0, 2.0});
}

TEST_CASE("EMA: warm-up uses min(decay, (1 + n) / (10 + n))", "[optim][ema]") {
    Tensor p = leaf({0.0});
    optim::ExponentialMovingAverage ema({p}, {.decay = 0.5, .warmup = true});
    CHECK(ema.next_decay() == Approx(2.0 / 11.0));  // update 1
    set_values(p, {11.0});
    ema.update();  // 2/11 * 0 + 9/11 * 11 = 9
    CHECK(ema.averaged()[0].item<double>() == Approx(9.0).epsilon(1e-14));
    CHECK(ema.next_decay() == Approx(3.0 / 12.0));  // update 2
    set_values(p, {1.0});
    ema.update();  // 0.25 * 9 + 0.75 * 1 = 3
    CHECK(ema.averaged()[0].item<double>() == Approx(3.0).epsilon(1e-14));
    // From update 8 on, (1 + n) / (10 + n) >= 0.5: the decay itself.
    for (int i = 0; i < 5; ++i) ema.update();
    CHECK(ema.next_decay() == Approx(9.0 / 18.0));
    ema.update();
    CHECK(ema.next_decay() == 0.5);
    optim::ExponentialMovingAverage plain({p}, {.decay = 0.5});
    CHECK(plain.next_decay() == 0.5);
}

TEST_CASE("EMA: float32 loop over a long tensor matches the float64 formula", "[optim][ema]") {
    // Long enough for the vectorised loop and its tail.
    const std::int64_t n = 1003;
    manual_seed(3);
    Tensor p = randn({n}).requires_grad_();
    const std::vector<float> start = p.to_vector<float>();
    optim::ExponentialMovingAverage ema({p}, {.decay = 0.99});
    {
        NoGradGuard no_grad;
        p.copy_(p * 2.0 + 1.0);
    }
    ema.update();
    const auto avg = ema.averaged()[0].to_vector<float>();
    REQUIRE(ema.averaged()[0].dtype() == kFloat32);
    for (std::int64_t i = 0; i < n; ++i) {
        const double expected = 0.99 * start[i] + 0.01 * (2.0 * start[i] + 1.0);
        REQUIRE(avg[i] == Approx(expected).margin(1e-5));
    }
}

TEST_CASE("EMA: swap and AveragedParameters exchange the values in place", "[optim][ema]") {
    Tensor p = leaf({1.0, 2.0});
    optim::ExponentialMovingAverage ema({p}, {.decay = 0.5});
    set_values(p, {3.0, 6.0});
    ema.update();  // averages 2, 4
    const auto version = p.version();
    {
        optim::AveragedParameters use_average(ema);
        CHECK(ema.swapped());
        CHECK(p.to_vector<double>() == std::vector<double>{2.0, 4.0});
        CHECK(p.version() > version);  // an in-place write, seen by the version counter
        CHECK(p.requires_grad());
        CHECK_THROWS_WITH(ema.update(), Contains("swapped"));
        CHECK_THROWS_WITH(optim::AveragedParameters(ema), Contains("already swapped"));
    }
    CHECK_FALSE(ema.swapped());
    CHECK(p.to_vector<double>() == std::vector<double>{3.0, 6.0});
    CHECK(ema.averaged()[0].to_vector<double>() == std::vector<double>{2.0, 4.0});

    ema.copy_to_params();
    CHECK(p.to_vector<double>() == std::vector<double>{2.0, 4.0});
    set_values(p, {0.0, 1.0});
    ema.update();
    ema.reset();
    CHECK(ema.num_updates() == 0);
    CHECK(ema.averaged()[0].to_vector<double>() == std::vector<double>{0.0, 1.0});
}

TEST_CASE("EMA: a training step after an update, with averages on a module", "[optim][ema]") {
    manual_seed(0);
    nn::Linear layer(3, 2);
    optim::SGD opt(layer.parameters(), {.lr = 0.1});
    optim::ExponentialMovingAverage ema(layer.parameters(), {.decay = 0.75});
    const std::vector<double> w0 = layer.parameters()[0].to(kFloat64).to_vector<double>();
    Tensor loss = layer(ones({4, 3})).sum();
    loss.backward();
    opt.step();
    ema.update();
    const std::vector<double> w1 = layer.parameters()[0].to(kFloat64).to_vector<double>();
    const auto avg = ema.averaged()[0].to(kFloat64).to_vector<double>();
    for (std::size_t i = 0; i < w0.size(); ++i)
        CHECK(avg[i] == Approx(0.75 * w0[i] + 0.25 * w1[i]).margin(1e-6));
    // Forward and backward with the averages swapped in work on the same parameter tensors.
    {
        optim::AveragedParameters use_average(ema);
        opt.zero_grad();
        layer(ones({1, 3})).sum().backward();
        CHECK(layer.parameters()[0].grad().defined());
    }
}

TEST_CASE("EMA: bad input is rejected", "[optim][ema]") {
    Tensor p = leaf({1.0});
    CHECK_THROWS_WITH(optim::ExponentialMovingAverage({p}, {.decay = 1.5}),
                      Contains("invalid decay 1.5"));
    CHECK_THROWS_WITH(optim::ExponentialMovingAverage({p}, {.decay = -0.1}),
                      Contains("invalid decay"));
    CHECK_THROWS_AS(optim::ExponentialMovingAverage({}), ValueError);
    CHECK_THROWS_WITH(optim::ExponentialMovingAverage({p, Tensor()}), Contains("undefined"));
    CHECK_THROWS_AS(optim::ExponentialMovingAverage({tensor(std::vector<std::int64_t>{1}, {1})}),
                    DtypeError);
    CHECK_THROWS_WITH(optim::ExponentialMovingAverage({p * 2.0}), Contains("not a leaf"));
    CHECK_THROWS_WITH(optim::ExponentialMovingAverage({p, p}), Contains("same tensor"));
}
