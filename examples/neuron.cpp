// One neuron learns AND and OR: the seed article's first lesson.
//
// A neuron weighs its inputs, adds a bias and passes the sum through an activation:
// y = sigmoid(w1 x1 + w2 x2 + b). Training means finding w1, w2 and b that make the cost (binary
// cross-entropy between y and the truth table) small: forward propagation, cost, backward
// propagation, a gradient step, repeated. The learned neuron separates the inputs with the
// straight line w1 x1 + w2 x2 + b = 0, which is why one neuron cannot learn XOR (shown last).
//
//   neuron            # 2000 full-batch steps per gate
//   neuron --quick    # 200 steps (CTest): exits 1 unless the cost fell
#include <cstdio>
#include <string>

#include <xgrad/xgrad.hpp>

#include "common/args.hpp"

using namespace xgrad;

namespace {

struct Result {
    double first_cost = 0, last_cost = 0;
    int correct = 0;
};

// Trains a fresh neuron on the four rows of a truth table and prints what it learned.
Result learn(const std::string& gate, const Tensor& targets, int steps, double lr) {
    const Tensor x = tensor({{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}});  // [4, 2]
    const Tensor y = targets.reshape({4, 1});
    nn::Neuron neuron(
        2, [](const Tensor& z) { return sigmoid(z); }, "sigmoid");
    optim::SGD opt(neuron.parameters(), {.lr = lr});

    Result r;
    for (int step = 0; step < steps; ++step) {
        Tensor cost = nn::binary_cross_entropy(neuron(x), y);  // forward propagation + cost
        opt.zero_grad();
        cost.backward();  // backward propagation: d cost / d w, d cost / d b
        opt.step();       // w -= lr * dw, b -= lr * db
        if (step == 0) r.first_cost = cost.item<double>();
        r.last_cost = cost.item<double>();
    }

    const auto w = neuron.weight.to_vector<float>();
    const float b = neuron.bias.item<float>();
    std::printf("%s: cost %.4f -> %.4f after %d steps\n", gate.c_str(), r.first_cost, r.last_cost,
                steps);
    std::printf("  weights w1 = %+.3f, w2 = %+.3f, bias b = %+.3f\n", w[0], w[1], b);
    std::printf("  decision line: %+.3f*x1 %+.3f*x2 %+.3f = 0\n", w[0], w[1], b);

    NoGradGuard inference;  // using the neuron needs forward propagation only
    const auto p = neuron(x).to_vector<float>();
    const auto truth = targets.to_vector<float>();
    for (int i = 0; i < 4; ++i) {
        const int predicted = p[i] > 0.5f ? 1 : 0;
        r.correct += predicted == int(truth[i]);
        std::printf("  %d %s %d = %d   neuron says %.3f -> %d\n", i / 2, gate.c_str(), i % 2,
                    int(truth[i]), p[i], predicted);
    }
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    int steps = 2000;
    double lr = 1.0;
    bool quick = false;
    examples::Args args("neuron", "One sigmoid neuron learns the AND and OR gates.");
    args.option("--steps", steps, "gradient steps per gate (full batch: the 4 rows)");
    args.option("--lr", lr, "learning rate of plain gradient descent");
    args.flag("--quick", quick, "tiny configuration for CTest");
    args.parse(argc, argv);
    args.print_config();
    if (quick) steps = 200;

    manual_seed(0);
    const Result and_gate = learn("AND", tensor({0.f, 0.f, 0.f, 1.f}), steps, lr);
    const Result or_gate = learn("OR", tensor({0.f, 1.f, 1.f, 1.f}), steps, lr);
    const Result xor_gate = learn("XOR", tensor({0.f, 1.f, 1.f, 0.f}), steps, lr);
    std::printf(
        "XOR: %d/4 right; its cost stays near log 2 = 0.693: no straight line separates\n"
        "{(0,1), (1,0)} from {(0,0), (1,1)}. It needs a hidden layer (see classify_2d).\n",
        xor_gate.correct);

    const bool fell =
        and_gate.last_cost < and_gate.first_cost && or_gate.last_cost < or_gate.first_cost;
    if (quick) return fell ? 0 : 1;
    return fell && and_gate.correct == 4 && or_gate.correct == 4 ? 0 : 1;
}
