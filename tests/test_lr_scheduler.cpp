// Learning-rate schedulers: 50-step sequences against PyTorch 1.13 (alone and chained),
// ReduceLROnPlateau, scheduler state dicts, and bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>
#include <xgrad/optim.hpp>
#include <xgrad/xgrad.hpp>

#include "reference/optim_reference_data.hpp"

using namespace xgrad;
namespace ref = optim_reference;
using Catch::Contains;

namespace {

// SGD with two groups (lr 0.1 and 0.02), as in the reference script.
std::unique_ptr<optim::SGD> two_group_sgd() {
    Tensor p0 = zeros({2}, {.dtype = kFloat64, .requires_grad = true});
    Tensor p1 = zeros({3}, {.dtype = kFloat64, .requires_grad = true});
    return std::make_unique<optim::SGD>(
        std::vector<optim::SGD::Group>{{{p0}, {.lr = 0.1}}, {{p1}, {.lr = 0.02}}});
}

std::vector<double> lrs(const optim::Optimizer& opt) {
    std::vector<double> v;
    for (std::size_t g = 0; g < opt.group_count(); ++g) v.push_back(opt.lr(g));
    return v;
}

// The schedulers of a reference case, in stepping order.
std::vector<std::unique_ptr<optim::LRScheduler>> make_schedulers(const std::string& name,
                                                                 optim::Optimizer& opt) {
    std::vector<std::unique_ptr<optim::LRScheduler>> s;
    if (name == "StepLR") {
        s.push_back(std::make_unique<optim::StepLR>(
            opt, optim::StepLROptions{.step_size = 7, .gamma = 0.5}));
    } else if (name == "MultiStepLR") {
        s.push_back(std::make_unique<optim::MultiStepLR>(
            opt, optim::MultiStepLROptions{.milestones = {30, 5, 15, 15}, .gamma = 0.3}));
    } else if (name == "ExponentialLR") {
        s.push_back(std::make_unique<optim::ExponentialLR>(
            opt, optim::ExponentialLROptions{.gamma = 0.93}));
    } else if (name == "CosineAnnealingLR") {
        s.push_back(std::make_unique<optim::CosineAnnealingLR>(
            opt, optim::CosineAnnealingLROptions{.T_max = 20, .eta_min = 0.001}));
    } else if (name == "LinearLR warmup") {
        s.push_back(std::make_unique<optim::LinearLR>(
            opt,
            optim::LinearLROptions{.start_factor = 0.1, .end_factor = 1.0, .total_iters = 10}));
    } else if (name == "LinearLR decay") {
        s.push_back(std::make_unique<optim::LinearLR>(
            opt,
            optim::LinearLROptions{.start_factor = 1.0, .end_factor = 0.2, .total_iters = 30}));
    } else if (name == "LinearLR + CosineAnnealingLR") {
        s.push_back(std::make_unique<optim::LinearLR>(
            opt, optim::LinearLROptions{.start_factor = 0.25, .total_iters = 5}));
        s.push_back(std::make_unique<optim::CosineAnnealingLR>(
            opt, optim::CosineAnnealingLROptions{.T_max = 45}));
    } else if (name == "ExponentialLR + StepLR") {
        s.push_back(std::make_unique<optim::ExponentialLR>(
            opt, optim::ExponentialLROptions{.gamma = 0.97}));
        s.push_back(std::make_unique<optim::StepLR>(
            opt, optim::StepLROptions{.step_size = 10, .gamma = 0.5}));
    } else if (name == "MultiStepLR + LinearLR") {
        s.push_back(std::make_unique<optim::MultiStepLR>(
            opt, optim::MultiStepLROptions{.milestones = {10, 20}, .gamma = 0.5}));
        s.push_back(std::make_unique<optim::LinearLR>(
            opt, optim::LinearLROptions{.start_factor = 0.5, .total_iters = 4}));
    }
    return s;
}

void check_row(const std::vector<double>& got, const std::vector<double>& want,
               const std::string& name, int step) {
    REQUIRE(got.size() == want.size());
    for (std::size_t g = 0; g < got.size(); ++g) {
        INFO(name << ", after step " << step << ", group " << g);
        CHECK(got[g] == Approx(want[g]).epsilon(1e-12).margin(1e-300));
    }
}

const ref::ScheduleCase& schedule_case(const std::string& name) {
    for (const auto& c : ref::schedule_cases())
        if (c.name == name) return c;
    FAIL("no reference for " << name);
    return ref::schedule_cases().front();
}

}  // namespace

TEST_CASE("each scheduler's learning rates match PyTorch over 50 steps", "[optim]") {
    int checked = 0;
    for (const auto& c : ref::schedule_cases()) {
        if (c.name.rfind("ReduceLROnPlateau", 0) == 0) continue;
        auto opt = two_group_sgd();
        auto schedulers = make_schedulers(c.name, *opt);
        REQUIRE_FALSE(schedulers.empty());
        REQUIRE(c.lrs.size() == static_cast<std::size_t>(ref::kSchedulerSteps + 1));
        check_row(lrs(*opt), c.lrs[0], c.name, 0);
        for (int k = 1; k <= ref::kSchedulerSteps; ++k) {
            opt->step();
            for (auto& s : schedulers) s->step();
            check_row(lrs(*opt), c.lrs[k], c.name, k);
            CHECK(schedulers.back()->last_lr() == lrs(*opt));
            CHECK(schedulers.back()->last_epoch() == k);
        }
        ++checked;
    }
    CHECK(checked == 9);
}

TEST_CASE("ChainedScheduler steps its schedulers in order", "[optim]") {
    const auto& c = schedule_case("LinearLR + CosineAnnealingLR");
    auto opt = two_group_sgd();
    optim::LinearLR warmup(*opt, {.start_factor = 0.25, .total_iters = 5});
    optim::CosineAnnealingLR cosine(*opt, {.T_max = 45});
    optim::ChainedScheduler chain({warmup, cosine});
    CHECK(chain.last_lr() == lrs(*opt));
    for (int k = 1; k <= ref::kSchedulerSteps; ++k) {
        chain.step();
        check_row(lrs(*opt), c.lrs[k], c.name, k);
        CHECK(chain.last_lr() == lrs(*opt));
    }
    // The second scheduler's base lrs are the groups' initial lrs, recorded by the first.
    CHECK(opt->initial_lr(0) == 0.1);
    CHECK(cosine.base_lrs() == std::vector<double>{0.1, 0.02});

    auto other = two_group_sgd();
    optim::StepLR elsewhere(*other, {.step_size = 3});
    CHECK_THROWS_AS(optim::ChainedScheduler({warmup, elsewhere}), ValueError);
    CHECK_THROWS_WITH(optim::ChainedScheduler({warmup, elsewhere}),
                      Contains("xgrad::optim::ChainedScheduler") && Contains("same optimizer"));
    CHECK_THROWS_AS(optim::ChainedScheduler({}), ValueError);
}

TEST_CASE("ReduceLROnPlateau matches PyTorch", "[optim]") {
    struct Run {
        std::string name;
        optim::ReduceLROnPlateauOptions options;
        const std::vector<double>* metrics;
    };
    const std::vector<Run> runs = {
        {"ReduceLROnPlateau min rel",
         {.mode = optim::Mode::min,
          .factor = 0.5,
          .patience = 3,
          .threshold = 0.01,
          .cooldown = 2,
          .min_lr = {0.01, 0.001}},
         &ref::plateau_losses},
        {"ReduceLROnPlateau max abs",
         {.mode = optim::Mode::max,
          .factor = 0.3,
          .patience = 2,
          .threshold = 0.005,
          .threshold_mode = optim::ThresholdMode::abs,
          .min_lr = {0.004}},
         &ref::plateau_scores},
        {"ReduceLROnPlateau defaults", {}, &ref::plateau_losses},
    };
    for (const Run& run : runs) {
        const auto& c = schedule_case(run.name);
        auto opt = two_group_sgd();
        optim::ReduceLROnPlateau plateau(*opt, run.options);
        check_row(lrs(*opt), c.lrs[0], c.name, 0);
        int reductions = 0;
        for (int k = 1; k <= ref::kSchedulerSteps; ++k) {
            const double before = opt->lr(0);
            plateau.step((*run.metrics)[k - 1]);
            reductions += opt->lr(0) < before;
            check_row(lrs(*opt), c.lrs[k], c.name, k);
            CHECK(plateau.last_lr() == lrs(*opt));
        }
        CHECK(plateau.last_epoch() == ref::kSchedulerSteps);
        CHECK(reductions >= 1);  // the sequences do plateau
    }
}

TEST_CASE("a resumed run (optimizer and schedulers) continues bit for bit", "[optim]") {
    // SGD(momentum) + LinearLR + CosineAnnealingLR on f(p) = sum(p^2 + sin(3p)): 50 straight
    // steps, or 20 steps, save, rebuild everything, load and 30 more.
    auto run = [](int stop_at, optim::OptimizerState* opt_state,
                  std::vector<optim::SchedulerState>* sched_state, Tensor p) {
        optim::SGD opt({p}, {.lr = 0.1, .momentum = 0.9});
        optim::LinearLR warmup(opt, {.start_factor = 0.25, .total_iters = 5});
        optim::CosineAnnealingLR cosine(opt, {.T_max = 45});
        int start = 0;
        if (opt_state && !sched_state->empty()) {  // resume
            opt.load_state_dict(*opt_state);
            warmup.load_state_dict((*sched_state)[0]);
            cosine.load_state_dict((*sched_state)[1]);
            start = static_cast<int>(warmup.last_epoch());
        }
        for (int k = start; k < stop_at; ++k) {
            opt.zero_grad();
            (p * p + (p * 3.0).sin()).sum().backward();
            opt.step();
            warmup.step();
            cosine.step();
        }
        if (opt_state && sched_state->empty()) {  // save
            *opt_state = opt.state_dict();
            *sched_state = {warmup.state_dict(), cosine.state_dict()};
        }
        return opt.lr(0);
    };
    Tensor straight = tensor({0.5, -0.25}, {.dtype = kFloat64, .requires_grad = true});
    const double lr_straight = run(50, nullptr, nullptr, straight);

    Tensor resumed = tensor({0.5, -0.25}, {.dtype = kFloat64, .requires_grad = true});
    optim::OptimizerState opt_state;
    std::vector<optim::SchedulerState> sched_state;
    run(20, &opt_state, &sched_state, resumed);
    CHECK(sched_state[0].kind == "LinearLR");
    CHECK(sched_state[1].scalars.at("last_epoch") == 20);
    const double lr_resumed = run(50, &opt_state, &sched_state, resumed);

    CHECK(lr_resumed == lr_straight);
    CHECK(resumed.to_vector<double>() == straight.to_vector<double>());
    CHECK(lr_straight == Approx(schedule_case("LinearLR + CosineAnnealingLR").lrs.back()[0]));
}

TEST_CASE("ReduceLROnPlateau state dict round trip", "[optim]") {
    auto opt_a = two_group_sgd(), opt_b = two_group_sgd();
    optim::ReduceLROnPlateau a(*opt_a, {.factor = 0.5, .patience = 2, .cooldown = 1});
    for (int k = 0; k < 20; ++k) a.step(ref::plateau_losses[k]);
    optim::ReduceLROnPlateau b(*opt_b, {.factor = 0.5, .patience = 2, .cooldown = 1});
    opt_b->load_state_dict(opt_a->state_dict());
    b.load_state_dict(a.state_dict());
    CHECK(b.best() == a.best());
    for (int k = 20; k < 50; ++k) {
        a.step(ref::plateau_losses[k]);
        b.step(ref::plateau_losses[k]);
        CHECK(lrs(*opt_b) == lrs(*opt_a));
    }
    CHECK(b.num_bad_epochs() == a.num_bad_epochs());
    CHECK(b.in_cooldown() == a.in_cooldown());

    optim::SchedulerState bad = a.state_dict();
    bad.kind = "StepLR";
    CHECK_THROWS_WITH(b.load_state_dict(bad), Contains("state dict is for StepLR"));
    bad = a.state_dict();
    bad.scalars["num_bad_epochs"] = -1;
    CHECK_THROWS_AS(b.load_state_dict(bad), ValueError);
    bad = a.state_dict();
    bad.scalars["patience"] = 3;
    CHECK_THROWS_WITH(b.load_state_dict(bad), Contains("unexpected key 'patience'"));
    CHECK(b.best() == a.best());
}

TEST_CASE("schedulers reject bad options and change nothing", "[optim]") {
    auto opt = two_group_sgd();
    auto unchanged = [&] {
        CHECK(lrs(*opt) == std::vector<double>{0.1, 0.02});
        CHECK_FALSE(opt->initial_lr(0).has_value());
    };
    CHECK_THROWS_AS(optim::StepLR(*opt, {}), ValueError);
    CHECK_THROWS_WITH(optim::StepLR(*opt, {.step_size = 0}),
                      Contains("xgrad::optim::StepLR") && Contains("step_size 0"));
    CHECK_THROWS_WITH(optim::StepLR(*opt, {.step_size = 2, .gamma = -0.5}), Contains("gamma -0.5"));
    CHECK_THROWS_WITH(optim::MultiStepLR(*opt, {.milestones = {3, 0}}),
                      Contains("xgrad::optim::MultiStepLR") && Contains("milestone 0"));
    CHECK_THROWS_WITH(optim::ExponentialLR(*opt, {}),
                      Contains("xgrad::optim::ExponentialLR") && Contains("gamma nan"));
    CHECK_THROWS_WITH(optim::CosineAnnealingLR(*opt, {.T_max = 0}),
                      Contains("xgrad::optim::CosineAnnealingLR") && Contains("T_max 0"));
    CHECK_THROWS_WITH(optim::CosineAnnealingLR(*opt, {.T_max = 5, .eta_min = -1.0}),
                      Contains("eta_min -1"));
    CHECK_THROWS_WITH(optim::LinearLR(*opt, {.start_factor = 0.0}),
                      Contains("xgrad::optim::LinearLR") && Contains("start_factor 0"));
    CHECK_THROWS_WITH(optim::LinearLR(*opt, {.end_factor = 1.5}), Contains("end_factor 1.5"));
    CHECK_THROWS_WITH(optim::LinearLR(*opt, {.total_iters = 0}), Contains("total_iters 0"));
    CHECK_THROWS_WITH(optim::ReduceLROnPlateau(*opt, {.factor = 1.0}),
                      Contains("xgrad::optim::ReduceLROnPlateau") && Contains("factor 1"));
    CHECK_THROWS_WITH(optim::ReduceLROnPlateau(*opt, {.patience = -1}), Contains("patience -1"));
    CHECK_THROWS_WITH(optim::ReduceLROnPlateau(*opt, {.min_lr = {0.1, 0.2, 0.3}}),
                      Contains("expected 1 or 2 min_lr values, got 3"));
    CHECK_THROWS_WITH(optim::ReduceLROnPlateau(*opt, {.min_lr = {-0.1}}), Contains("min_lr -0.1"));
    CHECK_THROWS_WITH(optim::ReduceLROnPlateau(*opt, {.cooldown = -2}), Contains("cooldown -2"));
    unchanged();
}

TEST_CASE("scheduler state dicts and group changes are checked", "[optim]") {
    auto opt = two_group_sgd();
    optim::StepLR step(*opt, {.step_size = 2});
    step.step();
    step.step();
    const optim::SchedulerState good = step.state_dict();
    CHECK(good.kind == "StepLR");
    CHECK(good.scalars.at("last_epoch") == 2);
    CHECK(good.scalars.at("base_lrs.1") == 0.02);

    optim::ExponentialLR expo(*opt, {.gamma = 0.5});
    CHECK_THROWS_WITH(expo.load_state_dict(good),
                      Contains("xgrad::optim::ExponentialLR::load_state_dict") &&
                          Contains("state dict is for StepLR, not ExponentialLR"));
    optim::SchedulerState bad = good;
    bad.scalars.erase("base_lrs.1");
    CHECK_THROWS_WITH(step.load_state_dict(bad), Contains("'base_lrs.1' is missing"));
    bad = good;
    bad.scalars["base_lrs.2"] = 0.1;  // a dict for three groups
    CHECK_THROWS_WITH(step.load_state_dict(bad), Contains("unexpected key 'base_lrs.2'"));
    bad = good;
    bad.scalars["last_epoch"] = 2.5;
    CHECK_THROWS_WITH(step.load_state_dict(bad), Contains("invalid 'last_epoch' 2.5"));
    CHECK(step.last_epoch() == 2);

    // A group added after the scheduler was built is a clear error, not a silent skip.
    opt->add_param_group({zeros({1}, {.dtype = kFloat64, .requires_grad = true})});
    CHECK_THROWS_AS(step.step(), ValueError);
    CHECK_THROWS_WITH(step.step(), Contains("has 3 parameter groups but the scheduler was "
                                            "built for 2"));
    CHECK(step.last_epoch() == 2);
}
