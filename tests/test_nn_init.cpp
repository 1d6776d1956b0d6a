// nn::init: ranges, spreads and orthogonality of the initialisers, reproducibility from seeds.
#include <catch2/catch.hpp>
#include <cmath>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
namespace init = xgrad::nn::init;

namespace {
struct Stats {
    double mean, std, lo, hi;
};
Stats stats(const Tensor& t) {
    auto v = t.to_vector<double>();
    double m = 0, s = 0, lo = v[0], hi = v[0];
    for (double x : v) m += x, lo = std::min(lo, x), hi = std::max(hi, x);
    m /= double(v.size());
    for (double x : v) s += (x - m) * (x - m);
    return {m, std::sqrt(s / double(v.size())), lo, hi};
}
}  // namespace

TEST_CASE("gains and fans follow torch.nn.init", "[nn][init]") {
    CHECK(init::calculate_gain("linear") == 1.0);
    CHECK(init::calculate_gain("tanh") == Approx(5.0 / 3.0));
    CHECK(init::calculate_gain("relu") == Approx(std::sqrt(2.0)));
    CHECK(init::calculate_gain("leaky_relu", 0.2) == Approx(std::sqrt(2.0 / 1.04)));
    CHECK(init::calculate_gain("selu") == 0.75);
    CHECK_THROWS_AS(init::calculate_gain("swishy"), ValueError);
    auto [in, out] = init::calculate_fan_in_and_fan_out(empty({16, 3, 5, 5}));
    CHECK(in == 75);
    CHECK(out == 400);
    CHECK_THROWS_AS(init::calculate_fan_in_and_fan_out(empty({4})), ShapeError);
}

TEST_CASE("initialisers give the documented distributions", "[nn][init]") {
    Generator g(9);
    Tensor w = empty({400, 300});
    init::uniform_(w, -0.5, 2.0, g);
    auto s = stats(w);
    CHECK(s.lo >= -0.5);
    CHECK(s.hi < 2.0);
    CHECK(s.mean == Approx(0.75).margin(0.01));
    init::normal_(w, 3.0, 0.5, g);
    s = stats(w);
    CHECK(s.mean == Approx(3.0).margin(0.01));
    CHECK(s.std == Approx(0.5).margin(0.01));
    init::xavier_uniform_(w, 1.0, g);
    const double a = std::sqrt(6.0 / 700.0);
    s = stats(w);
    CHECK(s.hi <= a);
    CHECK(s.lo >= -a);
    CHECK(s.std == Approx(a / std::sqrt(3.0)).epsilon(0.02));
    init::xavier_normal_(w, 2.0, g);
    CHECK(stats(w).std == Approx(2.0 * std::sqrt(2.0 / 700.0)).epsilon(0.02));
    init::kaiming_normal_(w, 0.0, init::FanMode::fan_in, "relu", g);
    CHECK(stats(w).std == Approx(std::sqrt(2.0 / 300.0)).epsilon(0.02));
    init::kaiming_uniform_(w, 0.0, init::FanMode::fan_out, "relu", g);
    s = stats(w);
    CHECK(s.hi <= std::sqrt(6.0 / 400.0));
    CHECK(s.std == Approx(std::sqrt(2.0 / 400.0)).epsilon(0.02));
    init::constant_(w, 0.25);
    CHECK(stats(w).lo == 0.25);
    init::ones_(w);
    CHECK(stats(w).hi == 1.0);
    init::zeros_(w);
    CHECK(stats(w).hi == 0.0);
    Tensor i = arange(4);
    CHECK_THROWS_AS(init::normal_(i), DtypeError);
    CHECK_THROWS_AS(init::uniform_(w, 1.0, 0.0), ValueError);
}

TEST_CASE("orthogonal_ gives orthonormal rows or columns", "[nn][init]") {
    Generator g(3);
    for (Shape shape : {Shape{6, 4}, Shape{4, 6}, Shape{5, 5}, Shape{3, 2, 2}}) {
        Tensor w = empty(shape, {kFloat64});
        init::orthogonal_(w, 1.5, g);
        Tensor m = w.reshape({shape[0], -1});
        // Tall: columns orthonormal (W^T W = g^2 I); wide: rows orthonormal (W W^T = g^2 I).
        Tensor gram = m.size(0) >= m.size(1) ? matmul(m.t(), m) : matmul(m, m.t());
        Tensor expect = eye(gram.size(0), -1, {kFloat64}) * 2.25;
        auto gv = gram.to_vector<double>(), ev = expect.to_vector<double>();
        for (std::size_t k = 0; k < gv.size(); ++k) CHECK(gv[k] == Approx(ev[k]).margin(1e-10));
    }
    Tensor v = empty({3});
    CHECK_THROWS_AS(init::orthogonal_(v), ShapeError);
}

TEST_CASE("a seed fixes every initial weight", "[nn][init]") {
    manual_seed(123);
    nn::Linear a(5, 3);
    manual_seed(123);
    nn::Linear b(5, 3);
    CHECK(a.weight.to_vector<float>() == b.weight.to_vector<float>());
    CHECK(a.bias.to_vector<float>() == b.bias.to_vector<float>());
    nn::Linear c(5, 3);
    CHECK(a.weight.to_vector<float>() != c.weight.to_vector<float>());
}
