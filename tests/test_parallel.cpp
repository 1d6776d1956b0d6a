// Large loops run in parallel chunks when set_num_threads(2) (kernels/parallel.hpp). The chunks
// depend only on the size, so results must be bit-identical with 1 and 2 threads, and equal to
// a plain serial computation; these sizes are big enough to be split.
#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;

namespace {

using test::ThreadsGuard;

void check_identical(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < va.size(); ++i)
        if (!(va[i] == vb[i] || (std::isnan(va[i]) && std::isnan(vb[i])))) ++mismatches;
    CHECK(mismatches == 0);
}

// Runs f with 1 and with 2 threads and checks the results are the same, element for element.
template <class F>
void same_with_1_and_2_threads(F&& f) {
    ThreadsGuard guard;
    set_num_threads(1);
    const TensorList one = f();
    set_num_threads(2);
    const TensorList two = f();
    REQUIRE(one.size() == two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        INFO("result " << i);
        check_identical(one[i], two[i]);
    }
}

}  // namespace

TEST_CASE("large elementwise ops, sums and their gradients: same with 1 and 2 threads",
          "[parallel]") {
    const std::int64_t n = 1500001;  // several chunks and a ragged last one
    Generator gen(7);
    const Tensor a0 = randn({n}, gen), b0 = randn({n}, gen), c0 = randn({n}, gen);
    same_with_1_and_2_threads([&] {
        Tensor a = a0.clone().requires_grad_(), b = b0.clone().requires_grad_(),
               c = c0.clone().requires_grad_();
        Tensor y = (a * b + c) * 0.5 - tanh(a);
        Tensor s = y.sum();
        s.backward();
        // A second backward accumulates into the existing gradients in place.
        (a * c).sum().backward();
        return TensorList{y.detach(), s.detach(), a.grad(), b.grad(), c.grad(), y.clone()};
    });

    // Against a serial reference: values of the chunked paths.
    ThreadsGuard guard;
    set_num_threads(2);
    const Tensor prod = a0 * b0;
    const auto va = a0.to_vector<float>(), vb = b0.to_vector<float>(), vp = prod.to_vector<float>();
    std::size_t wrong = 0;
    double sum = 0;
    for (std::size_t i = 0; i < va.size(); ++i) {
        if (vp[i] != va[i] * vb[i]) ++wrong;
        sum += static_cast<double>(va[i]);
    }
    CHECK(wrong == 0);
    CHECK(a0.sum().item<double>() == Approx(sum).epsilon(1e-6));
    const Tensor filled = full({}, 2.5).expand({n});
    CHECK(filled.min().item<double>() == 2.5);
    CHECK(filled.max().item<double>() == 2.5);
}

TEST_CASE("unfold, fold and max_pool2d on many planes: same with 1 and 2 threads", "[parallel]") {
    Generator gen(8);
    const Tensor x0 = randn({64, 160, 8, 8}, gen);  // 10240 planes
    UnfoldOptions conv;
    conv.kernel_size = {3, 3};
    conv.padding = {1, 1};
    UnfoldOptions pool;
    pool.kernel_size = {2, 2};
    pool.stride = {2, 2};
    UnfoldOptions overlapping;
    overlapping.kernel_size = {3, 3};
    overlapping.stride = {2, 2};
    overlapping.padding = {1, 1};
    same_with_1_and_2_threads([&] {
        Tensor x = x0.clone().requires_grad_();
        Tensor cols = unfold(x, conv);
        Tensor back = fold(cols, {8, 8}, conv);
        Tensor p = max_pool2d(x, pool);
        Tensor q = max_pool2d(x, overlapping);
        (back.sum() + (p * p).sum() + q.sum()).backward();
        return TensorList{cols.detach(), back.detach(), p.detach(), q.detach(), x.grad()};
    });
}

TEST_CASE("a batch of small matrix products and its gradients: same with 1 and 2 threads",
          "[parallel]") {
    Generator gen(9);
    // A convolution's shapes: one weight against a batch of unfolded samples, and a batch
    // against a batch with a broadcast batch dim.
    const Tensor w0 = randn({6, 25}, gen), c0 = randn({64, 25, 576}, gen);
    const Tensor p0 = randn({2, 32, 64, 40}, gen), q0 = randn({32, 40, 48}, gen);
    same_with_1_and_2_threads([&] {
        Tensor w = w0.clone().requires_grad_(), c = c0.clone().requires_grad_();
        Tensor p = p0.clone().requires_grad_(), q = q0.clone().requires_grad_();
        Tensor y = matmul(w, c);
        Tensor z = matmul(p, q);
        (tanh(y).sum() + (z * z).sum()).backward();
        return TensorList{y.detach(), z.detach(), w.grad(), c.grad(), p.grad(), q.grad()};
    });
    // Against one product computed alone.
    ThreadsGuard guard;
    set_num_threads(2);
    const Tensor y = matmul(w0, c0);
    check_identical(y.select(0, 37), matmul(w0, c0.select(0, 37)));
}

TEST_CASE("conv2d on a batch split into chunks: same with 1 and 2 threads, and right",
          "[parallel]") {
    // Batches of 37 (uneven chunks) and 64 images, big enough for 2 and 4 chunks of images
    // (conv_dnnl.cpp); grouped and strided geometries too. Checked against the float64 path
    // (unfold + matmul, never chunked): a wrong chunk offset would show there.
    struct Case {
        Shape x, w;
        Conv2dOptions o;
    };
    const std::vector<Case> cases = {
        {{37, 3, 20, 20}, {8, 3, 5, 5}, {}},
        {{64, 8, 16, 16}, {16, 8, 3, 3}, {.stride = {1, 1}, .padding = {1, 1}}},
        {{64, 8, 18, 18}, {16, 4, 3, 3}, {.stride = {2, 1}, .padding = {0, 1}, .groups = 2}},
    };
    for (const Case& c : cases) {
        INFO("input " << shape_str(c.x) << ", weight " << shape_str(c.w));
        Generator gen(9);
        const Tensor x0 = randn(c.x, gen), w0 = randn(c.w, gen), b0 = randn({c.w[0]}, gen);
        auto run = [&](Dtype dt) {
            Tensor x = x0.to(dt).clone().requires_grad_(), w = w0.to(dt).clone().requires_grad_(),
                   b = b0.to(dt).clone().requires_grad_();
            Tensor y = conv2d(x, w, b, c.o);
            (y * y).sum().backward();
            return TensorList{y.detach(), x.grad(), w.grad(), b.grad()};
        };
        same_with_1_and_2_threads([&] { return run(kFloat32); });
        const TensorList f32 = run(kFloat32), f64 = run(kFloat64);
        for (std::size_t i = 0; i < f32.size(); ++i) {
            INFO("result " << i);
            const auto a = f32[i].to_vector<double>(), e = f64[i].to_vector<double>();
            REQUIRE(a.size() == e.size());
            double worst = 0, scale = 0;
            for (std::size_t j = 0; j < a.size(); ++j) {
                worst = std::max(worst, std::abs(a[j] - e[j]));
                scale = std::max(scale, std::abs(e[j]));
            }
            CHECK(worst <= 1e-4 * scale);
        }
    }
}
