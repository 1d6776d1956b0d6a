// Run-time instruction-set dispatch of the hot loops (core/src/kernels/isa.hpp): every path this
// CPU can run (baseline SSE2, AVX2+FMA, AVX-512) gives the same results, the float32 math stays
// within 2 ulp, and config() reports the choice.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;

namespace {

struct IsaGuard {
    std::string saved = kernel_isa();
    ~IsaGuard() { set_kernel_isa(saved); }
};

// The instruction sets this CPU can run, each once.
std::vector<std::string> available_isas() {
    IsaGuard guard;
    std::vector<std::string> out;
    for (const char* name : {"baseline", "avx2", "avx512"}) {
        const std::string got = set_kernel_isa(name);
        if (out.empty() || out.back() != got) out.push_back(got);
    }
    return out;
}

// Bits of a tensor's data, for exact comparisons (NaN-safe).
std::vector<unsigned char> bytes(const Tensor& t) {
    std::vector<unsigned char> b;
    if (t.dtype() == kFloat32) {
        auto v = t.to_vector<float>();
        b.resize(v.size() * sizeof(float));
        std::memcpy(b.data(), v.data(), b.size());
    } else if (t.dtype() == kFloat64) {
        auto v = t.to_vector<double>();
        b.resize(v.size() * sizeof(double));
        std::memcpy(b.data(), v.data(), b.size());
    } else {
        auto v = t.to_vector<std::int64_t>();
        b.resize(v.size() * sizeof(std::int64_t));
        std::memcpy(b.data(), v.data(), b.size());
    }
    return b;
}

// Distance in units in the last place between two floats (0 for two NaNs or equal infinities).
std::int64_t ulps(float a, float b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : 1 << 30;
    if (a == b) return 0;
    auto key = [](float f) {
        std::int32_t i;
        std::memcpy(&i, &f, sizeof i);
        return i < 0 ? std::int64_t(std::numeric_limits<std::int32_t>::min()) - i : std::int64_t(i);
    };
    const std::int64_t d = key(a) - key(b);
    return d < 0 ? -d : d;
}

// |a - b| <= atol + rtol |b| elementwise (float32 tensors of one shape).
bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
    const auto x = a.to_vector<float>(), y = b.to_vector<float>();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
        if (!(std::fabs(double(x[i]) - double(y[i])) <= atol + rtol * std::fabs(double(y[i]))))
            return false;
    return true;
}

// A tensor spanning two parallel chunks and a ragged tail, values in [lo, hi).
Tensor spread(Dtype dtype, double lo, double hi, std::uint64_t seed, std::int64_t n = 131101) {
    Generator g(seed);
    return rand({n}, g, {dtype}) * (hi - lo) + lo;
}

}  // namespace

TEST_CASE("kernel_isa names the dispatched instruction set and config() reports it", "[dispatch]") {
    const std::string isa = kernel_isa();
    CHECK((isa == "baseline" || isa == "avx2" || isa == "avx512"));
    const std::string c = config();
    INFO(c);
    CHECK_THAT(c, Contains("elementwise kernels: " + isa + " (runtime dispatch; CPU supports "));
}

TEST_CASE("set_kernel_isa caps the instruction set and rejects unknown names", "[dispatch]") {
    IsaGuard guard;
    CHECK(set_kernel_isa("baseline") == "baseline");
    CHECK(kernel_isa() == "baseline");
    CHECK_THAT(config(), Contains("elementwise kernels: baseline"));
    const std::string best = set_kernel_isa("auto");
    CHECK(set_kernel_isa("avx512") == best);  // never above what the CPU has
    CHECK_THROWS_AS(set_kernel_isa("sse9"), ValueError);
    CHECK(kernel_isa() == best);
}

TEST_CASE("arithmetic, activations and sums give the same bits on every instruction set",
          "[dispatch]") {
    const auto isas = available_isas();
    INFO("instruction sets: " << isas.size());
    for (Dtype dt : {kFloat32, kFloat64}) {
        const Tensor a = spread(dt, -3, 3, 1), b = spread(dt, 0.5, 2, 2);
        const Tensor m = spread(dt, -2, 2, 3, 6 * 35).reshape({6, 5, 7});
        const Tensor row = spread(dt, -2, 2, 4, 7), col = spread(dt, -2, 2, 5, 5).reshape({5, 1});
        auto run = [&] {
            std::vector<Tensor> r = {
                a + b,           a - b,         a * b,      a / b,
                minimum(a, b),   maximum(a, b), a + 0.5,    2.0 - a,
                a * 3.0,         a / 7.0,       7.0 / b,    -a,
                abs(a),          relu(a),       a.pow(2.0), clamp(a, -1.0, 0.5),
                sqrt(b),         m + row,       m * col,    row - m,
                m / (col + 3.0), a.sum(),       m.sum({1}), m.sum({0, 2}),
                m.mean({2})};
            return r;
        };
        IsaGuard guard;
        set_kernel_isa("baseline");
        const auto ref = run();
        for (const auto& isa : isas) {
            set_kernel_isa(isa);
            const auto got = run();
            for (std::size_t k = 0; k < ref.size(); ++k) {
                INFO(isa << " " << dtype_name(dt) << " result " << k);
                CHECK(bytes(got[k]) == bytes(ref[k]));
            }
        }
    }
    // int64
    const Tensor ia = randint(-50, 50, {70001}), ib = randint(-50, 50, {70001});
    IsaGuard guard;
    set_kernel_isa("baseline");
    const auto ref =
        std::vector<Tensor>{ia + ib,  ia - ib, ia * ib, minimum(ia, ib), maximum(ia, ib),
                            relu(ia), abs(ia), -ia,     ia.sum()};
    for (const auto& isa : isas) {
        set_kernel_isa(isa);
        const auto got =
            std::vector<Tensor>{ia + ib,  ia - ib, ia * ib, minimum(ia, ib), maximum(ia, ib),
                                relu(ia), abs(ia), -ia,     ia.sum()};
        for (std::size_t k = 0; k < ref.size(); ++k) {
            INFO(isa << " int64 result " << k);
            CHECK(bytes(got[k]) == bytes(ref[k]));
        }
    }
}

TEST_CASE("float32 exp, log, tanh and sigmoid stay within 2 ulp on every instruction set",
          "[dispatch]") {
    std::vector<float> xs;
    for (double v = -110; v <= 100; v += 0.0137) xs.push_back(static_cast<float>(v));
    for (double v = -1; v <= 1; v += 1.0 / 4096) xs.push_back(static_cast<float>(v));
    for (int e = -149; e <= 127; ++e) {
        xs.push_back(std::ldexp(1.0f, e));
        xs.push_back(std::ldexp(1.37f, e));
        xs.push_back(-std::ldexp(1.37f, e));
    }
    const float inf = std::numeric_limits<float>::infinity();
    for (float v : {0.f, -0.f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), 88.72f, 88.73f,
                    -87.3f, -103.9f, -104.f, 0.625f, -0.625f, 9.f, -9.f})
        xs.push_back(v);
    const Tensor x = tensor(xs);
    struct Fn {
        const char* name;
        Tensor (*op)(const Tensor&);
        double (*ref)(double);
    };
    const Fn fns[] = {
        {"exp", [](const Tensor& t) { return exp(t); }, [](double v) { return std::exp(v); }},
        {"log", [](const Tensor& t) { return log(t); }, [](double v) { return std::log(v); }},
        {"tanh", [](const Tensor& t) { return tanh(t); }, [](double v) { return std::tanh(v); }},
        {"sigmoid", [](const Tensor& t) { return sigmoid(t); },
         [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
    };
    IsaGuard guard;
    for (const auto& isa : available_isas()) {
        set_kernel_isa(isa);
        for (const Fn& f : fns) {
            const auto got = f.op(x).to_vector<float>();
            std::int64_t worst = 0;
            float worst_x = 0;
            for (std::size_t i = 0; i < xs.size(); ++i) {
                const float want = static_cast<float>(f.ref(static_cast<double>(xs[i])));
                // Results below the smallest normal float compare absolutely (sigmoid, as
                // PyTorch's float32 one, gives 0 once e^-x overflows).
                const std::int64_t d =
                    std::fabs(want) < std::numeric_limits<float>::min()
                        ? (std::fabs(got[i] - want) <= std::numeric_limits<float>::min() ? 0 : 99)
                        : ulps(got[i], want);
                if (d > worst) worst = d, worst_x = xs[i];
            }
            INFO(isa << " " << f.name << ": worst " << worst << " ulp at x = " << worst_x);
            CHECK(worst <= 2);
        }
        // Exact special values.
        CHECK(exp(tensor({0.f})).item<float>() == 1.f);
        CHECK(log(tensor({1.f})).item<float>() == 0.f);
        CHECK(tanh(tensor({0.f})).item<float>() == 0.f);
        CHECK(sigmoid(tensor({0.f})).item<float>() == 0.5f);
        CHECK(log(tensor({0.f})).item<float>() == -inf);
        CHECK(std::isnan(log(tensor({-1.f})).item<float>()));
        CHECK(exp(tensor({-inf})).item<float>() == 0.f);
        CHECK(tanh(tensor({-inf})).item<float>() == -1.f);
    }
}

TEST_CASE("fused backward ops and optimizer steps agree across instruction sets", "[dispatch]") {
    const Tensor g = spread(kFloat32, -1, 1, 7), y = spread(kFloat32, -1, 1, 8);
    auto steps = [](bool adam) {
        Generator gen(3);
        Tensor w = randn({1000, 131}, gen).requires_grad_();
        std::unique_ptr<optim::Optimizer> opt;
        if (adam)
            opt = std::make_unique<optim::Adam>(std::vector<Tensor>{w},
                                                optim::AdamOptions{.lr = 1e-2, .amsgrad = true});
        else
            opt = std::make_unique<optim::SGD>(
                std::vector<Tensor>{w},
                optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3});
        for (int s = 0; s < 3; ++s) {
            opt->zero_grad();
            (tanh(w) * w).sum().backward();
            opt->step();
        }
        return w.detach();
    };
    IsaGuard guard;
    set_kernel_isa("baseline");
    const Tensor tb = tanh_backward(g, y), sb = sigmoid_backward(g, y);
    const Tensor th = threshold_backward(g, y, 0.25);
    const Tensor w_sgd = steps(false), w_adam = steps(true);
    for (const auto& isa : available_isas()) {
        set_kernel_isa(isa);
        INFO(isa);
        // Contraction into FMA may move the last bit.
        CHECK(allclose(tanh_backward(g, y), tb, 1e-6, 1e-7));
        CHECK(allclose(sigmoid_backward(g, y), sb, 1e-6, 1e-7));
        CHECK(bytes(threshold_backward(g, y, 0.25)) == bytes(th));
        CHECK(allclose(steps(false), w_sgd, 1e-5, 1e-6));
        CHECK(allclose(steps(true), w_adam, 1e-5, 1e-6));
    }
}

TEST_CASE("on every instruction set, 1 and 2 threads give the same bits", "[dispatch][threads]") {
    test::ThreadsGuard threads;
    IsaGuard guard;
    const Tensor a = spread(kFloat32, -5, 5, 11, 300007), b = spread(kFloat32, -5, 5, 12, 300007);
    for (const auto& isa : available_isas()) {
        set_kernel_isa(isa);
        INFO(isa);
        auto run = [&] {
            return std::vector<Tensor>{exp(a),    tanh(a),       sigmoid(a),
                                       a * b + a, (a * b).sum(), tanh_backward(a, b)};
        };
        set_num_threads(1);
        const auto one = run();
        set_num_threads(2);
        const auto two = run();
        for (std::size_t k = 0; k < one.size(); ++k) CHECK(bytes(one[k]) == bytes(two[k]));
    }
}

TEST_CASE("2 x 2 max-pooling and its gradient give the same bits on every instruction set",
          "[dispatch]") {
    // Odd extents (a row and a column outside every block), ties and a NaN, both dtypes.
    for (Dtype dt : {kFloat32, kFloat64}) {
        INFO(dtype_name(dt));
        // Small integers repeat, so blocks tie; one NaN.
        std::vector<double> v(3 * 5 * 13 * 11);
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = double((i * 7919) % 11) - 5;
        v[200] = std::nan("");
        const Tensor x0 = tensor(v).reshape({3, 5, 13, 11}).to(dt);
        UnfoldOptions pool;
        pool.kernel_size = {2, 2};
        pool.stride = {2, 2};
        auto run = [&] {
            Tensor x = x0.clone().requires_grad_();
            Tensor y = max_pool2d(x, pool);
            (y * spread(dt, -1, 1, 6, y.numel()).reshape(y.shape())).sum().backward();
            return std::make_pair(bytes(y), bytes(x.grad()));
        };
        IsaGuard guard;
        set_kernel_isa("baseline");
        const auto expected = run();
        for (const auto& isa : available_isas()) {
            set_kernel_isa(isa);
            INFO(isa);
            const auto got = run();
            CHECK(got.first == expected.first);
            CHECK(got.second == expected.second);
        }
    }
}
