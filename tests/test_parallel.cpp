// Large loops run in parallel chunks when set_num_threads(2) (kernels/parallel.hpp). The chunks
// depend only on the size, so results must be bit-identical with 1 and 2 threads, and equal to
// a plain serial computation; these sizes are big enough to be split.
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
