// optim::Convergence: "repeat until convergence" (patience, min_delta, step limit, divergence).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>
#include <xgrad/optim.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
using Catch::Contains;

TEST_CASE("Convergence stops after `patience` checks without improvement", "[optim]") {
    optim::Convergence conv({.min_delta = 0.0, .patience = 3});
    CHECK_FALSE(conv.should_stop());
    CHECK(std::isnan(conv.last()));
    const std::vector<double> costs = {5.0, 4.0, 3.0, 3.5, 2.5, 2.5, 2.6, 2.7};
    std::vector<bool> improved;
    for (double c : costs) {
        REQUIRE_FALSE(conv.should_stop());
        improved.push_back(conv.update(c));
    }
    CHECK(improved == std::vector<bool>{true, true, true, false, true, false, false, false});
    CHECK(conv.should_stop());
    CHECK(conv.reason() == optim::StopReason::converged);
    CHECK(conv.best() == 2.5);
    CHECK(conv.best_step() == 5);
    CHECK(conv.steps() == 8);
    CHECK(conv.bad_checks() == 3);
    CHECK(conv.last() == 2.7);

    conv.reset();
    CHECK_FALSE(conv.should_stop());
    CHECK(conv.steps() == 0);
    CHECK(std::isinf(conv.best()));
}

TEST_CASE("Convergence: improvements must exceed min_delta", "[optim]") {
    optim::Convergence conv({.min_delta = 0.1, .patience = 2});
    CHECK(conv.update(1.0));
    CHECK_FALSE(conv.update(0.95));  // better, but not by more than 0.1
    CHECK(conv.update(0.85));        // 0.15 below the best (1.0)
    CHECK(conv.best() == 0.85);
    CHECK_FALSE(conv.update(0.8));
    CHECK_FALSE(conv.should_stop());
    CHECK_FALSE(conv.update(0.76));
    CHECK(conv.should_stop());
    CHECK(conv.reason() == optim::StopReason::converged);
    CHECK(conv.best() == 0.85);
}

TEST_CASE("Convergence: step limit, max mode, non-finite costs", "[optim]") {
    optim::Convergence limited({.patience = 100, .max_steps = 4});
    for (int k = 0; k < 4; ++k) {
        CHECK_FALSE(limited.should_stop());
        CHECK(limited.update(10.0 - k));
    }
    CHECK(limited.should_stop());
    CHECK(limited.reason() == optim::StopReason::max_steps);

    optim::Convergence accuracy({.min_delta = 0.01, .patience = 2, .mode = optim::Mode::max});
    CHECK(accuracy.update(0.5));
    CHECK(accuracy.update(0.7));
    CHECK_FALSE(accuracy.update(0.705));
    CHECK_FALSE(accuracy.update(0.6));
    CHECK(accuracy.should_stop());
    CHECK(accuracy.best() == 0.7);

    optim::Convergence diverging({.patience = 5});
    diverging.update(1.0);
    CHECK_FALSE(diverging.update(NAN));
    CHECK(diverging.should_stop());
    CHECK(diverging.reason() == optim::StopReason::nonfinite);
    CHECK(diverging.best() == 1.0);

    optim::Convergence tolerant({.patience = 2, .stop_on_nonfinite = false});
    tolerant.update(1.0);
    CHECK_FALSE(tolerant.update(INFINITY));
    CHECK_FALSE(tolerant.should_stop());
    CHECK_FALSE(tolerant.update(-INFINITY));  // non-finite never counts as an improvement
    CHECK(tolerant.reason() == optim::StopReason::converged);
}

TEST_CASE("Convergence rejects bad options", "[optim]") {
    CHECK_THROWS_AS(optim::Convergence({.min_delta = -1.0}), ValueError);
    CHECK_THROWS_WITH(optim::Convergence({.min_delta = -1.0}),
                      Contains("xgrad::optim::Convergence") && Contains("min_delta -1"));
    CHECK_THROWS_WITH(optim::Convergence({.patience = 0}), Contains("patience 0"));
    CHECK_THROWS_WITH(optim::Convergence({.max_steps = 0}), Contains("max_steps 0"));
    CHECK_THROWS_WITH(optim::Convergence({.min_delta = NAN}), Contains("min_delta nan"));
}

TEST_CASE("repeat until convergence: a training loop", "[optim]") {
    // Linear regression y = 2 x - 1 by SGD with momentum, stopped by Convergence.
    Tensor x = linspace(-1.0, 1.0, 32, {.dtype = kFloat64}).reshape({32, 1});
    Tensor y = x * 2.0 - 1.0;
    Tensor w = zeros({1, 1}, {.dtype = kFloat64, .requires_grad = true});
    Tensor b = zeros({1}, {.dtype = kFloat64, .requires_grad = true});
    optim::SGD opt({w, b}, {.lr = 0.3, .momentum = 0.5});
    optim::Convergence conv({.min_delta = 1e-12, .patience = 10, .max_steps = 20000});
    while (!conv.should_stop()) {
        opt.zero_grad();
        Tensor loss = (x.matmul(w) + b - y).pow(2.0).mean();
        loss.backward();
        opt.step();
        conv.update(loss.item<double>());
    }
    CHECK(conv.reason() == optim::StopReason::converged);
    CHECK(conv.steps() < 20000);
    CHECK(conv.best() < 1e-8);
    CHECK(w.item<double>() == Approx(2.0).epsilon(1e-4));
    CHECK(b.item<double>() == Approx(-1.0).epsilon(1e-4));
}
