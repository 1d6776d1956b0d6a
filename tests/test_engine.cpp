// The engine's structure, seen from outside: leaves receive gradients through AccumulateGrad
// nodes (shared by every op that uses the leaf), edges are {node, input_nr}, per-call state
// lives in the call (a failed or partial backward leaves nothing behind on the graph), and
// gradients stored by backward(create_graph) are never shared between two leaves.
#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
using Catch::Matchers::Contains;

namespace {
std::vector<double> values(const Tensor& t) {
    return t.to(kFloat64).to_vector<double>();
}
}  // namespace

TEST_CASE("a leaf's gradient goes through one shared AccumulateGrad node", "[engine]") {
    Tensor w = ones({3}, {.requires_grad = true});
    Tensor a = w * 2.0, b = w + 1.0;
    const Edge ea = a.grad_fn()->next_edges()[0], eb = b.grad_fn()->next_edges()[0];
    REQUIRE(ea.defined());
    CHECK(ea.node->is_accumulate_grad());
    CHECK(std::string(ea.node->name()) == "AccumulateGrad");
    CHECK(ea.node == eb.node);  // one sink per leaf, so its hooks see the summed gradient
    CHECK(ea.input_nr == 0);
    CHECK(static_cast<const AccumulateGrad&>(*ea.node).leaf() == w.impl());
    CHECK(gradient_edge(w).node == ea.node);

    // A non-leaf's edge is its grad_fn; a constant has none.
    Tensor c = a * b;
    CHECK(c.grad_fn()->next_edges()[0].node == a.grad_fn());
    CHECK_FALSE(gradient_edge(ones({3})).defined());
}

TEST_CASE("a leaf hook runs once, on the gradient summed over every use", "[engine]") {
    Tensor x = ones({2}, {.requires_grad = true});
    int calls = 0;
    std::vector<double> seen;
    x.register_hook([&](const Tensor& g) {
        ++calls;
        seen = values(g);
        return Tensor();
    });
    (x * 2.0 + x * 3.0).sum().backward();
    CHECK(calls == 1);
    CHECK(seen == std::vector<double>{5, 5});
    CHECK(values(x.grad()) == std::vector<double>{5, 5});
}

TEST_CASE("backward(create_graph) gives every leaf its own gradient tensor", "[engine]") {
    // The known bug: AddBackward passes one tensor to both inputs; storing it in both leaves
    // let a later plain backward add into it in place and corrupt the other leaf.
    Tensor a = ones({3}, {.requires_grad = true}), b = ones({3}, {.requires_grad = true});
    (a + b).sum().backward({}, {.create_graph = true});
    REQUIRE(a.grad().defined());
    REQUIRE(b.grad().defined());
    CHECK(a.grad().impl()->storage != b.grad().impl()->storage);
    (a * 1.0).sum().backward();
    CHECK(values(a.grad()) == std::vector<double>{2, 2, 2});
    CHECK(values(b.grad()) == std::vector<double>{1, 1, 1});
    a.zero_grad();
    b.zero_grad();
}

TEST_CASE("a user-held gradient handle is not the storage a later backward adds into", "[engine]") {
    // The first gradient of x is a fresh tensor the engine owns, kept without a copy; the
    // gradient given by the caller is copied, so the caller's tensor is never changed.
    Tensor x = ones({2}, {.requires_grad = true});
    Tensor seed = full({2}, 3.0);
    (x * 1.0).backward(seed);
    (x * 1.0).backward(seed);
    CHECK(values(seed) == std::vector<double>{3, 3});
    CHECK(values(x.grad()) == std::vector<double>{6, 6});
}

TEST_CASE("autograd::grad leaves .grad() alone and returns what reaches each input", "[engine]") {
    Tensor x = full({2}, 2.0, {.requires_grad = true});
    Tensor h = x * x;  // intermediate input
    Tensor y = (h * 3.0).sum();
    TensorList g = autograd::grad({y}, {x, h, x}, {}, {.retain_graph = true});
    CHECK(values(g[0]) == std::vector<double>{12, 12});
    CHECK(values(g[1]) == std::vector<double>{3, 3});
    CHECK(values(g[2]) == std::vector<double>{12, 12});
    CHECK_FALSE(x.grad().defined());
    // The retained graph still backpropagates normally afterwards.
    y.backward();
    CHECK(values(x.grad()) == std::vector<double>{12, 12});
}

TEST_CASE("several roots, one reachable from another, each node runs once", "[engine]") {
    Tensor x = ones({2}, {.requires_grad = true});
    Tensor a = x * 2.0;
    Tensor b = (a * a).sum();  // depends on a
    int runs = 0;
    a.register_hook([&](const Tensor&) {
        ++runs;
        return Tensor();
    });
    autograd::backward({b, a.sum()}, {});
    CHECK(runs == 1);  // a's node waited for both contributions
    // d/dx (sum (2x)^2 + sum 2x) = 8x + 2
    CHECK(values(x.grad()) == std::vector<double>{10, 10});
}

TEST_CASE("a throwing hook leaves the graph usable with retain_graph", "[engine]") {
    Tensor x = ones({2}, {.requires_grad = true});
    Tensor h = x * 2.0;
    bool fail = true;
    h.register_hook([&](const Tensor& g) -> Tensor {
        if (fail) throw ValueError("xgrad::test: hook failed");
        return g;
    });
    Tensor y = h.sum();
    CHECK_THROWS_AS(y.backward({}, {.retain_graph = true}), ValueError);
    CHECK_FALSE(x.grad().defined());
    fail = false;
    y.backward();  // nothing was left over from the failed call
    CHECK(values(x.grad()) == std::vector<double>{2, 2});
}
