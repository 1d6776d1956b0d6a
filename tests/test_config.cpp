// xgrad::config(): the libraries under xgrad and one thread count for all of them.
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;

namespace {

using test::ThreadsGuard;

std::string threads_line(int n) {
    const std::string s = std::to_string(n);
    // oneDNN's OpenMP team stays at one thread: xgrad's pool splits its products.
    return "threads: xgrad " + s + ", OpenBLAS " + s + ", OpenMP 1 (";
}

}  // namespace

TEST_CASE("config names xgrad, oneDNN with its ISA, OpenBLAS with its core, and the threads",
          "[config]") {
    const std::string c = config();
    INFO(c);
    CHECK_THAT(c, Contains("xgrad: 0."));
    CHECK_THAT(c, Contains("oneDNN: 2."));
    CHECK_THAT(c, Contains("CPU runtime OpenMP"));
    CHECK_THAT(c, Contains("oneDNN ISA: "));
    CHECK_THAT(c, !Contains("oneDNN ISA: unknown"));
    CHECK_THAT(c, Contains("OpenBLAS: OpenBLAS 0."));
    CHECK_THAT(c, Contains("OpenBLAS core: "));
    CHECK_THAT(c, Contains("elementwise kernels: " + kernel_isa() + " (runtime dispatch; "));
    CHECK_THAT(c, Contains("threads: xgrad "));
    CHECK_THAT(c, Contains("libgomp"));  // Debian's oneDNN runs on GCC's OpenMP runtime
    CHECK(c.back() == '\n');
}

TEST_CASE("set_num_threads sets xgrad's pool and OpenBLAS, and OpenMP stays at one thread",
          "[config]") {
    ThreadsGuard guard;
    for (int n : {1, 2, 3}) {
        set_num_threads(n);
        CHECK(get_num_threads() == n);
        CHECK_THAT(config(), Contains(threads_line(n)));
    }
    set_num_threads(0);  // clamped
    CHECK(get_num_threads() == 1);
    CHECK_THAT(config(), Contains(threads_line(1)));
}

TEST_CASE("another thread's float32 products run on one OpenMP thread too", "[config]") {
    ThreadsGuard guard;
    set_num_threads(2);
    std::string seen;
    std::thread t([&] {
        const Tensor a = ones({64, 64});
        (void)matmul(a, a);  // OpenMP keeps its count per thread: set before this product
        seen = config();
    });
    t.join();
    CHECK_THAT(seen, Contains(threads_line(2)));
}

TEST_CASE("float32 products on oneDNN: plain, transposed, batched, and their gradients",
          "[config][matmul]") {
    // Small integers: every product is exact in float32, whatever the kernel's order of sums.
    const Tensor a = tensor(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor b = tensor(std::vector<float>{1, 0, -1, 2, 3, 1}, {3, 2});
    CHECK(matmul(a, b).to_vector<float>() == std::vector<float>{8, 7, 17, 16});
    CHECK(matmul(a, a, {false, true}).to_vector<float>() == std::vector<float>{14, 32, 32, 77});
    CHECK(matmul(a, a, {true, false}).to_vector<float>() ==
          std::vector<float>{17, 22, 27, 22, 29, 36, 27, 36, 45});
    const Tensor batch = stack({a, a * 2.0}, 0);  // [2, 2, 3]
    CHECK(matmul(batch, b).to_vector<float>() == std::vector<float>{8, 7, 17, 16, 16, 14, 34, 32});
    Tensor w = b.clone().requires_grad_();
    matmul(batch, w).sum().backward();
    // d/dw sum(X w) = X^T 1, summed over the batch: column sums of a times 3.
    CHECK(w.grad().to_vector<float>() == std::vector<float>{15, 15, 21, 21, 27, 27});
}
