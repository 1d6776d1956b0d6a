// Version counters: every in-place write bumps the storage's version, views share it, and
// backward refuses a saved tensor whose version moved since it was saved (PyTorch's "modified
// by an inplace operation"), instead of computing a silently wrong gradient.
#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
using Catch::Matchers::Contains;

namespace {
Tensor ones_grad(const Shape& s) {
    return ones(s, {.requires_grad = true});
}
}  // namespace

TEST_CASE("in-place writes bump the version, and views share it", "[version]") {
    Tensor x = zeros({2, 3});
    const std::uint64_t v0 = x.version();
    x.fill_(1.0);
    CHECK(x.version() == v0 + 1);
    x.zero_();
    CHECK(x.version() == v0 + 2);
    x.copy_(ones({2, 3}));
    CHECK(x.version() == v0 + 3);
    x.copy_(full({3}, 4.0));  // broadcasting copy
    CHECK(x.version() == v0 + 4);
    CHECK(x.to_vector<float>() == std::vector<float>(6, 4.0f));

    Tensor v = x.reshape({6});  // a view of the same storage
    Tensor d = x.detach();
    CHECK(v.version() == x.version());
    v.fill_(2.0);
    CHECK(x.version() == v0 + 5);
    CHECK(d.version() == v0 + 5);

    // An out-of-place op gives a fresh tensor with its own counter.
    Tensor y = x + 1.0;
    y.fill_(0.0);
    CHECK(x.version() == v0 + 5);

    // Reading never bumps.
    (void)x.to_vector<float>();
    (void)x.sum();
    CHECK(x.version() == v0 + 5);
}

TEST_CASE("the issue's snippet: an input saved by mul and overwritten is refused", "[version]") {
    Tensor w = ones_grad({3});
    Tensor x = ones({3});
    Tensor y = (w * x).sum();
    x.fill_(100);
    try {
        y.backward();
        FAIL("backward used a saved tensor that was modified in place");
    } catch (const AutogradError& e) {
        const std::string m = e.what();
        CHECK_THAT(m, Contains("modified by an in-place operation"));
        CHECK_THAT(m, Contains("MulBackward"));
        CHECK_THAT(m, Contains("input 1"));
        CHECK_THAT(m, Contains("version 0"));
        CHECK_THAT(m, Contains("version 1"));
    }
    CHECK_FALSE(w.grad().defined());  // nothing was accumulated
}

TEST_CASE("every way to overwrite a saved tensor is refused", "[version]") {
    SECTION("through a reshape view of the saved input") {
        Tensor w = ones_grad({2, 3});
        Tensor x = ones({2, 3});
        Tensor y = (w * x).sum();
        x.view({6}).fill_(100);
        CHECK_THROWS_AS(y.backward(), AutogradError);
    }
    SECTION("the parameter itself, under NoGradGuard") {
        Tensor w = ones_grad({3});
        Tensor y = (w * w).sum();
        {
            NoGradGuard g;
            w.fill_(5);
        }
        CHECK_THROWS_WITH(y.backward(), Contains("MulBackward") && Contains("input 0"));
    }
    SECTION("through detach().copy_") {
        Tensor w = ones_grad({3});
        Tensor y = (w * w).sum();
        w.detach().copy_(full({3}, 2.0));
        CHECK_THROWS_AS(y.backward(), AutogradError);
    }
    SECTION("exp's saved output") {
        Tensor w = ones_grad({3});
        Tensor e = exp(w);
        Tensor y = e.sum();
        e.detach().zero_();
        CHECK_THROWS_WITH(y.backward(), Contains("ExpBackward") && Contains("its output"));
    }
    SECTION("a matmul input zeroed") {
        Tensor a = randn({4, 3});
        Tensor b = randn({3, 2}, {.requires_grad = true});
        Tensor y = matmul(a, b).sum();
        a.zero_();
        CHECK_THROWS_WITH(y.backward(), Contains("MatmulBackward") && Contains("input 0"));
    }
    SECTION("an optimizer step between forward and backward") {
        Tensor w = ones_grad({3});
        optim::SGD opt({w}, {.lr = 0.1});
        (w * w).sum().backward();  // w now has a gradient, so step() updates it
        Tensor y = (w * w).sum();
        opt.step();
        CHECK_THROWS_AS(y.backward(), AutogradError);
    }
    SECTION("set_data swaps the data of a saved leaf") {
        Tensor w = ones_grad({3});
        Tensor y = (w * w).sum();
        set_data(w, full({3}, 3.0));
        CHECK_THROWS_AS(y.backward(), AutogradError);
    }
    SECTION("a tensor saved by a custom Function") {
        struct Square : autograd::Function<Square> {
            static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x) {
                ctx->save_for_backward({x});
                return x * x;
            }
            static TensorList backward(autograd::AutogradContext* ctx, const TensorList& g) {
                return {g[0] * 2.0 * ctx->get_saved_variables()[0]};
            }
        };
        Tensor w = ones_grad({3});
        Tensor y = Square::apply(w).sum();
        w.detach().fill_(4);
        CHECK_THROWS_WITH(y.backward(), Contains("CustomFunctionBackward"));
    }
    SECTION("with retain_graph, a step between two backwards") {
        Tensor w = ones_grad({3});
        optim::SGD opt({w}, {.lr = 0.1});
        Tensor y = (w * w).sum();
        y.backward({}, {.retain_graph = true});
        opt.step();
        CHECK_THROWS_AS(y.backward(), AutogradError);
    }
}

TEST_CASE("in-place writes to tensors nobody saved are fine", "[version]") {
    // add saves nothing: changing its input after the forward does not change the gradient.
    Tensor w = ones_grad({3});
    Tensor x = ones({3});
    Tensor y = (w + x).sum();
    x.fill_(100);
    y.backward();
    CHECK(w.grad().to_vector<float>() == std::vector<float>{1, 1, 1});

    // A tensor written before it is used is saved at its new version.
    Tensor w2 = ones_grad({3});
    Tensor x2 = ones({3});
    x2.fill_(7);
    (w2 * x2).sum().backward();
    CHECK(w2.grad().to_vector<float>() == std::vector<float>{7, 7, 7});
}

TEST_CASE("optimizers' in-place updates never trip normal training", "[version]") {
    manual_seed(3);
    nn::Sequential model(nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 1));
    const Tensor x = randn({16, 4}), t = randn({16, 1});
    optim::Adam adam(model.parameters(), {.lr = 0.01});
    optim::SGD sgd(model.parameters(), {.lr = 0.01, .momentum = 0.9});
    const std::uint64_t v0 = model.parameters()[0].version();
    double first = 0, last = 0;
    for (int step = 0; step < 20; ++step) {
        optim::Optimizer& opt = step % 2 ? static_cast<optim::Optimizer&>(sgd) : adam;
        opt.zero_grad();
        Tensor loss = nn::functional::mse_loss(model(x), t);
        REQUIRE_NOTHROW(loss.backward());
        REQUIRE_NOTHROW(opt.step());
        (step == 0 ? first : last) = loss.item<double>();
    }
    CHECK(last < first);
    CHECK(model.parameters()[0].version() == v0 + 20);  // each step bumped it once
}
