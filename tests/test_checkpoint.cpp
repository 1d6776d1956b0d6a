// Gradient checkpointing (autograd::checkpoint), the generator state it replays, and the
// allocator statistics that measure what it saves.
#include <catch2/catch.hpp>
#include <cmath>
#include <xgrad/xgrad.hpp>

using namespace xgrad;

namespace {

std::vector<double> values(const Tensor& t) {
    return t.to_vector<double>();
}

// Largest |a - b| over two tensors of one shape; infinity when the shapes differ or one is
// undefined, so a missing gradient fails the comparison.
double max_diff(const Tensor& a, const Tensor& b) {
    if (!a.defined() || !b.defined() || a.shape() != b.shape()) return INFINITY;
    const auto x = values(a), y = values(b);
    double m = 0;
    for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
    return m;
}

// A float64 block whose parameters the checkpointed lambdas capture (not passed as inputs).
nn::Sequential make_block(std::uint64_t seed, double dropout = 0.0) {
    manual_seed(seed);
    nn::Sequential block(nn::Linear(6, 8), nn::Tanh(), nn::Dropout(dropout), nn::Linear(8, 5),
                         nn::Tanh());
    block.to(kFloat64);
    return block;
}

Tensor input(std::uint64_t seed, Shape shape = {4, 6}) {
    manual_seed(seed);
    return randn(shape, {kFloat64, true});
}

// Gradients of `loss_of(block, h)` for every parameter and h, after zeroing them.
struct Grads {
    TensorList params;
    Tensor h;
};
template <class F>
Grads run(nn::Sequential& block, Tensor& h, F loss_of) {
    block.zero_grad();
    h.zero_grad();
    loss_of().backward();
    Grads g;
    for (const Tensor& p : block.parameters()) g.params.push_back(p.grad());
    g.h = h.grad();
    return g;
}

void check_same(const Grads& a, const Grads& b, double tol = 1e-12) {
    REQUIRE(a.params.size() == b.params.size());
    for (std::size_t i = 0; i < a.params.size(); ++i) {
        INFO("parameter " << i);
        CHECK(max_diff(a.params[i], b.params[i]) <= tol);
    }
    CHECK(max_diff(a.h, b.h) <= tol);
}

int g_calls = 0;

}  // namespace

TEST_CASE("Generator get_state/set_state replays the same draws", "[checkpoint][random]") {
    Generator gen(123);
    gen.normal();  // leaves the second Box-Muller value cached
    const GeneratorState st = gen.get_state();
    CHECK(st.has_spare_normal);
    std::vector<double> first;
    for (int i = 0; i < 5; ++i) first.push_back(gen.normal());
    first.push_back(gen.uniform());
    first.push_back(double(gen.randint(0, 1000)));
    gen.set_state(st);
    std::vector<double> again;
    for (int i = 0; i < 5; ++i) again.push_back(gen.normal());
    again.push_back(gen.uniform());
    again.push_back(double(gen.randint(0, 1000)));
    CHECK(first == again);
    CHECK(gen.initial_seed() == 123);

    // Into another generator, and through the default one that tensors draw from.
    Generator other(7);
    other.set_state(st);
    CHECK(other.normal() == first[0]);
    CHECK(other.initial_seed() == 123);
    manual_seed(5);
    const GeneratorState d = default_generator().get_state();
    const auto a = values(randn({10}));
    default_generator().set_state(d);
    CHECK(values(randn({10})) == a);

    CHECK_THROWS_AS(gen.set_state(GeneratorState{}), ValueError);
    CHECK_THROWS_WITH(gen.set_state(GeneratorState{}), Catch::Contains("Generator::set_state"));
}

TEST_CASE("memory statistics count live tensor bytes and the peak", "[checkpoint][memory]") {
    const MemoryStats before = memory_stats();
    CHECK(before.peak_allocated_bytes >= before.allocated_bytes);
    {
        Tensor a = zeros({1000}, {kFloat64});  // 8000 bytes
        const MemoryStats s = memory_stats();
        CHECK(s.allocated_bytes == before.allocated_bytes + 8000);
        CHECK(s.peak_allocated_bytes >= s.allocated_bytes);
        Tensor b = zeros({100000});  // 400 000 bytes, a cached block size
        CHECK(memory_stats().allocated_bytes == before.allocated_bytes + 408000);
    }
    const MemoryStats after = memory_stats();
    CHECK(after.allocated_bytes == before.allocated_bytes);
    // The peak stays until reset, and is the current level right after it.
    CHECK(after.peak_allocated_bytes >= before.allocated_bytes + 408000);
    reset_peak_memory_stats();
    CHECK(memory_stats().peak_allocated_bytes == after.allocated_bytes);
    { Tensor c = zeros({2000}); }
    CHECK(memory_stats().peak_allocated_bytes == after.allocated_bytes + 8000);
    CHECK(memory_stats().allocated_bytes == after.allocated_bytes);
    // A view shares storage: no new bytes.
    Tensor d = zeros({10, 10});
    const std::size_t live = memory_stats().allocated_bytes;
    Tensor v = d.reshape({100});
    CHECK(memory_stats().allocated_bytes == live);
}

TEST_CASE("the allocator caches mid-size blocks and returns huge ones", "[memory]") {
    // A 1 MB block is kept for the next tensor of its size (steps repeat their sizes).
    const std::size_t cached0 = memory_stats().cached_bytes;
    const std::int64_t n = (1 << 18) + 3 * 1024 + 7;  // a size no other test uses
    { Tensor a = empty({n}); }
    const std::size_t cached1 = memory_stats().cached_bytes;
    CHECK(cached1 >= cached0 + 4 * std::size_t(n));
    { Tensor b = empty({n}); }  // reuses it
    CHECK(memory_stats().cached_bytes == cached1);
    // A 128 MiB block (a dataset, a normalised copy) goes back to the system when freed.
    { Tensor big = empty({std::int64_t(1) << 25}); }
    CHECK(memory_stats().cached_bytes == cached1);
}

TEST_CASE("checkpoint of a module gives its captured parameters and the input the plain gradients",
          "[checkpoint]") {
    nn::Sequential block = make_block(1);
    Tensor h = input(2);
    const Grads plain = run(block, h, [&] { return (block(h) * block(h)).sum(); });
    const Grads ckpt = run(block, h, [&] {
        Tensor y = autograd::checkpoint(
            [&](const TensorList& x) { return TensorList{block.forward(x[0])}; }, {h})[0];
        REQUIRE(y.grad_fn());
        CHECK(std::string(y.grad_fn()->name()) == "CheckpointBackward");
        // One node with edges to h and the four parameters.
        CHECK(y.grad_fn()->num_inputs() == 5);
        return (y * y).sum();
    });
    check_same(plain, ckpt);
    // The gradients are not trivially zero.
    CHECK(max_diff(plain.h, zeros_like(plain.h)) > 1e-3);

    // The one-tensor overloads give the same.
    const Grads single = run(block, h, [&] {
        Tensor y = autograd::checkpoint([&](const Tensor& x) { return block(x); }, h);
        return (y * y).sum();
    });
    check_same(plain, single);
    const Grads list_to_one = run(block, h, [&] {
        Tensor y = autograd::checkpoint([&](const TensorList& x) { return block(x[0]); }, {h});
        return (y * y).sum();
    });
    check_same(plain, list_to_one);
}

TEST_CASE("checkpoint recomputes instead of keeping activations", "[checkpoint]") {
    // fn runs once in forward and once more in backward; nothing inside it is kept.
    Tensor x = input(3, {1000});
    g_calls = 0;
    auto fn = [](const Tensor& t) {
        ++g_calls;
        Tensor a = t;
        for (int i = 0; i < 20; ++i) a = (a * 1.01).tanh();
        return a;
    };
    const std::size_t base = memory_stats().allocated_bytes;
    Tensor plain = fn(x).sum();
    const std::size_t plain_bytes = memory_stats().allocated_bytes - base;
    plain = Tensor();
    const std::size_t base2 = memory_stats().allocated_bytes;
    Tensor y = autograd::checkpoint(fn, x).sum();
    const std::size_t ckpt_bytes = memory_stats().allocated_bytes - base2;
    CHECK(g_calls == 2);
    // Plain keeps ~40 activations of 8000 bytes; the checkpoint keeps its output.
    // Plain keeps the 20 tanh outputs (its backward uses them); the checkpoint only its output.
    CHECK(plain_bytes >= 20 * 8000);
    CHECK(ckpt_bytes <= 8000 + 64);
    y.backward();
    CHECK(g_calls == 3);
    CHECK(x.grad().defined());
}

TEST_CASE("checkpoint under NoGradGuard just runs fn", "[checkpoint]") {
    nn::Sequential block = make_block(1);
    Tensor h = input(2);
    g_calls = 0;
    Tensor y;
    {
        NoGradGuard no_grad;
        y = autograd::checkpoint(
            [&](const Tensor& x) {
                ++g_calls;
                CHECK_FALSE(GradMode::is_enabled());
                return block(x);
            },
            h);
    }
    CHECK(g_calls == 1);
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(y.grad_fn());
    NoGradGuard no_grad;
    CHECK(max_diff(y, block(h)) == 0.0);
}

TEST_CASE(
    "checkpoint with dropout recomputes the same mask and leaves the generator as a plain "
    "run does",
    "[checkpoint]") {
    nn::Sequential block = make_block(1, 0.5);
    Tensor h = input(2, {16, 6});
    double plain_next = 0, ckpt_next = 0;
    Tensor plain_out, ckpt_out;
    const Grads plain = run(block, h, [&] {
        manual_seed(99);
        plain_out = block(h);
        Tensor loss = (plain_out * plain_out).sum();
        plain_next = default_generator().uniform();
        return loss;
    });
    const Grads ckpt = run(block, h, [&] {
        manual_seed(99);
        ckpt_out = autograd::checkpoint([&](const Tensor& x) { return block(x); }, h);
        Tensor loss = (ckpt_out * ckpt_out).sum();
        ckpt_next = default_generator().uniform();
        default_generator().uniform();  // a draw between forward and backward
        return loss;
    });
    CHECK(max_diff(plain_out, ckpt_out) == 0.0);
    check_same(plain, ckpt);
    CHECK(plain_next == ckpt_next);

    // The backward's replay does not shift the draws that follow it.
    manual_seed(7);
    Tensor y = autograd::checkpoint([&](const Tensor& x) { return block(x); }, h);
    const GeneratorState mid = default_generator().get_state();
    y.sum().backward();
    const GeneratorState after = default_generator().get_state();
    CHECK(std::equal(mid.s, mid.s + 4, after.s));

    // Without the replay the recomputed mask differs and so do the gradients.
    block.zero_grad();
    h.zero_grad();
    manual_seed(99);
    autograd::CheckpointOptions no_rng;
    no_rng.preserve_rng_state = false;
    Tensor z = autograd::checkpoint([&](const Tensor& x) { return block(x); }, h, no_rng);
    (z * z).sum().backward();
    CHECK(max_diff(h.grad(), plain.h) > 1e-6);
}

TEST_CASE("checkpoint with several outputs, mixed dtypes and unused inputs", "[checkpoint]") {
    Tensor a = input(4, {3, 4});
    Tensor b = input(5, {4});
    auto fn = [](const TensorList& x) {
        return TensorList{
            x[0].tanh() * x[1],         // depends on both
            (x[0] * 2.0).to(kFloat32),  // float32, does not depend on b
            x[0].argmax(1),             // int64: not differentiable, passed through
            Tensor(),                   // undefined, passed through
        };
    };
    auto loss_of = [](const TensorList& y, bool use0, bool use1) {
        Tensor l = zeros(Shape{}, {kFloat64});
        if (use0) l = l + (y[0] * y[0]).sum();
        if (use1) l = l + (y[1] * y[1]).sum().to(kFloat64) * 3.0;
        return l;
    };
    for (int mode = 0; mode < 3; ++mode) {
        const bool use0 = mode != 1, use1 = mode != 0;
        INFO("outputs used: " << use0 << use1);
        a.zero_grad();
        b.zero_grad();
        loss_of(fn({a, b}), use0, use1).backward();
        const Tensor ga = a.grad(), gb = b.grad();
        a.zero_grad();
        b.zero_grad();
        TensorList y = autograd::checkpoint(fn, {a, b});
        REQUIRE(y.size() == 4);
        CHECK(y[1].dtype() == kFloat32);
        CHECK(y[2].dtype() == kInt64);
        CHECK_FALSE(y[2].requires_grad());
        CHECK_FALSE(y[3].defined());
        CHECK(values(y[2]) == values(fn({a, b})[2]));
        loss_of(y, use0, use1).backward();
        CHECK(max_diff(a.grad(), ga) <= 1e-6);  // float32 output: float32 rounding
        if (use0)
            CHECK(max_diff(b.grad(), gb) <= 1e-12);
        else
            CHECK_FALSE(b.grad().defined());  // only the output that ignores b was used
    }

    // An output used twice, plus a hook on another: each gets its summed gradient once.
    a.zero_grad();
    b.zero_grad();
    TensorList y = autograd::checkpoint(fn, {a, b});
    int hook_calls = 0;
    y[0].register_hook([&](const Tensor& g) {
        ++hook_calls;
        return g * 2.0;
    });
    ((y[0] * 3.0).sum() + y[0].sum()).backward();
    CHECK(hook_calls == 1);
    CHECK(max_diff(b.grad(), (a.tanh() * 8.0).sum({0}).detach()) <= 1e-12);

    // A call that reaches an output's node but not the shared node (autograd::grad with respect
    // to the output itself) must not leak that output's gradient into the next backward.
    a.zero_grad();
    b.zero_grad();
    TensorList u = autograd::checkpoint(fn, {a, b});
    const Tensor gu1 = autograd::grad({(u[1] * 100.0).sum()}, {u[1]})[0];
    CHECK(values(gu1) == std::vector<double>(12, 100.0));
    u[0].sum().backward();
    CHECK(max_diff(a.grad(), ((1.0 - a.tanh().pow(2.0)) * b).detach()) <= 1e-12);
}

TEST_CASE("checkpoint gradients through autograd::grad, residuals, nesting and identity",
          "[checkpoint]") {
    nn::Sequential block = make_block(1);
    Tensor h = input(2);
    const TensorList params = block.parameters();
    TensorList all = params;
    all.push_back(h);

    // autograd::grad reaches the captured parameters: they are real edges of the node.
    Tensor plain_loss = block(h).pow(2.0).sum() + (h * h).sum();
    const TensorList plain = autograd::grad({plain_loss}, all);
    Tensor y = autograd::checkpoint([&](const Tensor& x) { return block(x); }, h);
    const TensorList ckpt = autograd::grad({y.pow(2.0).sum() + (h * h).sum()}, all);
    REQUIRE(ckpt.size() == plain.size());
    for (std::size_t i = 0; i < ckpt.size(); ++i) CHECK(max_diff(ckpt[i], plain[i]) <= 1e-12);
    for (const Tensor& p : params) CHECK_FALSE(p.grad().defined());  // returned, not accumulated

    // A residual around a checkpoint, a checkpoint inside a checkpoint.
    nn::Sequential inner = make_block(3);
    inner.zero_grad();
    Tensor lin = randn({5, 6}, {kFloat64, true});
    auto body = [&](const Tensor& x) { return matmul(inner(matmul(block(x), lin)), lin); };
    const Tensor r_plain = (h + body(h)).pow(3.0).sum();
    const TensorList g_plain = autograd::grad({r_plain}, {h, lin, params[0]});
    auto nested = [&](const Tensor& x) {
        Tensor z = autograd::checkpoint([&](const Tensor& t) { return block(t); }, x);
        return matmul(inner(matmul(z, lin)), lin);
    };
    const Tensor r_ckpt = (h + autograd::checkpoint(nested, h)).pow(3.0).sum();
    const TensorList g_ckpt = autograd::grad({r_ckpt}, {h, lin, params[0]});
    for (std::size_t i = 0; i < 3; ++i) CHECK(max_diff(g_ckpt[i], g_plain[i]) <= 1e-12);

    // fn returning its input unchanged (and a parameter it captures).
    Tensor w = tensor({2.0, 3.0}, {kFloat64, true});
    Tensor x = tensor({1.0, 1.0}, {kFloat64, true});
    TensorList id = autograd::checkpoint(
        [&](const TensorList& t) {
            return TensorList{t[0], w};
        },
        {x});
    (id[0] * 5.0 + id[1] * 7.0).sum().backward();
    CHECK(values(x.grad()) == std::vector<double>{5, 5});
    CHECK(values(w.grad()) == std::vector<double>{7, 7});
}

TEST_CASE("double backward through a checkpoint", "[checkpoint]") {
    nn::Sequential block = make_block(1);
    Tensor h = input(2);
    // Gradient penalty: d/d(theta) of |d loss / d h|^2, through create_graph.
    auto penalty = [&](const Tensor& y) {
        const Tensor loss = (y * y * y).sum();
        const Tensor gh = autograd::grad({loss}, {h}, {}, {.create_graph = true})[0];
        return (gh * gh).sum() + loss;
    };
    const Grads plain = run(block, h, [&] { return penalty(block(h)); });
    const Grads ckpt = run(block, h, [&] {
        return penalty(autograd::checkpoint([&](const Tensor& x) { return block(x); }, h));
    });
    check_same(plain, ckpt);

    // Third derivative of x^3 through two outputs: 6 everywhere.
    Tensor x = tensor({0.5, -2.0}, {kFloat64, true});
    TensorList c = autograd::checkpoint(
        [](const TensorList& t) {
            return TensorList{t[0] * t[0], t[0]};
        },
        {x});
    const Tensor cube = (c[0] * c[1]).sum();
    const Tensor d1 = autograd::grad({cube}, {x}, {}, {.create_graph = true})[0];
    const Tensor d2 = autograd::grad({d1.sum()}, {x}, {}, {.create_graph = true})[0];
    const Tensor d3 = autograd::grad({d2.sum()}, {x})[0];
    CHECK(values(d1) == std::vector<double>{0.75, 12.0});
    CHECK(values(d2) == std::vector<double>{3.0, -12.0});
    CHECK(values(d3) == std::vector<double>{6.0, 6.0});

    // gradcheck and gradgradcheck against finite differences.
    Tensor p = input(6, {3});
    Tensor q = input(7, {3});
    auto f = [](const TensorList& in) {
        return autograd::checkpoint(
                   [](const TensorList& t) {
                       return TensorList{(t[0] * t[1]).sin(), t[1].exp()};
                   },
                   in)[0] *
               3.0;
    };
    CHECK(autograd::gradcheck(f, {p, q}).ok);
    CHECK(autograd::gradgradcheck(f, {p, q}).ok);
}

TEST_CASE("checkpoint errors name autograd::checkpoint and the shapes", "[checkpoint]") {
    Tensor x = input(1, {2, 3});
    // A captured tensor with a history.
    Tensor outer = x * 2.0;
    CHECK_THROWS_AS(autograd::checkpoint([&](const Tensor& t) { return t * outer; }, x),
                    AutogradError);
    CHECK_THROWS_WITH(autograd::checkpoint([&](const Tensor& t) { return t * outer; }, x),
                      Catch::Contains("xgrad::autograd::checkpoint") && Catch::Contains("[2, 3]") &&
                          Catch::Contains("MulBackward") && Catch::Contains("pass it in `inputs`"));
    // The same tensor passed as an input is fine.
    Tensor ok = autograd::checkpoint([](const TensorList& t) { return t[0] * t[1]; }, {x, outer});
    ok.sum().backward();
    CHECK(max_diff(x.grad(), (x * 4.0).detach()) <= 1e-12);

    // A function that computes something else when run again.
    int n = 2;
    Tensor y = autograd::checkpoint(
        [&](const Tensor& t) {
            Tensor r = t.narrow(1, 0, n);
            n = 3;
            return r;
        },
        x);
    CHECK_THROWS_AS(y.sum().backward(), AutogradError);
    CHECK_THROWS_WITH(y.sum().backward(), Catch::Contains("[2, 2]"));
    int m = 0;
    Tensor z =
        autograd::checkpoint([&](const Tensor& t) { return m++ == 0 ? t * 1.0 : t.sum(); }, x);
    CHECK_THROWS_WITH(z.sum().backward(), Catch::Contains("xgrad::autograd::checkpoint") &&
                                              Catch::Contains("[2, 3] (float64)") &&
                                              Catch::Contains("[] (float64)"));
    int k = 0;
    TensorList w = autograd::checkpoint(
        [&](const TensorList& t) {
            return k++ == 0 ? TensorList{t[0] * 2.0} : TensorList{t[0] * 2.0, t[0]};
        },
        {x});
    CHECK_THROWS_WITH(w[0].sum().backward(),
                      Catch::Contains("2 outputs") && Catch::Contains("forward gave 1"));

    // Twice through a released graph; with retain_graph it works.
    x.zero_grad();
    Tensor r = autograd::checkpoint([](const Tensor& t) { return t.exp(); }, x).sum();
    r.backward({}, {.retain_graph = true});
    r.backward();
    CHECK(max_diff(x.grad(), (x.exp() * 2.0).detach()) <= 1e-12);
    CHECK_THROWS_WITH(r.backward(), Catch::Contains("second time"));

    // An empty function.
    CHECK_THROWS_AS(autograd::checkpoint(std::function<Tensor(const Tensor&)>(), x), ValueError);
    CHECK_THROWS_WITH(autograd::checkpoint(std::function<TensorList(const TensorList&)>(), {x}),
                      Catch::Contains("xgrad::autograd::checkpoint: fn is empty"));
}
