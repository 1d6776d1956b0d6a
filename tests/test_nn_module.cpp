// nn::Module: registry, state dicts, modes, dtype conversion, printing; Linear and Neuron; and
// the seed article's first lessons: a neuron learns AND, a 2-2-1 network learns XOR.
#include <catch2/catch.hpp>
#include <sstream>
#include <xgrad/xgrad.hpp>

using namespace xgrad;

namespace {

struct TwoLayer : nn::Module {
    TwoLayer(int in, int hidden, int out)
        : fc1(register_module("fc1", nn::Linear(in, hidden))),
          fc2(register_module("fc2", nn::Linear(hidden, out))),
          scale(register_parameter("scale", ones({out}))),
          steps(register_buffer("steps", zeros({1}))) {}
    Tensor forward(const Tensor& x) override { return (*fc2)(tanh((*fc1)(x))) * scale; }
    std::shared_ptr<nn::Linear> fc1, fc2;
    Tensor scale, steps;
};

// Plain gradient descent, done by hand (the optimizers live in optim/).
void sgd_step(nn::Module& m, double lr) {
    NoGradGuard no_grad;
    for (auto& p : m.parameters())
        if (p.grad().defined()) p.copy_(p - p.grad() * lr);
    m.zero_grad();
}

Tensor bce(const Tensor& p, const Tensor& y) {
    Tensor pc = clamp(p, 1e-7, 1 - 1e-7);
    return -(y * log(pc) + (1.0 - y) * log(1.0 - pc)).mean();
}

}  // namespace

TEST_CASE("modules register parameters, buffers and submodules with dotted names", "[nn]") {
    manual_seed(0);
    TwoLayer net(3, 4, 2);
    auto named = net.named_parameters();
    std::vector<std::string> names;
    for (auto& [n, t] : named) names.push_back(n);
    CHECK(names ==
          std::vector<std::string>{"scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"});
    CHECK(net.parameters().size() == 5);
    CHECK(net.num_parameters() == 2 + 12 + 4 + 8 + 2);
    CHECK(net.buffers().size() == 1);
    CHECK(net.children().size() == 2);
    CHECK(net.fc1->weight.shape() == Shape{4, 3});
    CHECK(net.fc1->weight.requires_grad());
    CHECK_FALSE(net.steps.requires_grad());
    auto sd = net.state_dict();
    CHECK(sd.size() == 6);
    CHECK(sd.count("fc2.bias") == 1);
    CHECK(sd.count("steps") == 1);
    // The member handle and the registry hold the same tensor.
    CHECK(sd.at("fc1.weight").is_same(net.fc1->weight));
}

TEST_CASE("Linear follows PyTorch's shapes and default initialisation", "[nn]") {
    manual_seed(1);
    nn::Linear fc(100, 30);
    const double bound = 1.0 / 10.0;
    for (const Tensor& p : {fc.weight, fc.bias}) {
        auto v = p.to_vector<double>();
        CHECK(*std::max_element(v.begin(), v.end()) <= bound);
        CHECK(*std::min_element(v.begin(), v.end()) >= -bound);
        CHECK(*std::max_element(v.begin(), v.end()) > 0.8 * bound);  // uniform over the range
    }
    Tensor x = randn({7, 100});
    Tensor y = fc(x);
    CHECK(y.shape() == Shape{7, 30});
    Tensor expected = matmul(x, fc.weight.t()) + fc.bias;
    auto a = y.to_vector<float>(), b = expected.to_vector<float>();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).margin(1e-5));
    CHECK(fc(randn({2, 5, 100})).shape() == Shape{2, 5, 30});  // leading dims broadcast
    nn::Linear nob(4, 2, false);
    CHECK(nob.parameters().size() == 1);
    CHECK_THROWS_AS(fc(randn({7, 99})), ShapeError);
    CHECK_THROWS_WITH(fc(randn({7, 99})), Catch::Contains("xgrad::nn::Linear") &&
                                              Catch::Contains("100") && Catch::Contains("[7, 99]"));
    CHECK_THROWS_AS(nn::Linear(0, 3), ValueError);
}

TEST_CASE("Linear passes gradcheck in float64", "[nn][gradcheck]") {
    manual_seed(2);
    nn::Linear fc(3, 2);
    fc.to(kFloat64);
    CHECK(fc.weight.dtype() == kFloat64);
    Tensor x = randn({4, 3}, {kFloat64, true});
    TensorList inputs{x, fc.weight, fc.bias};
    CHECK(autograd::gradcheck([&](const TensorList&) { return fc(x); }, inputs).ok);
    CHECK(autograd::gradgradcheck([&](const TensorList&) { return tanh(fc(x)); }, inputs).ok);
}

TEST_CASE("load_state_dict is strict and changes nothing on failure", "[nn]") {
    manual_seed(3);
    TwoLayer a(3, 4, 2), b(3, 4, 2);
    b.load_state_dict(a.state_dict());
    CHECK(b.fc1->weight.to_vector<float>() == a.fc1->weight.to_vector<float>());
    CHECK_FALSE(b.fc1->weight.is_same(a.fc1->weight));  // values copied, not handles shared

    TwoLayer c(3, 4, 2);
    const auto before = c.fc1->weight.to_vector<float>();
    auto sd = a.state_dict();
    sd.erase("fc2.bias");
    sd["extra"] = zeros({1});
    sd["fc1.weight"] = zeros({5, 3});
    try {
        c.load_state_dict(sd);
        FAIL("expected an error");
    } catch (const ShapeError& e) {
        const std::string msg = e.what();
        CHECK(msg.find("missing keys: fc2.bias") != std::string::npos);
        CHECK(msg.find("unexpected keys: extra") != std::string::npos);
        CHECK(msg.find("fc1.weight (expected float32 [4, 3], got float32 [5, 3])") !=
              std::string::npos);
    }
    CHECK(c.fc1->weight.to_vector<float>() == before);  // unchanged
    auto sd2 = a.state_dict();
    sd2["fc1.bias"] = zeros({4}, {kFloat64});
    CHECK_THROWS_AS(c.load_state_dict(sd2), ShapeError);
    // Non-strict: only matching keys are loaded.
    auto partial = a.state_dict();
    partial.erase("fc2.weight");
    c.load_state_dict(partial, false);
    CHECK(c.fc1->weight.to_vector<float>() == a.fc1->weight.to_vector<float>());
}

TEST_CASE("train/eval, zero_grad and to(dtype) walk the tree", "[nn]") {
    nn::Sequential seq(nn::Linear(2, 3),
                       nn::Functional([](const Tensor& x) { return relu(x); }, "ReLU"),
                       nn::Linear(3, 1));
    CHECK(seq.is_training());
    seq.eval();
    CHECK_FALSE(seq.is_training());
    CHECK_FALSE(seq[0]->is_training());
    seq.train();
    CHECK(seq[2]->is_training());
    seq(ones({1, 2})).sum().backward();
    CHECK(seq.at<nn::Linear>(0)->weight.grad().defined());
    seq.zero_grad();
    CHECK_FALSE(seq.at<nn::Linear>(0)->weight.grad().defined());
    Tensor w = seq.at<nn::Linear>(2)->weight;
    seq.to(kFloat64);
    CHECK(w.dtype() == kFloat64);  // the same handle now holds float64 data
    CHECK(seq(ones({1, 2}, {kFloat64})).dtype() == kFloat64);
    CHECK_THROWS_AS(seq.at<nn::Linear>(1), ValueError);
    CHECK_THROWS_AS(seq[3], IndexError);
}

TEST_CASE("modules print as a tree with parameter counts", "[nn]") {
    nn::Sequential seq(nn::Linear(784, 256),
                       nn::Functional([](const Tensor& x) { return relu(x); }, "ReLU"),
                       nn::Linear(256, 10, false));
    std::ostringstream os;
    os << seq;
    CHECK(os.str() ==
          "Sequential(\n"
          "  (0): Linear(in_features=784, out_features=256, bias=true)  # 200,960 parameters\n"
          "  (1): ReLU()\n"
          "  (2): Linear(in_features=256, out_features=10, bias=false)  # 2,560 parameters\n"
          ")\nparameters: 203,520");
    std::ostringstream custom;
    custom << TwoLayer(2, 2, 1);
    CHECK(custom.str().rfind("TwoLayer(\n  (fc1): Linear", 0) == 0);
}

TEST_CASE("a single neuron learns AND", "[nn][training]") {
    manual_seed(4);
    nn::Neuron neuron(
        2, [](const Tensor& z) { return sigmoid(z); }, "sigmoid");
    const Tensor x = tensor({{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}});
    const Tensor y = tensor({0.f, 0.f, 0.f, 1.f}).reshape({4, 1});
    double first = 0, last = 0;
    for (int step = 0; step < 2000; ++step) {
        Tensor loss = bce(neuron(x), y);
        if (step == 0) first = loss.item<double>();
        last = loss.item<double>();
        loss.backward();
        sgd_step(neuron, 1.0);
    }
    CHECK(last < first / 10);
    NoGradGuard inference;
    CHECK(((neuron(x) > 0.5).to(kFloat32) == y).to(kInt64).sum().item<std::int64_t>() == 4);
}

TEST_CASE("a 2-2-1 network learns XOR", "[nn][training]") {
    manual_seed(5);
    nn::Sequential net(
        nn::Linear(2, 2), nn::Functional([](const Tensor& z) { return tanh(z); }, "Tanh"),
        nn::Linear(2, 1), nn::Functional([](const Tensor& z) { return sigmoid(z); }, "Sigmoid"));
    const Tensor x = tensor({{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}});
    const Tensor y = tensor({0.f, 1.f, 1.f, 0.f}).reshape({4, 1});
    for (int step = 0; step < 3000; ++step) {
        Tensor loss = bce(net(x), y);
        loss.backward();
        sgd_step(net, 1.0);
    }
    NoGradGuard inference;
    Tensor correct = ((net(x) > 0.5).to(kFloat32) == y).to(kInt64).sum();
    CHECK(correct.item<std::int64_t>() == 4);
}
