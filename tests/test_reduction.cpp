// Reductions: sum, mean, max, min, argmax, argmin, var, std, logsumexp. Values against PyTorch
// 1.13 (literals printed by tests/reference/reduction_reference.py), gradcheck and
// gradgradcheck in float64, tie handling, special values and error messages.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
using autograd::gradcheck;
using autograd::GradcheckOptions;
using autograd::gradgradcheck;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// x from the reference script: [2, 3, 4] float64, sin(1.7 i + 0.3) * 3 + 0.05 i.
const std::vector<double> kX = {
    0.8865606199840186, 2.7778922804770447,  -1.489508422725479,  -2.1682934626679633,
    2.3869071203776278, 2.004751578675285,   -2.3390872799150104, -0.7246878467104811,
    3.316022504184928,  0.7732609568983322,  -2.4993232932190335, 0.999631628988857,
    3.48345817350635,   -0.5426670493642988, -1.8761210078297883, 2.6065050663601177,
    2.897720094965293,  -1.5470644359788408, -0.580022984870335,  3.7284500620415777,
    1.7640469985321052, -1.9253365603293442, 1.1026644704171316,  4.124649955642424};

Tensor ref_x() {
    return tensor(kX, {2, 3, 4}, {kFloat64});
}

void check_close(const Tensor& t, const Shape& shape, const std::vector<double>& want,
                 double tol = 1e-12) {
    CHECK(t.shape() == shape);
    auto v = t.to_vector<double>();
    REQUIRE(v.size() == want.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        INFO("element " << i);
        CHECK(v[i] == Approx(want[i]).margin(tol).epsilon(tol));
    }
}

void check_ints(const Tensor& t, const Shape& shape, const std::vector<std::int64_t>& want) {
    CHECK(t.dtype() == kInt64);
    CHECK(t.shape() == shape);
    CHECK(t.to_vector<std::int64_t>() == want);
}

Tensor leaf(const Shape& shape, std::uint64_t seed) {
    Generator g(seed);
    return randn(shape, g, {kFloat64}).detach().requires_grad_();
}

// Runs gradcheck (no exception) and reports the worst element on failure.
void expect_gradcheck(const std::string& what, const autograd::TensorFunction& f,
                      const TensorList& inputs) {
    GradcheckOptions opt;
    opt.raise_exception = false;
    auto r = gradcheck(f, inputs, opt);
    INFO(what << ": " << r.report);
    CHECK(r.ok);
}

void expect_gradgradcheck(const std::string& what, const autograd::TensorFunction& f,
                          const TensorList& inputs) {
    GradcheckOptions opt;
    opt.raise_exception = false;
    auto r = gradgradcheck(f, inputs, opt);
    INFO(what << ": " << r.report);
    CHECK(r.ok);
}

using Reduce = std::function<Tensor(const Tensor&, const Axes&, bool)>;

struct NamedReduce {
    const char* name;
    Reduce f;
};

std::vector<NamedReduce> differentiable_reductions() {
    return {
        {"sum", [](const Tensor& x, const Axes& d, bool k) { return sum(x, d, k); }},
        {"mean", [](const Tensor& x, const Axes& d, bool k) { return mean(x, d, k); }},
        {"max", [](const Tensor& x, const Axes& d, bool k) { return max(x, d, k); }},
        {"min", [](const Tensor& x, const Axes& d, bool k) { return min(x, d, k); }},
        {"var", [](const Tensor& x, const Axes& d, bool k) { return var(x, d, k); }},
        {"var(correction 0)",
         [](const Tensor& x, const Axes& d, bool k) { return var(x, d, k, 0); }},
        {"std", [](const Tensor& x, const Axes& d, bool k) { return xgrad::std(x, d, k); }},
        {"std(correction 0)",
         [](const Tensor& x, const Axes& d, bool k) { return xgrad::std(x, d, k, 0); }},
        {"logsumexp", [](const Tensor& x, const Axes& d, bool k) { return logsumexp(x, d, k); }},
    };
}

std::string dims_name(const Axes& d, bool keepdim) {
    std::string s = d.empty() ? std::string("all") : shape_str(d);
    return s + (keepdim ? " keepdim" : "");
}

}  // namespace

// ---- sum and mean ----------------------------------------------------------------------

TEST_CASE("sum values: all, single, negative and multiple dims, keepdim", "[reduction]") {
    Tensor x = ref_x();
    check_close(sum(x), {}, {17.16040916744052});
    check_close(x.sum({1}), {2, 4},
                {6.589490244546575, 5.555904816050662, -6.327918995859523, -1.8933496803895875,
                 8.145225267003749, -4.015068045672484, -1.3534795222829918, 10.459605084044119});
    check_close(sum(x, {0, 2}), {3}, {3.6778261977400017, 5.826966308585117, 7.655616661115401});
    check_close(sum(x, {2, -3}), {3}, {3.6778261977400017, 5.826966308585117, 7.655616661115401});
    check_close(sum(x, {-1}, true), {2, 3, 1},
                {0.006651015067621113, 1.3278835724274214, 2.589591796853084, 3.6711751826723806,
                 4.499082736157695, 5.0660248642623165});
    check_close(sum(x, {}, true), {1, 1, 1}, {17.16040916744052});
    CHECK(sum(x).dtype() == kFloat64);
}

TEST_CASE("sum of integers stays int64; sum of an empty tensor is 0", "[reduction]") {
    Tensor a = arange(12).reshape({3, 4});
    check_ints(sum(a), {}, {66});
    check_ints(sum(a, {0}), {4}, {12, 15, 18, 21});
    check_ints(sum(a, {1}, true), {3, 1}, {6, 22, 38});
    Tensor e = zeros({0, 3}, {kFloat64});
    check_close(sum(e), {}, {0.0});
    check_close(sum(e, {0}), {3}, {0.0, 0.0, 0.0});
    CHECK(sum(e, {1}).shape() == Shape{0});
    // Repeated, with dirty heap memory around, so an uninitialised result would show.
    for (int rep = 0; rep < 8; ++rep) {
        std::vector<double> junk(static_cast<std::size_t>(rep + 2) * 5, 123.0);
        junk.clear();
        junk.shrink_to_fit();
        check_close(sum(zeros({2, 0, 5}, {kFloat64}), {1}), {2, 5}, std::vector<double>(10, 0.0));
        check_close(sum(zeros({0, 4}), {0}, true), {1, 4}, std::vector<double>(4, 0.0));
        check_ints(sum(zeros({3, 0}, {kInt64}), {-1}), {3}, {0, 0, 0});
    }
}

TEST_CASE("float32 sum of 10^6 elements is accurate", "[reduction]") {
    // PyTorch's float32 sum gives 100000.0078125; the exact sum of 10^6 float32(0.1) values
    // is 100000.00149011612. A naive float accumulator drifts by ~1e3; xgrad accumulates in
    // double, so it rounds the exact value to float32.
    Tensor x = full({1000000}, 0.1, {kFloat32});
    const float s = sum(x).item<float>();
    CHECK(sum(x).dtype() == kFloat32);
    CHECK(std::fabs(static_cast<double>(s) - 100000.00149011612) < 0.01);
    CHECK(s == static_cast<float>(100000.00149011612));
    // Also along a dim: 1000 rows of 1000.
    Tensor rows = sum(x.reshape({1000, 1000}), {1});
    for (float r : rows.to_vector<float>()) REQUIRE(std::fabs(r - 100.0f) < 1e-4f);
    const float m = mean(x).item<float>();
    CHECK(std::fabs(m - 0.1f) < 1e-7f);
}

TEST_CASE("mean values", "[reduction]") {
    Tensor x = ref_x();
    check_close(mean(x), {}, {0.715017048643355});
    check_close(x.mean({-1, 0}), {3}, {0.4597282747175002, 0.7283707885731396, 0.9569520826394251});
    check_close(mean(x, {1}, true), {2, 1, 4},
                {2.1964967481821915, 1.8519682720168873, -2.1093063319531744, -0.6311165601298625,
                 2.7150750890012496, -1.3383560152241614, -0.4511598407609973, 3.4865350280147065});
    Tensor f = tensor({1.f, 2.f, 4.f});
    CHECK(mean(f).dtype() == kFloat32);
    CHECK(mean(f).item<double>() == Approx(7.0 / 3.0).epsilon(1e-6));
}

TEST_CASE("0-d inputs reduce to themselves", "[reduction]") {
    Tensor s = scalar_tensor(2.5, {kFloat64});
    for (bool keepdim : {false, true}) {
        CHECK(sum(s, {}, keepdim).shape() == Shape{});
        CHECK(sum(s, {0}, keepdim).item<double>() == 2.5);
        CHECK(mean(s, {-1}, keepdim).item<double>() == 2.5);
        CHECK(max(s, {}, keepdim).item<double>() == 2.5);
        CHECK(min(s, {0}, keepdim).item<double>() == 2.5);
        CHECK(logsumexp(s, {}, keepdim).item<double>() == Approx(2.5));
        CHECK(var(s, {}, keepdim, 0).item<double>() == 0.0);
        CHECK(std::isnan(var(s, {}, keepdim).item<double>()));  // N - correction = 0
    }
    check_ints(argmax(s), {}, {0});
    check_ints(argmin(s, 0, true), {}, {0});
    CHECK_THROWS_AS(sum(s, {1}), IndexError);
    // The gradient of a 0-d reduction is the incoming gradient.
    Tensor l = scalar_tensor(-1.5, {kFloat64, true});
    (max(l) * 3.0 + logsumexp(l)).backward();
    CHECK(l.grad().item<double>() == Approx(4.0));
}

// ---- max, min, argmax, argmin ----------------------------------------------------------

TEST_CASE("max and min values", "[reduction]") {
    Tensor x = ref_x();
    check_close(max(x), {}, {4.124649955642424});
    check_close(x.max({1}), {2, 4},
                {3.316022504184928, 2.7778922804770447, -1.489508422725479, 0.999631628988857,
                 3.48345817350635, -0.5426670493642988, 1.1026644704171316, 4.124649955642424});
    check_close(max(x, {0, -1}), {3}, {3.48345817350635, 3.7284500620415777, 4.124649955642424});
    check_close(max(x, {0}, true), {1, 3, 4},
                {3.48345817350635, 2.7778922804770447, -1.489508422725479, 2.6065050663601177,
                 2.897720094965293, 2.004751578675285, -0.580022984870335, 3.7284500620415777,
                 3.316022504184928, 0.7732609568983322, 1.1026644704171316, 4.124649955642424});
    check_close(x.min(), {}, {-2.4993232932190335});
    check_close(min(x, {2}), {2, 3},
                {-2.1682934626679633, -2.3390872799150104, -2.4993232932190335, -1.8761210078297883,
                 -1.5470644359788408, -1.9253365603293442});
    check_close(min(x, {1, 2}, true), {2, 1, 1}, {-2.4993232932190335, -1.9253365603293442});
    CHECK(max(x).dtype() == kFloat64);
    // float32 and int64 keep their dtype.
    Tensor f = tensor({{1.5f, -2.f}, {0.25f, 7.f}});
    CHECK(max(f).dtype() == kFloat32);
    check_close(min(f, {0}), {2}, {0.25, -2.0});
    Tensor a = tensor(std::vector<std::int64_t>{4, -9, 12, 3, 12, -9}, {2, 3});
    check_ints(max(a, {1}), {2}, {12, 12});
    check_ints(min(a), {}, {-9});
    // A kept empty dim gives an empty result, not an error (as torch.amax).
    CHECK(max(zeros({0, 3}), {1}).shape() == Shape{0});
}

TEST_CASE("max and min propagate NaN; infinities are ordinary values", "[reduction]") {
    Tensor x = tensor({{1.0, kNaN, 3.0}, {-kInf, 2.0, -1.0}, {kNaN, -5.0, kInf}}, {kFloat64});
    CHECK(std::isnan(max(x).item<double>()));
    CHECK(std::isnan(min(x).item<double>()));
    auto mx = max(x, {1}).to_vector<double>();
    CHECK(std::isnan(mx[0]));
    CHECK(mx[1] == 2.0);
    CHECK(std::isnan(mx[2]));
    auto mn = min(x, {0}).to_vector<double>();
    CHECK(std::isnan(mn[0]));
    CHECK(std::isnan(mn[1]));
    CHECK(mn[2] == -1.0);
    CHECK(min(x, {1}).to_vector<double>()[1] == -kInf);
    // The NaN at the end of a slice is not dropped either.
    CHECK(std::isnan(max(tensor({1.f, 2.f, NAN})).item<float>()));
    CHECK(std::isnan(min(tensor({NAN, 2.f, 1.f})).item<float>()));
    // argmax/argmin point at the first NaN (torch: argmax([1, nan, 3, nan]) == 1).
    check_ints(argmax(tensor({1.0, kNaN, 3.0, kNaN})), {}, {1});
    check_ints(argmin(x, 1), {3}, {1, 0, 0});
    // The gradient goes to the NaN element (the one the result came from).
    Tensor l = tensor({1.0, kNaN, 3.0}, {kFloat64, true});
    max(l).backward();
    auto g = l.grad().to_vector<double>();
    CHECK(g[0] == 0.0);
    CHECK(g[1] == 1.0);
    CHECK(g[2] == 0.0);
}

TEST_CASE("argmax and argmin values", "[reduction]") {
    Tensor x = ref_x();
    check_ints(argmax(x), {}, {23});
    check_ints(x.argmax(1), {2, 4}, {2, 0, 0, 2, 0, 0, 2, 2});
    check_ints(argmax(x, -1, true), {2, 3, 1}, {1, 0, 0, 0, 3, 3});
    check_ints(argmin(x), {}, {10});
    check_ints(argmin(x, 0), {3, 4}, {0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0});
    check_ints(argmin(x, 2), {2, 3}, {3, 2, 2, 2, 1, 1});
    // No dim + keepdim keeps every dim as size 1 (torch 1.13: shape [1, 1, 1]).
    check_ints(x.argmax(std::nullopt, true), {1, 1, 1}, {23});
    // Ties: the first occurrence.
    Tensor t = tensor({{3.f, 1.f, 3.f}, {0.f, 0.f, -2.f}});
    check_ints(argmax(t), {}, {0});
    check_ints(argmax(t, 1), {2}, {0, 0});
    check_ints(argmin(t, 0), {3}, {1, 1, 1});
    check_ints(argmin(t), {}, {5});
    Tensor a = tensor(std::vector<std::int64_t>{5, 9, 9, -1}, {2, 2});
    check_ints(argmax(a), {}, {1});
    check_ints(argmin(a, 0), {2}, {0, 1});
    // Over a non-empty dim of a tensor with an empty other dim: an empty result.
    CHECK(argmax(zeros({0, 3}), 1).shape() == Shape{0});
}

TEST_CASE("max/min ties share the gradient evenly (torch.amax/amin)", "[reduction]") {
    Tensor t = tensor({1.0, 3.0, 3.0}, {kFloat64, true});
    max(t).backward();
    check_close(t.grad(), {3}, {0.0, 0.5, 0.5});

    Tensor t2 = tensor({{2.0, -1.0, 3.0, -1.0}, {0.5, 0.5, 3.0, 0.5}}, {kFloat64, true});
    (min(t2, {1}) * tensor({1.0, 10.0}, {kFloat64})).sum().backward();
    check_close(
        t2.grad(), {2, 4},
        {0.0, 0.5, 0.0, 0.5, 3.3333333333333335, 3.3333333333333335, 0.0, 3.3333333333333335});

    Tensor t3 = t2.detach().clone().requires_grad_();
    max(t3, {0}, true).sum().backward();
    check_close(t3.grad(), {2, 4}, {1.0, 0.0, 0.5, 0.0, 0.0, 1.0, 0.5, 1.0});

    // All equal: every element gets 1/n of the gradient.
    Tensor c = full({2, 3}, 4.0, {kFloat64, true});
    (min(c) * 6.0).backward();
    check_close(c.grad(), {2, 3}, {1, 1, 1, 1, 1, 1});
}

TEST_CASE("second derivative through max is zero (mask is constant)", "[reduction]") {
    Tensor x = tensor({0.5, 2.0, -1.0}, {kFloat64, true});
    Tensor y = max(x) * max(x);  // d/dx = 2 max(x) * onehot; d2/dx2 = 2 onehot onehot^T
    auto gs = autograd::grad({y}, {x}, {}, {std::nullopt, true});
    check_close(gs[0], {3}, {0.0, 4.0, 0.0});
    gs[0].sum().backward();
    check_close(x.grad(), {3}, {0.0, 2.0, 0.0});
}

// ---- var, std ----------------------------------------------------------------------------

TEST_CASE("var and std values", "[reduction]") {
    Tensor x = ref_x();
    check_close(var(x), {}, {4.805369954593469});
    check_close(x.var({1}), {2, 4},
                {1.5027633440759613, 1.0221437399633408, 0.2945309812021586, 2.5155040358414826,
                 0.7641130958092827, 0.5106131478085139, 2.2307450137859908, 0.6200831389796629});
    check_close(var(x, {0, 2}, false, 0), {3},
                {4.559334189234564, 4.562077609064903, 4.5701435800193995});
    check_close(x.var({-1}, true, 2), {2, 3, 1},
                {7.711398038729409, 7.636018788129946, 8.58166082742208, 9.686642632273887,
                 9.98376013962694, 9.315618446570648});
    check_close(x.std(), {}, {2.1921154063126944});
    check_close(xgrad::std(x, {2}, false, 0), {2, 3},
                {1.9635933946122106, 1.9539727209111628, 2.0714319717796768, 2.2007547151231877,
                 2.234251568157326, 2.1581958259818137});
    check_close(xgrad::std(x, {0, 1}, true), {1, 1, 4},
                {0.9936939290466112, 1.9148246584052477, 1.3546015406277738, 2.518084837795046});
    // float32 in, float32 out, accurate even with a large offset (two-pass algorithm).
    Tensor f = tensor({1e4f + 1.f, 1e4f + 2.f, 1e4f + 3.f, 1e4f + 4.f});
    CHECK(var(f).dtype() == kFloat32);
    CHECK(var(f).item<double>() == Approx(5.0 / 3.0).epsilon(1e-6));
    CHECK(xgrad::std(f, {}, false, 0).item<double>() == Approx(std::sqrt(1.25)).epsilon(1e-6));
}

TEST_CASE("var with N - correction <= 0 gives nan or inf (as PyTorch)", "[reduction]") {
    CHECK(std::isnan(var(tensor({2.f})).item<float>()));                      // 0 / 0
    CHECK(std::isnan(xgrad::std(tensor({2.f})).item<float>()));               // sqrt(nan)
    CHECK(std::isinf(var(tensor({2.f, 3.f}), {0}, false, 3).item<float>()));  // 0.5 / 0
    CHECK(var(tensor({2.f, 3.f}), {0}, false, 3).item<float>() > 0);
    // A negative correction enlarges the divisor: 0.5 / 3.
    CHECK(var(tensor({2.f, 3.f}), {0}, false, -1).item<float>() ==
          Approx(0.1666666716337204).epsilon(1e-6));
    // Over zero elements: nan (torch.var(torch.empty(0)) is nan).
    CHECK(std::isnan(var(zeros({0}, {kFloat64})).item<double>()));
    auto v = var(zeros({0, 2}, {kFloat64}), {0}).to_vector<double>();
    REQUIRE(v.size() == 2);
    CHECK(std::isnan(v[0]));
    CHECK(std::isnan(v[1]));
}

// ---- logsumexp -------------------------------------------------------------------------

TEST_CASE("logsumexp values", "[reduction]") {
    Tensor x = ref_x();
    check_close(logsumexp(x), {}, {5.5153294796489005});
    check_close(x.logsumexp({1}), {2, 4},
                {3.7100808773083047, 3.2455626362880836, -0.9062423011690213, 1.1987981642394265,
                 4.03496485315986, -0.06198739865453329, 1.3151339253900087, 4.7622792348963365});
    check_close(logsumexp(x, {0, 2}, true), {1, 3, 1},
                {4.185248993117005, 4.3745614082227915, 4.638188670982787});
    check_close(logsumexp(x, {0, 1, 2}), {}, {5.5153294796489005});
}

TEST_CASE("logsumexp is stable: large values, -inf rows, +inf, NaN, empty", "[reduction]") {
    Tensor big = tensor({1000.f, 1000.f});
    CHECK(logsumexp(big).dtype() == kFloat32);
    CHECK(logsumexp(big).item<float>() == Approx(1000.6931762695312).epsilon(1e-7));
    CHECK(logsumexp(tensor({88.f, 89.f, 90.f})).item<float>() ==
          Approx(90.40760803222656).epsilon(1e-7));
    Tensor rows = tensor({{-kInf, -kInf, -kInf}, {1.0, 2.0, 3.0}, {-1e30, 5.0, -kInf}}, {kFloat64});
    auto r = logsumexp(rows, {1}).to_vector<double>();
    CHECK(r[0] == -kInf);
    CHECK(r[1] == Approx(3.4076059644443806).epsilon(1e-14));
    CHECK(r[2] == 5.0);
    auto rk = logsumexp(rows, {-1}, true);
    CHECK(rk.shape() == Shape{3, 1});
    CHECK(rk.to_vector<double>()[0] == -kInf);
    CHECK(logsumexp(tensor({kInf, 1.0}, {kFloat64})).item<double>() == kInf);
    CHECK(std::isnan(logsumexp(tensor({kNaN, 1.0}, {kFloat64})).item<double>()));
    // Over zero elements: log(0) = -inf (torch.logsumexp(torch.empty(0, 3), 0)).
    auto e = logsumexp(zeros({0, 3}, {kFloat64}), {0}).to_vector<double>();
    CHECK(e == std::vector<double>{-kInf, -kInf, -kInf});
    // The gradient of a row with large values is the softmax: finite.
    Tensor l = tensor({1000.0, 1000.0, 999.0}, {kFloat64, true});
    logsumexp(l).backward();
    const double z = 2 + std::exp(-1.0);
    check_close(l.grad(), {3}, {1 / z, 1 / z, std::exp(-1.0) / z});
}

// ---- gradients ---------------------------------------------------------------------------

TEST_CASE("gradients match PyTorch for var, std, logsumexp and a broadcast composite",
          "[reduction]") {
    auto grad_of = [](const std::function<Tensor(const Tensor&)>& f, const Tensor& x0) {
        Tensor x = x0.detach().clone().requires_grad_();
        f(x).sum().backward();
        return x.grad();
    };
    Tensor x = ref_x();
    check_close(
        grad_of([](const Tensor& t) { return var(t, {1}); }, x), {2, 3, 4},
        {-1.309936128198173,  0.9259240084601574,   0.6197979092276955,   -1.5371769025381008,
         0.19041037219543622, 0.1527833066583979,   -0.229780947961836,   -0.09357128658061864,
         1.1195257560027363,  -1.078707315118555,   -0.39001696126585905, 1.6307481891187194,
         0.7683830845051003,  0.7956889658598626,   -1.424961167068791,   -0.8800299616545888,
         0.18264500596404343, -0.20870842075467944, -0.1288631441093377,  0.2419150340268712,
         -0.9510280904691444, -0.5869805451051828,  1.553824311178129,    0.6381149276277172},
        1e-10);
    check_close(
        grad_of([](const Tensor& t) { return xgrad::std(t); }, x), {2, 3, 4},
        {0.0034023829784545273, 0.040914920452064976,  -0.0437244012161753,  -0.05718737536251355,
         0.033160148628475,     0.025580502827420696,  -0.06057488777166484, -0.028555004373914426,
         0.05158815698915237,   0.0011552055288149795, -0.06375299744922515, 0.005645025319336859,
         0.05490906413147853,   -0.024944816840943497, -0.05139244769868079, 0.03751563865165193,
         0.04329157679175714,   -0.04486596308451284,  -0.02568573180567616, 0.059768215802958845,
         0.02080638532529157,   -0.05236858546234661,  0.007688571359317594, 0.06762641627947807},
        1e-10);
    check_close(
        grad_of([](const Tensor& t) { return logsumexp(t, {-1}); }, x), {2, 3, 4},
        {0.12872938675726478, 0.8532427444843451,    0.011960904600556748, 0.006066964157833195,
         0.5761096508921907,  0.39313083384286795,   0.005105424533123162, 0.02565409073181837,
         0.8472714685287925,  0.06663697488542174,   0.002526096818145758, 0.08356545976764027,
         0.695122740418476,   0.012403308009840401,  0.003269082137312738, 0.28920486943437085,
         0.2996155884096127,  0.0035173777341017012, 0.009251236342057037, 0.6876157975142285,
         0.0823827467274851,  0.002058530691490136,  0.04252080572028545,  0.873037916860739},
        1e-10);
    // sum(w * (x - mean(x, 1, keepdim))^2) with x = ref_x()[0] ([3, 4]).
    Tensor w = arange(12, {kFloat64}).reshape({3, 4}) / 7.0 - 0.5;
    Tensor x0 = tensor(std::vector<double>(kX.begin(), kX.begin() + 12), {3, 4}, {kFloat64});
    check_close(grad_of(
                    [&w](const Tensor& t) {
                        Tensor d = t - mean(t, {1}, true);
                        return w * d * d;
                    },
                    x0),
                {3, 4},
                {-0.40518490367573945, -1.5033081279658687, 1.118786323895253, 0.7897067077463552,
                 0.7820845953192037, 1.2054282852384208, -1.419376417877953, -0.5681364626796714,
                 3.796151459095901, 0.5628474719231528, -5.478848133241938, 1.1198492022228836},
                1e-10);
}

TEST_CASE("gradcheck of every differentiable reduction over dims and keepdim", "[reduction]") {
    const std::vector<Axes> dim_sets = {{}, {1}, {-1}, {0, 2}, {2, 0, 1}};
    Tensor x = leaf({2, 3, 4}, 11);
    for (const auto& op : differentiable_reductions()) {
        for (const auto& dims : dim_sets) {
            for (bool keepdim : {false, true}) {
                Reduce f = op.f;
                expect_gradcheck(
                    std::string(op.name) + " " + dims_name(dims, keepdim),
                    [f, dims, keepdim](const TensorList& in) { return f(in[0], dims, keepdim); },
                    {x});
            }
        }
    }
}

TEST_CASE("gradcheck of reductions used with broadcasting", "[reduction]") {
    Tensor x = leaf({3, 4}, 12);
    for (const auto& op : differentiable_reductions()) {
        Reduce f = op.f;
        // (x - r(x, {1}, keepdim)) with a nonlinearity so the result is not trivially zero.
        expect_gradcheck(std::string(op.name) + " centred",
                         [f](const TensorList& in) {
                             Tensor c = in[0] - f(in[0], {1}, true);
                             return c * c * in[0];
                         },
                         {x});
        // r over dim 0 without keepdim broadcasts against the rows.
        expect_gradcheck(
            std::string(op.name) + " row-broadcast",
            [f](const TensorList& in) { return in[0] / (f(in[0], {0}, false) + 10.0); }, {x});
    }
}

TEST_CASE("gradgradcheck of sum, mean, var, std, logsumexp", "[reduction]") {
    Tensor x = leaf({3, 4}, 13);
    const std::vector<std::pair<Axes, bool>> configs = {{{}, false}, {{1}, false}, {{0}, true}};
    for (const auto& op : differentiable_reductions()) {
        const std::string name = op.name;
        if (name == "max" || name == "min") continue;  // piecewise linear: covered above
        for (const auto& [dims, keepdim] : configs) {
            Reduce f = op.f;
            // Multiply by x so that even sum/mean have a non-zero second derivative.
            expect_gradgradcheck(name + " " + dims_name(dims, keepdim),
                                 [f, dims = dims, keepdim = keepdim](const TensorList& in) {
                                     return f(in[0], dims, keepdim) * sum(in[0] * in[0]);
                                 },
                                 {x});
            expect_gradgradcheck(name + " plain " + dims_name(dims, keepdim),
                                 [f, dims = dims, keepdim = keepdim](const TensorList& in) {
                                     return f(in[0], dims, keepdim);
                                 },
                                 {x});
        }
    }
}

TEST_CASE("reductions of tensors that do not require grad record nothing", "[reduction]") {
    Tensor x = ref_x();
    CHECK_FALSE(max(x).requires_grad());
    CHECK_FALSE(var(x, {1}).requires_grad());
    Tensor l = ref_x().requires_grad_();
    CHECK(max(l, {1}).requires_grad());
    CHECK(logsumexp(l, {1}).requires_grad());
    CHECK_FALSE(argmax(l).requires_grad());
    {
        NoGradGuard no_grad;
        CHECK_FALSE(min(l).requires_grad());
        CHECK_FALSE(xgrad::std(l).requires_grad());
    }
}

// ---- errors ------------------------------------------------------------------------------

TEST_CASE("reduction errors name the op and the shapes or dims at fault", "[reduction]") {
    Tensor x = ref_x();
    // Bad dims.
    CHECK_THROWS_AS(sum(x, {3}), IndexError);
    CHECK_THROWS_WITH(sum(x, {3}), Catch::Contains("xgrad::sum") && Catch::Contains("3"));
    CHECK_THROWS_AS(max(x, {-4}), IndexError);
    CHECK_THROWS_WITH(max(x, {-4}), Catch::Contains("xgrad::max") && Catch::Contains("-4"));
    CHECK_THROWS_WITH(min(x, {5}), Catch::Contains("xgrad::min"));
    CHECK_THROWS_AS(argmax(x, 3), IndexError);
    CHECK_THROWS_WITH(argmax(x, 3), Catch::Contains("xgrad::argmax"));
    CHECK_THROWS_WITH(argmin(x, -5), Catch::Contains("xgrad::argmin"));
    CHECK_THROWS_AS(var(x, {7}), IndexError);
    CHECK_THROWS_WITH(var(x, {7}), Catch::Contains("xgrad::var"));
    CHECK_THROWS_WITH(xgrad::std(x, {7}), Catch::Contains("xgrad::std"));
    CHECK_THROWS_WITH(logsumexp(x, {7}), Catch::Contains("xgrad::logsumexp"));
    CHECK_THROWS_WITH(mean(x, {-9}), Catch::Contains("xgrad::mean"));
    // Repeated dims (also after normalising negatives).
    CHECK_THROWS_AS(sum(x, {1, 1}), IndexError);
    CHECK_THROWS_WITH(sum(x, {1, -2}), Catch::Contains("xgrad::sum") && Catch::Contains("twice"));
    CHECK_THROWS_AS(max(x, {0, -3}), IndexError);
    CHECK_THROWS_WITH(max(x, {0, -3}), Catch::Contains("xgrad::max"));
    CHECK_THROWS_WITH(var(x, {2, 2}), Catch::Contains("xgrad::var"));
    CHECK_THROWS_WITH(logsumexp(x, {0, 0}), Catch::Contains("xgrad::logsumexp"));
    // Empty reductions with no identity.
    Tensor e = zeros({0, 3});
    CHECK_THROWS_AS(max(e), ValueError);
    CHECK_THROWS_WITH(max(e), Catch::Contains("xgrad::max") && Catch::Contains("[0, 3]"));
    CHECK_THROWS_AS(min(e, {0}), ValueError);
    CHECK_THROWS_WITH(min(e, {0}), Catch::Contains("xgrad::min") && Catch::Contains("[0, 3]"));
    CHECK_THROWS_AS(argmax(e), ValueError);
    CHECK_THROWS_WITH(argmax(e), Catch::Contains("xgrad::argmax") && Catch::Contains("[0, 3]"));
    CHECK_THROWS_AS(argmin(e, 0), ValueError);
    CHECK_THROWS_WITH(argmin(e, 0), Catch::Contains("xgrad::argmin"));
    CHECK_THROWS_AS(mean(e), ValueError);
    CHECK_THROWS_WITH(mean(e), Catch::Contains("xgrad::mean"));
    // Dtypes.
    Tensor a = arange(6);
    CHECK_THROWS_AS(mean(a), DtypeError);
    CHECK_THROWS_WITH(mean(a), Catch::Contains("xgrad::mean") && Catch::Contains("int64"));
    CHECK_THROWS_AS(var(a), DtypeError);
    CHECK_THROWS_WITH(var(a), Catch::Contains("xgrad::var") && Catch::Contains("int64"));
    CHECK_THROWS_WITH(xgrad::std(a), Catch::Contains("xgrad::std"));
    CHECK_THROWS_AS(logsumexp(a), DtypeError);
    CHECK_THROWS_WITH(logsumexp(a), Catch::Contains("xgrad::logsumexp"));
    // A bool sum counts the trues as int64 (PyTorch); a bool mean is an error.
    CHECK(sum(tensor({true, false, true})).item<std::int64_t>() == 2);
    CHECK(sum(tensor({true, false})).dtype() == kInt64);
    CHECK_THROWS_AS(mean(tensor({true, false})), DtypeError);
    CHECK_THROWS_WITH(mean(tensor({true, false})), Catch::Contains("xgrad::mean"));
    // Undefined tensors.
    CHECK_THROWS_AS(max(Tensor()), ValueError);
    CHECK_THROWS_WITH(argmin(Tensor()), Catch::Contains("xgrad::argmin"));
}
