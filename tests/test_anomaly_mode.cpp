// Anomaly mode: a NaN or Inf gradient names the backward op, the input index and where the
// forward op was created (module chain, labels); off, nothing is checked.
#include <cmath>

#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
using Catch::Matchers::Contains;

namespace {
// sqrt'(0) is Inf: a gradient anomaly that the forward values do not show.
Tensor sqrt_at_zero() {
    return zeros({3}, {.requires_grad = true});
}

std::string backward_error(const Tensor& loss) {
    try {
        loss.backward();
    } catch (const AutogradError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("anomaly mode names the backward op, its input and its creation", "[anomaly]") {
    Tensor x = sqrt_at_zero();
    autograd::DetectAnomalyGuard detect;
    Tensor loss = sqrt(x).sum();
    const std::string m = backward_error(loss);
    CHECK_THAT(m, Contains("anomaly detected"));
    CHECK_THAT(m, Contains("SqrtBackward returned a gradient with Inf for its input 0"));
    CHECK_THAT(m, Contains("shape [3]"));
    CHECK_THAT(m, Contains("the forward op of SqrtBackward"));
    CHECK_THAT(m, Contains("recorded at"));  // the backtrace
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("anomaly mode reports NaN and the module chain and labels", "[anomaly]") {
    manual_seed(1);
    nn::Sequential model(nn::Linear(3, 3),
                         nn::Functional([](const Tensor& h) { return log(h * 0.0); }, "ZeroLog"));
    autograd::DetectAnomalyGuard detect;
    Tensor loss;
    {
        autograd::AnomalyScope label("epoch 3");
        loss = (model(randn({2, 3})) * 0.0).sum();  // 0 * (1/0) = NaN in LogBackward
    }
    const std::string m = backward_error(loss);
    CHECK_THAT(m, Contains("NaN"));
    CHECK_THAT(m, Contains("epoch 3 > Sequential > [1] ZeroLog"));
}

TEST_CASE("without anomaly mode the same gradient is returned unchecked", "[anomaly]") {
    REQUIRE_FALSE(autograd::AnomalyMode::is_enabled());
    Tensor x = sqrt_at_zero();
    Tensor loss = sqrt(x).sum();
    REQUIRE(loss.grad_fn()->anomaly_metadata() == nullptr);  // nothing recorded when off
    loss.backward();
    CHECK(std::isinf(x.grad().to_vector<float>()[0]));
}

TEST_CASE("a node recorded while anomaly mode was off is still checked, and says so", "[anomaly]") {
    Tensor x = sqrt_at_zero();
    Tensor loss = sqrt(x).sum();
    autograd::DetectAnomalyGuard detect;
    const std::string m = backward_error(loss);
    CHECK_THAT(m, Contains("SqrtBackward"));
    CHECK_THAT(m, Contains("recorded while anomaly mode was off"));
}

TEST_CASE("finite gradients pass anomaly mode unchanged", "[anomaly]") {
    Tensor x = full({3}, 4.0, {.requires_grad = true});
    autograd::DetectAnomalyGuard detect;
    sqrt(x).sum().backward();
    CHECK(x.grad().to_vector<float>() == std::vector<float>{0.25f, 0.25f, 0.25f});
}

TEST_CASE("guards nest and the global switch survives them", "[anomaly]") {
    REQUIRE_FALSE(autograd::AnomalyMode::is_enabled());
    {
        autograd::DetectAnomalyGuard a;
        {
            autograd::DetectAnomalyGuard b;
            CHECK(autograd::AnomalyMode::is_enabled());
        }
        CHECK(autograd::AnomalyMode::is_enabled());
    }
    CHECK_FALSE(autograd::AnomalyMode::is_enabled());
    autograd::AnomalyMode::set_enabled(true);
    { autograd::DetectAnomalyGuard c; }
    CHECK(autograd::AnomalyMode::is_enabled());
    autograd::AnomalyMode::set_enabled(false);
    CHECK_FALSE(autograd::AnomalyMode::is_enabled());
    // A label opened while off is not kept.
    autograd::AnomalyScope label("unused");
    autograd::DetectAnomalyGuard d;
    Tensor y = zeros({1}, {.requires_grad = true}) * 2.0;
    REQUIRE(y.grad_fn()->anomaly_metadata() != nullptr);
    CHECK(y.grad_fn()->anomaly_metadata()->context.empty());
}
