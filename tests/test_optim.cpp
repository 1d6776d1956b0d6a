// Optimizers: trajectories against PyTorch 1.13, parameter groups, skipped parameters, state
// dicts (bit-identical resume), the tape, and every bad-input path.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <xgrad/optim.hpp>
#include <xgrad/xgrad.hpp>

#include "reference/optim_reference_data.hpp"

using namespace xgrad;
namespace ref = optim_reference;
using Catch::Contains;

namespace {

// ---- the reference problems, built with xgrad ops ---------------------------------------------

struct Problem {
    std::vector<Tensor> params;
    std::function<Tensor()> loss;
};

Problem make_problem(const std::string& function, Dtype dtype = kFloat64) {
    const TensorOptions leaf{.dtype = dtype, .requires_grad = true};
    const TensorOptions data{.dtype = dtype};
    if (function == "quadratic") {
        Tensor x = tensor(ref::quad_x0, {3, 1}, leaf);
        Tensor q = tensor(ref::quad_Q, {3, 3}, data);
        Tensor b = tensor(ref::quad_b, {3, 1}, data);
        return {{x}, [=] { return (x * q.matmul(x)).sum() * 0.5 - (b * x).sum(); }};
    }
    if (function == "rosenbrock") {
        Tensor p = tensor(ref::rosen_x0, {2}, leaf);
        return {{p}, [=] {
                    Tensor x = p.select(0, 0), y = p.select(0, 1);
                    return (1.0 - x).pow(2.0) + (y - x.pow(2.0)).pow(2.0) * 100.0;
                }};
    }
    Tensor X = tensor(ref::linreg_X, {6, 3}, data);
    Tensor y = tensor(ref::linreg_y, {6, 1}, data);
    Tensor w = tensor(ref::linreg_w0, {3, 1}, leaf);
    Tensor b = tensor(ref::linreg_b0, {1}, leaf);
    return {{w, b}, [=] { return (X.matmul(w) + b - y).pow(2.0).mean(); }};
}

// ---- options from the reference's (name, value) pairs -----------------------------------------

template <class Options>
Options options_from(const ref::Options& kv);

bool flag(double v) {
    return v != 0.0;
}

template <>
optim::SGDOptions options_from(const ref::Options& kv) {
    optim::SGDOptions o;
    for (const auto& [k, v] : kv) {
        if (k == "lr")
            o.lr = v;
        else if (k == "momentum")
            o.momentum = v;
        else if (k == "dampening")
            o.dampening = v;
        else if (k == "weight_decay")
            o.weight_decay = v;
        else if (k == "nesterov")
            o.nesterov = flag(v);
        else if (k == "maximize")
            o.maximize = flag(v);
        else
            FAIL("unknown SGD option " << k);
    }
    return o;
}

template <class Options>
Options adam_like_from(const ref::Options& kv) {
    Options o;
    for (const auto& [k, v] : kv) {
        if (k == "lr")
            o.lr = v;
        else if (k == "beta1")
            o.betas[0] = v;
        else if (k == "beta2")
            o.betas[1] = v;
        else if (k == "eps")
            o.eps = v;
        else if (k == "weight_decay")
            o.weight_decay = v;
        else if (k == "amsgrad")
            o.amsgrad = flag(v);
        else if (k == "maximize")
            o.maximize = flag(v);
        else
            FAIL("unknown Adam option " << k);
    }
    return o;
}
template <>
optim::AdamOptions options_from(const ref::Options& kv) {
    return adam_like_from<optim::AdamOptions>(kv);
}
template <>
optim::AdamWOptions options_from(const ref::Options& kv) {
    return adam_like_from<optim::AdamWOptions>(kv);
}

template <>
optim::RMSpropOptions options_from(const ref::Options& kv) {
    optim::RMSpropOptions o;
    for (const auto& [k, v] : kv) {
        if (k == "lr")
            o.lr = v;
        else if (k == "alpha")
            o.alpha = v;
        else if (k == "eps")
            o.eps = v;
        else if (k == "weight_decay")
            o.weight_decay = v;
        else if (k == "momentum")
            o.momentum = v;
        else if (k == "centered")
            o.centered = flag(v);
        else if (k == "maximize")
            o.maximize = flag(v);
        else
            FAIL("unknown RMSprop option " << k);
    }
    return o;
}

template <>
optim::AdagradOptions options_from(const ref::Options& kv) {
    optim::AdagradOptions o;
    for (const auto& [k, v] : kv) {
        if (k == "lr")
            o.lr = v;
        else if (k == "lr_decay")
            o.lr_decay = v;
        else if (k == "weight_decay")
            o.weight_decay = v;
        else if (k == "initial_accumulator_value")
            o.initial_accumulator_value = v;
        else if (k == "eps")
            o.eps = v;
        else if (k == "maximize")
            o.maximize = flag(v);
        else
            FAIL("unknown Adagrad option " << k);
    }
    return o;
}

template <class Opt>
std::unique_ptr<optim::Optimizer> build(const std::vector<std::vector<Tensor>>& groups,
                                        const std::vector<ref::Options>& options) {
    using Options = std::decay_t<decltype(std::declval<Opt>().options(0))>;
    if (groups.size() == 1)
        return std::make_unique<Opt>(groups[0], options_from<Options>(options[0]));
    std::vector<typename Opt::Group> gs;
    for (std::size_t g = 0; g < groups.size(); ++g)
        gs.push_back({groups[g], options_from<Options>(options[g])});
    return std::make_unique<Opt>(gs);
}

// An optimizer of `kind` over `groups` (one list of options per group).
std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& kind,
                                                 const std::vector<std::vector<Tensor>>& groups,
                                                 const std::vector<ref::Options>& options) {
    if (kind == "SGD") return build<optim::SGD>(groups, options);
    if (kind == "Adam") return build<optim::Adam>(groups, options);
    if (kind == "AdamW") return build<optim::AdamW>(groups, options);
    if (kind == "RMSprop") return build<optim::RMSprop>(groups, options);
    if (kind == "Adagrad") return build<optim::Adagrad>(groups, options);
    FAIL("unknown optimizer " << kind);
    return nullptr;
}

// The groups a reference case uses: one group, or {w} and {b} for linreg_groups.
std::vector<std::vector<Tensor>> case_groups(const ref::TrajectoryCase& c, const Problem& p) {
    if (c.function == "linreg_groups") return {{p.params[0]}, {p.params[1]}};
    return {p.params};
}
std::vector<ref::Options> case_options(const ref::TrajectoryCase& c) {
    if (c.function == "linreg_groups") return {c.options, c.options_group1};
    return {c.options};
}
std::string base_function(const std::string& function) {
    return function.rfind("linreg", 0) == 0 ? "linreg" : function;
}

// One training iteration as in the reference script: zero_grad, backward, (drop b's gradient
// in linreg_skip), step.
void iterate(optim::Optimizer& opt, Problem& p, const std::string& function, int k) {
    opt.zero_grad();
    p.loss().backward();
    if (function == "linreg_skip" && k % 3 == 1) p.params[1].zero_grad(/*set_to_none=*/true);
    opt.step();
}

std::vector<double> flat_params(const std::vector<Tensor>& params) {
    std::vector<double> all;
    for (const Tensor& t : params) {
        const auto v = t.to_vector<double>();
        all.insert(all.end(), v.begin(), v.end());
    }
    return all;
}

std::string case_name(const ref::TrajectoryCase& c) {
    std::string s = c.kind + " on " + c.function + " {";
    for (const auto& [k, v] : c.options) s += " " + k + "=" + std::to_string(v);
    s += " }";
    if (!c.options_group1.empty()) {
        s += " + group {";
        for (const auto& [k, v] : c.options_group1) s += " " + k + "=" + std::to_string(v);
        s += " }";
    }
    return s;
}

// Exact equality of two state dicts (kind, scalars, tensor shapes/dtypes/values).
bool same_state(const optim::OptimizerState& a, const optim::OptimizerState& b) {
    if (a.kind != b.kind || a.scalars != b.scalars || a.tensors.size() != b.tensors.size())
        return false;
    for (const auto& [key, t] : a.tensors) {
        const auto it = b.tensors.find(key);
        if (it == b.tensors.end()) return false;
        if (t.shape() != it->second.shape() || t.dtype() != it->second.dtype()) return false;
        if (t.to_vector<double>() != it->second.to_vector<double>()) return false;
    }
    return true;
}

Tensor leaf(std::vector<double> values, Dtype dtype = kFloat64) {
    return tensor(values, {.dtype = dtype, .requires_grad = true});
}

}  // namespace

// ---- trajectories vs PyTorch ------------------------------------------------------------------

TEST_CASE("every optimizer follows PyTorch's trajectory for 20 steps", "[optim]") {
    const auto& cases = ref::trajectory_cases();
    REQUIRE(cases.size() == 78);
    double worst = 0.0;
    int checked = 0;
    for (const auto& c : cases) {
        const bool f32 = c.function == "linreg_f32";
        // float64 within 1e-6 relative, as required; float32 (different BLAS, reduction
        // order, all in single precision) within 1e-4.
        const double rtol = f32 ? 1e-4 : 1e-6, atol = f32 ? 1e-6 : 1e-12;
        Problem p = make_problem(base_function(c.function), f32 ? kFloat32 : kFloat64);
        auto opt = make_optimizer(c.kind, case_groups(c, p), case_options(c));
        REQUIRE(c.trajectory.size() == static_cast<std::size_t>(ref::kSteps));
        for (int k = 0; k < ref::kSteps; ++k) {
            iterate(*opt, p, c.function, k);
            const auto got = flat_params(p.params);
            const auto& want = c.trajectory[k];
            REQUIRE(got.size() == want.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                const double err = std::fabs(got[i] - want[i]);
                if (!f32) worst = std::max(worst, err / std::max(std::fabs(want[i]), 1e-300));
                if (!(err <= rtol * std::fabs(want[i]) + atol)) {
                    INFO(case_name(c) << ", step " << k + 1 << ", value " << i);
                    CHECK(got[i] == Approx(want[i]).epsilon(rtol).margin(atol));
                }
            }
        }
        ++checked;
    }
    CHECK(checked == static_cast<int>(cases.size()));
    INFO("largest relative deviation from PyTorch in float64: " << worst);
    CHECK(worst < 1e-9);  // in practice a few ulp
}

TEST_CASE("the reference covers every optimizer, option set and problem", "[optim]") {
    std::map<std::string, int> per_kind;
    std::set<std::string> functions;
    for (const auto& c : ref::trajectory_cases()) {
        ++per_kind[c.kind];
        functions.insert(c.function);
    }
    for (const char* kind : {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"})
        CHECK(per_kind[kind] >= 11);
    CHECK(functions == std::set<std::string>{"quadratic", "rosenbrock", "linreg", "linreg_groups",
                                             "linreg_skip", "linreg_f32"});
}

// ---- save / load ------------------------------------------------------------------------------

TEST_CASE("save after 10 steps, load into a fresh optimizer, 10 more: bit-identical to 20",
          "[optim]") {
    int resumed = 0;
    for (const auto& c : ref::trajectory_cases()) {
        if (c.function != "linreg_groups" && c.function != "linreg_skip" &&
            c.function != "quadratic")
            continue;
        INFO(case_name(c));
        // 20 straight steps.
        Problem a = make_problem(base_function(c.function));
        auto opt_a = make_optimizer(c.kind, case_groups(c, a), case_options(c));
        for (int k = 0; k < 20; ++k) iterate(*opt_a, a, c.function, k);

        // 10 steps, save, and continue from fresh parameters holding the same values with a
        // fresh optimizer built with other (default) options: the state dict restores them.
        Problem b = make_problem(base_function(c.function));
        auto opt_b = make_optimizer(c.kind, case_groups(c, b), case_options(c));
        for (int k = 0; k < 10; ++k) iterate(*opt_b, b, c.function, k);
        const optim::OptimizerState saved = opt_b->state_dict();
        CHECK(saved.kind == c.kind);

        Problem r = make_problem(base_function(c.function));
        for (std::size_t i = 0; i < r.params.size(); ++i) {
            NoGradGuard no_grad;
            r.params[i].copy_(b.params[i]);
        }
        std::vector<ref::Options> defaults(case_groups(c, r).size());
        auto opt_r = make_optimizer(c.kind, case_groups(c, r), defaults);
        opt_r->load_state_dict(saved);
        CHECK(same_state(opt_r->state_dict(), saved));
        opt_b.reset();  // the original optimizer is gone; nothing is shared with it
        for (int k = 10; k < 20; ++k) iterate(*opt_r, r, c.function, k);

        CHECK(flat_params(r.params) == flat_params(a.params));  // bit for bit
        CHECK(same_state(opt_r->state_dict(), opt_a->state_dict()));
        ++resumed;
    }
    CHECK(resumed >= 5 + 19 + 10);
}

TEST_CASE("state_dict is a snapshot with the documented keys", "[optim]") {
    Tensor w = leaf({1.0, -2.0}), b = leaf({0.5});
    optim::Adam opt({{{w}, {.lr = 0.1, .amsgrad = true}}, {{b}, {.lr = 0.2, .betas = {0.8, 0.9}}}});
    CHECK(opt.state_dict().tensors.empty());  // state is created lazily, on the first step
    (w * w).sum().backward();                 // b gets no gradient
    opt.step();
    const optim::OptimizerState s = opt.state_dict();
    CHECK(s.kind == "Adam");
    CHECK(s.scalars.at("param_groups.0.params") == 1);
    CHECK(s.scalars.at("param_groups.0.lr") == 0.1);
    CHECK(s.scalars.at("param_groups.0.amsgrad") == 1);
    CHECK(s.scalars.at("param_groups.1.beta1") == 0.8);
    CHECK(s.scalars.at("param_groups.1.beta2") == 0.9);
    CHECK(s.scalars.at("param_groups.1.eps") == 1e-8);
    CHECK(s.scalars.at("state.0.step") == 1);
    CHECK(s.scalars.count("state.1.step") == 0);  // b was skipped: no state
    CHECK(s.tensors.count("state.0.exp_avg") == 1);
    CHECK(s.tensors.count("state.0.exp_avg_sq") == 1);
    CHECK(s.tensors.count("state.0.max_exp_avg_sq") == 1);
    CHECK(s.tensors.size() == 3);
    CHECK_FALSE(s.tensors.at("state.0.exp_avg").requires_grad());
    const auto exp_avg = s.tensors.at("state.0.exp_avg").to_vector<double>();
    (w * w).sum().backward();
    opt.step();
    CHECK(s.tensors.at("state.0.exp_avg").to_vector<double>() == exp_avg);  // a copy

    // SGD keeps a momentum buffer only with momentum; Adagrad has its state from the start.
    optim::SGD sgd({leaf({1.0})}, {.lr = 0.1});
    CHECK(sgd.state_dict().tensors.empty());
    optim::Adagrad adagrad({leaf({1.0, 2.0})}, {.initial_accumulator_value = 0.25});
    const auto as = adagrad.state_dict();
    CHECK(as.scalars.at("state.0.step") == 0);
    CHECK(as.tensors.at("state.0.sum").to_vector<double>() == std::vector<double>{0.25, 0.25});
}

TEST_CASE("load_state_dict casts buffers to the parameter dtype", "[optim]") {
    Tensor p64 = leaf({1.0, 2.0});
    optim::Adam a({p64}, {.lr = 0.1});
    (p64 * p64).sum().backward();
    a.step();
    Tensor p32 = leaf({1.0, 2.0}, kFloat32);
    optim::Adam b({p32});
    b.load_state_dict(a.state_dict());
    const auto s = b.state_dict();
    CHECK(s.tensors.at("state.0.exp_avg").dtype() == kFloat32);
    CHECK(s.scalars.at("param_groups.0.lr") == 0.1);
}

// ---- semantics --------------------------------------------------------------------------------

TEST_CASE("a step updates in place and records nothing on the tape", "[optim]") {
    for (const char* kind : {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}) {
        INFO(kind);
        Problem p = make_problem("linreg");
        auto opt = make_optimizer(kind, {p.params}, {{{"lr", 0.01}}});
        std::vector<const double*> before;
        for (const Tensor& t : p.params) before.push_back(t.data_ptr<double>());
        const auto start = flat_params(p.params);
        for (int k = 0; k < 3; ++k) {
            opt->zero_grad();
            p.loss().backward();
            opt->step();  // grad mode is on here
        }
        CHECK(flat_params(p.params) != start);
        for (std::size_t i = 0; i < p.params.size(); ++i) {
            const Tensor& t = p.params[i];
            CHECK(t.is_leaf());
            CHECK(t.grad_fn() == nullptr);
            CHECK(t.requires_grad());
            CHECK(t.data_ptr<double>() == before[i]);  // same storage
            CHECK(opt->params(0)[i].is_same(t));       // same tensor handle
        }
        for (const auto& [key, t] : opt->state_dict().tensors) CHECK_FALSE(t.requires_grad());
    }
}

TEST_CASE("parameters without a gradient are skipped", "[optim]") {
    for (const char* kind : {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}) {
        INFO(kind);
        Tensor a = leaf({1.0, 2.0}), b = leaf({3.0});
        auto opt = make_optimizer(kind, {{a, b}}, {{{"lr", 0.1}, {"weight_decay", 0.1}}});
        (a * a).sum().backward();
        opt->step();
        CHECK(b.to_vector<double>() == std::vector<double>{3.0});  // even with weight decay
        CHECK(a.to_vector<double>() != std::vector<double>{1.0, 2.0});
        const auto s = opt->state_dict();
        CHECK(s.tensors.count("state.1.exp_avg") == 0);
        CHECK(s.tensors.count("state.1.square_avg") == 0);
        if (std::string(kind) == "Adagrad") CHECK(s.scalars.at("state.1.step") == 0);
    }
}

TEST_CASE("zero_grad releases or zeroes the gradients", "[optim]") {
    Tensor a = leaf({1.0, 2.0}), b = leaf({3.0});
    optim::SGD opt({a, b}, {.lr = 0.1});
    (a * b).sum().backward();
    REQUIRE(a.grad().defined());
    const double* grad_data = a.grad().data_ptr<double>();
    opt.zero_grad(false);
    CHECK(a.grad().to_vector<double>() == std::vector<double>{0.0, 0.0});
    CHECK(a.grad().data_ptr<double>() == grad_data);  // zeroed in place
    CHECK(b.grad().to_vector<double>() == std::vector<double>{0.0});
    opt.zero_grad();  // default: set_to_none, as PyTorch 2
    CHECK_FALSE(a.grad().defined());
    CHECK_FALSE(b.grad().defined());
    opt.step();  // nothing to do
    CHECK(a.to_vector<double>() == std::vector<double>{1.0, 2.0});
}

TEST_CASE("step with a closure evaluates it with grad mode on", "[optim]") {
    Problem p = make_problem("quadratic");
    optim::SGD opt(p.params, {.lr = 0.05});
    NoGradGuard no_grad;  // even inside no-grad, the closure records its graph
    double first = 0, last = 0;
    for (int k = 0; k < 20; ++k) {
        Tensor loss = opt.step([&] {
            opt.zero_grad();
            Tensor l = p.loss();
            l.backward();
            return l;
        });
        (k == 0 ? first : last) = loss.item<double>();
    }
    CHECK(last < first);
    // Same trajectory as the reference (SGD lr 0.05 on the quadratic).
    const auto& want = ref::trajectory_cases().front();
    REQUIRE(want.kind == "SGD");
    REQUIRE(want.function == "quadratic");
    const auto got = flat_params(p.params);
    for (std::size_t i = 0; i < got.size(); ++i)
        CHECK(got[i] == Approx(want.trajectory.back()[i]).epsilon(1e-12));
}

TEST_CASE("parameter groups: construction, lr access, add_param_group, set_options", "[optim]") {
    Tensor a = leaf({1.0}), b = leaf({2.0}), c = leaf({3.0});
    optim::SGD opt({{{a}, {.lr = 0.1}}, {{b}, {.lr = 0.01, .momentum = 0.9}}});
    CHECK(opt.name() == "SGD");
    CHECK(opt.group_count() == 2);
    CHECK(opt.param_count() == 2);
    CHECK(opt.lr(0) == 0.1);
    CHECK(opt.lr(1) == 0.01);
    CHECK(opt.options(1).momentum == 0.9);
    CHECK(opt.defaults().lr == optim::SGDOptions{}.lr);
    opt.set_lr(1, 0.02);
    CHECK(opt.options(1).lr == 0.02);
    CHECK_FALSE(opt.initial_lr(0).has_value());

    opt.add_param_group({{c}, {.lr = 0.5}});
    CHECK(opt.group_count() == 3);
    CHECK(opt.parameters().size() == 3);
    CHECK(opt.parameters()[2].is_same(c));
    (a * b * c).sum().backward();  // grads 6, 3, 2
    opt.step();
    CHECK(a.item<double>() == Approx(1.0 - 0.1 * 6));
    CHECK(b.item<double>() == Approx(2.0 - 0.02 * 3));
    CHECK(c.item<double>() == Approx(3.0 - 0.5 * 2));

    // add_param_group(params) uses the defaults: the options of the plain-list constructor.
    Tensor d = leaf({1.0}), e = leaf({1.0});
    optim::Adam adam({d}, {.lr = 0.3, .betas = {0.5, 0.6}});
    adam.add_param_group({e});
    CHECK(adam.options(1).lr == 0.3);
    CHECK(adam.options(1).betas[1] == 0.6);

    // Switching AMSGrad on mid-run allocates its buffer on the next step.
    (d * d + e * e).sum().backward();
    adam.step();
    adam.set_options(0, {.lr = 0.3, .amsgrad = true});
    adam.step();
    CHECK(adam.state_dict().tensors.count("state.0.max_exp_avg_sq") == 1);
    CHECK(adam.state_dict().tensors.count("state.1.max_exp_avg_sq") == 0);
}

TEST_CASE("float32 parameters are updated in float32", "[optim]") {
    Tensor w = leaf({1.0, -1.0}, kFloat32);
    optim::AdamW opt({w}, {.lr = 0.1});
    (w * w).sum().backward();
    opt.step();
    CHECK(w.dtype() == kFloat32);
    const auto v = w.to_vector<float>();
    // one Adam step moves each weight by lr (sign of the gradient), after the decay
    CHECK(v[0] == Approx(1.0f * (1 - 0.1f * 0.01f) - 0.1f).epsilon(1e-6));
    CHECK(v[1] == Approx(-1.0f * (1 - 0.1f * 0.01f) + 0.1f).epsilon(1e-6));
    CHECK(opt.state_dict().tensors.at("state.0.exp_avg").dtype() == kFloat32);
}

// ---- bad input --------------------------------------------------------------------------------

TEST_CASE("invalid hyper-parameters are clear errors naming the optimizer and the value",
          "[optim]") {
    Tensor w = leaf({1.0});
    using optim::SGD, optim::Adam, optim::AdamW, optim::RMSprop, optim::Adagrad;

    CHECK_THROWS_AS(SGD({w}, {.lr = -0.1}), ValueError);
    CHECK_THROWS_WITH(SGD({w}, {.lr = -0.1}),
                      Contains("xgrad::optim::SGD") && Contains("learning rate -0.1"));
    CHECK_THROWS_WITH(SGD({w}, {.lr = NAN}), Contains("xgrad::optim::SGD") && Contains("nan"));
    CHECK_THROWS_WITH(SGD({w}, {.lr = 0.1, .momentum = -0.5}),
                      Contains("xgrad::optim::SGD") && Contains("momentum -0.5"));
    CHECK_THROWS_WITH(SGD({w}, {.lr = 0.1, .weight_decay = -1e-4}),
                      Contains("weight_decay -1e-04"));
    CHECK_THROWS_AS(SGD({w}, {.lr = 0.1, .nesterov = true}), ValueError);
    CHECK_THROWS_WITH(SGD({w}, {.lr = 0.1, .nesterov = true}),
                      Contains("xgrad::optim::SGD") && Contains("nesterov"));
    CHECK_THROWS_WITH(SGD({w}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                      Contains("dampening 0.1"));

    CHECK_THROWS_AS(Adam({w}, {.lr = -1e-3}), ValueError);
    CHECK_THROWS_WITH(Adam({w}, {.lr = -1e-3}),
                      Contains("xgrad::optim::Adam") && Contains("learning rate -0.001"));
    CHECK_THROWS_WITH(Adam({w}, {.betas = {1.0, 0.999}}),
                      Contains("xgrad::optim::Adam") && Contains("betas[0] 1 (must be in [0, 1)"));
    CHECK_THROWS_WITH(Adam({w}, {.betas = {0.9, -0.1}}), Contains("betas[1] -0.1"));
    CHECK_THROWS_WITH(Adam({w}, {.eps = -1e-8}), Contains("eps -1e-08"));
    CHECK_THROWS_WITH(Adam({w}, {.weight_decay = -0.1}), Contains("weight_decay -0.1"));
    CHECK_THROWS_WITH(AdamW({w}, {.betas = {0.9, 1.5}}),
                      Contains("xgrad::optim::AdamW") && Contains("betas[1] 1.5"));
    CHECK_THROWS_WITH(AdamW({w}, {.lr = -2.0}), Contains("xgrad::optim::AdamW"));
    CHECK_THROWS_WITH(RMSprop({w}, {.alpha = 1.5}),
                      Contains("xgrad::optim::RMSprop") && Contains("alpha 1.5"));
    CHECK_THROWS_WITH(RMSprop({w}, {.momentum = -0.9}), Contains("momentum -0.9"));
    CHECK_THROWS_WITH(RMSprop({w}, {.eps = -1.0}), Contains("eps -1"));
    CHECK_THROWS_WITH(Adagrad({w}, {.lr_decay = -0.5}),
                      Contains("xgrad::optim::Adagrad") && Contains("lr_decay -0.5"));
    CHECK_THROWS_WITH(Adagrad({w}, {.initial_accumulator_value = -1.0}),
                      Contains("initial_accumulator_value -1"));
    CHECK_THROWS_AS(Adagrad({w}, {.eps = -1.0}), ValueError);
    // A bad option in the second group is reported too.
    CHECK_THROWS_WITH(SGD({{{w}, {.lr = 0.1}}, {{leaf({2.0})}, {.lr = -3.0}}}),
                      Contains("learning rate -3"));
}

TEST_CASE("invalid parameter lists are clear errors", "[optim]") {
    using optim::SGD;
    CHECK_THROWS_AS(SGD(std::vector<Tensor>{}, {.lr = 0.1}), ValueError);
    CHECK_THROWS_WITH(SGD(std::vector<Tensor>{}, {.lr = 0.1}),
                      Contains("xgrad::optim::SGD") && Contains("empty parameter list"));
    CHECK_THROWS_WITH(optim::Adam(std::vector<optim::Adam::Group>{}),
                      Contains("xgrad::optim::Adam") && Contains("empty"));
    CHECK_THROWS_WITH(SGD({{{leaf({1.0})}, {.lr = 0.1}}, {{}, {.lr = 0.1}}}),
                      Contains("empty parameter list (group 1)"));

    Tensor frozen = tensor({1.0, 2.0}, {.dtype = kFloat64});
    CHECK_THROWS_AS(SGD({frozen}), ValueError);
    CHECK_THROWS_WITH(optim::Adam({leaf({1.0}), frozen}),
                      Contains("xgrad::optim::Adam") && Contains("parameter 1 of group 0") &&
                          Contains("[2]") && Contains("does not require grad"));

    Tensor ints = tensor({1, 2, 3});
    CHECK_THROWS_AS(SGD({ints}), DtypeError);
    CHECK_THROWS_WITH(SGD({ints}), Contains("xgrad::optim::SGD") && Contains("int64"));

    Tensor x = leaf({1.0, 2.0});
    Tensor y = x * 2.0;  // not a leaf
    CHECK_THROWS_AS(optim::RMSprop({y}), ValueError);
    CHECK_THROWS_WITH(optim::RMSprop({y}), Contains("not a leaf"));

    CHECK_THROWS_WITH(SGD({x, x}), Contains("same tensor as parameter 0"));
    CHECK_THROWS_WITH(SGD({{{x}, {}}, {{x}, {}}}), Contains("appears in group 0 and in group 1"));
    CHECK_THROWS_WITH(SGD({Tensor()}), Contains("undefined"));
}

TEST_CASE("failed calls change nothing", "[optim]") {
    Tensor a = leaf({1.0, 2.0}), b = leaf({3.0});
    optim::Adam opt({a}, {.lr = 0.1});
    (a * a).sum().backward();
    opt.step();
    const optim::OptimizerState before = opt.state_dict();

    // add_param_group with a bad parameter or bad options
    CHECK_THROWS_WITH(opt.add_param_group({{b, a}, {.lr = 0.1}}), Contains("already in group 0"));
    CHECK_THROWS_AS(opt.add_param_group({{b}, {.lr = -0.1}}), ValueError);
    CHECK_THROWS_AS(opt.add_param_group({{tensor({1.0}, {.dtype = kFloat64})}, {.lr = 0.1}}),
                    ValueError);
    CHECK(opt.group_count() == 1);

    // set_lr / set_options / group indices
    CHECK_THROWS_AS(opt.set_lr(0, -1.0), ValueError);
    CHECK_THROWS_WITH(opt.set_lr(0, -1.0),
                      Contains("xgrad::optim::Adam::set_lr") && Contains("-1"));
    CHECK_THROWS_AS(opt.set_lr(1, 0.1), IndexError);
    CHECK_THROWS_AS(opt.lr(3), IndexError);
    CHECK_THROWS_AS(opt.set_options(0, {.betas = {0.9, 1.0}}), ValueError);
    CHECK_THROWS_AS(opt.set_initial_lr(0, NAN), ValueError);
    CHECK(opt.lr(0) == 0.1);
    CHECK(opt.options(0).betas[1] == 0.999);
    CHECK(same_state(opt.state_dict(), before));

    // and the optimizer still steps exactly like one that never saw the failures
    Tensor a2 = leaf({1.0, 2.0});
    optim::Adam twin({a2}, {.lr = 0.1});
    (a2 * a2).sum().backward();
    twin.step();
    for (int k = 0; k < 3; ++k) {
        opt.zero_grad();
        twin.zero_grad();
        (a * a).sum().backward();
        (a2 * a2).sum().backward();
        opt.step();
        twin.step();
    }
    CHECK(a.to_vector<double>() == a2.to_vector<double>());
}

TEST_CASE("load_state_dict rejects foreign or inconsistent dicts and changes nothing", "[optim]") {
    Tensor w = leaf({1.0, 2.0}), b = leaf({0.5});
    optim::Adam opt({{{w}, {.lr = 0.1}}, {{b}, {.lr = 0.01}}});
    (w * w + b).sum().backward();
    opt.step();
    const optim::OptimizerState good = opt.state_dict();

    auto expect_rejected = [&](optim::OptimizerState bad, const std::string& what) {
        INFO(what);
        CHECK_THROWS_AS(opt.load_state_dict(bad), Error);
        CHECK(same_state(opt.state_dict(), good));
    };

    // another optimizer kind
    Tensor s = leaf({1.0, 2.0}), t = leaf({0.5});
    optim::SGD sgd({{{s}, {.lr = 0.1, .momentum = 0.9}}, {{t}, {.lr = 0.1}}});
    (s * s + t).sum().backward();
    sgd.step();
    CHECK_THROWS_AS(opt.load_state_dict(sgd.state_dict()), ValueError);
    CHECK_THROWS_WITH(opt.load_state_dict(sgd.state_dict()),
                      Contains("xgrad::optim::Adam::load_state_dict") &&
                          Contains("state dict is for SGD, not Adam"));
    CHECK_THROWS_WITH(sgd.load_state_dict(good), Contains("state dict is for Adam, not SGD"));
    CHECK(same_state(opt.state_dict(), good));

    // another number of groups
    optim::Adam one_group({leaf({1.0, 2.0}), leaf({0.5})});
    CHECK_THROWS_WITH(one_group.load_state_dict(good),
                      Contains("2 parameter groups, the optimizer has 1"));
    // other parameter counts per group
    optim::Adam other_counts({{{leaf({1.0, 2.0}), leaf({3.0})}, {}}, {{leaf({0.5})}, {}}});
    CHECK_THROWS_WITH(other_counts.load_state_dict(good), Contains("group 0 has 1 parameters"));
    // other shapes
    optim::Adam other_shapes({{{leaf({1.0, 2.0, 3.0})}, {}}, {{leaf({0.5})}, {}}});
    CHECK_THROWS_AS(other_shapes.load_state_dict(good), ShapeError);
    CHECK_THROWS_WITH(other_shapes.load_state_dict(good),
                      Contains("'state.0.exp_avg' has shape [2] but parameter 0 has shape [3]"));

    optim::OptimizerState bad = good;
    bad.tensors["state.0.exp_avg"] = tensor({1, 2});
    CHECK_THROWS_AS(opt.load_state_dict(bad), DtypeError);
    expect_rejected(bad, "int64 buffer");

    bad = good;
    bad.tensors.erase("state.0.exp_avg_sq");
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("'state.0.exp_avg_sq' is missing"));
    expect_rejected(bad, "missing buffer");

    bad = good;
    bad.scalars["param_groups.1.amsgrad"] = 1;  // AMSGrad needs max_exp_avg_sq
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("'state.1.max_exp_avg_sq' is missing"));
    expect_rejected(bad, "amsgrad without its buffer");

    bad = good;
    bad.scalars["param_groups.0.lr"] = -0.5;
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("learning rate -0.5"));
    expect_rejected(bad, "negative lr");

    bad = good;
    bad.scalars["param_groups.0.beta1"] = 1.0;
    expect_rejected(bad, "beta1 = 1");

    bad = good;
    bad.scalars.erase("param_groups.1.eps");
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("option 'eps' is missing"));
    expect_rejected(bad, "missing option");

    bad = good;
    bad.scalars["param_groups.0.momentum"] = 0.9;
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("unknown option 'momentum'"));
    expect_rejected(bad, "unknown option");

    bad = good;
    bad.scalars["param_groups.0.amsgrad"] = 0.5;
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("must be 0 or 1, got 0.5"));

    bad = good;
    bad.scalars["state.0.step"] = 1.5;
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("invalid 'state.0.step' 1.5"));
    expect_rejected(bad, "fractional step");

    bad = good;
    bad.scalars.erase("state.0.step");
    expect_rejected(bad, "buffers without a step");

    bad = good;
    bad.tensors["state.7.exp_avg"] = zeros({2}, {.dtype = kFloat64});
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("the optimizer has 2 parameters"));

    bad = good;
    bad.tensors["state.0.momentum_buffer"] = zeros({2}, {.dtype = kFloat64});
    CHECK_THROWS_WITH(opt.load_state_dict(bad),
                      Contains("unexpected tensor 'state.0.momentum_buffer'"));

    bad = good;
    bad.scalars["version"] = 2;
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("unexpected scalar 'version'"));

    bad = good;
    bad.scalars["param_groups.2.params"] = 1;
    expect_rejected(bad, "extra group");

    bad = good;
    bad.kind = "";
    CHECK_THROWS_WITH(opt.load_state_dict(bad), Contains("unnamed optimizer"));

    // After all that, the good dict still loads.
    opt.load_state_dict(good);
    CHECK(same_state(opt.state_dict(), good));
}
