// XOR with a 2-layer network, written directly with tensors and the tape.
//
// The seed article's loop: forward propagation, cost, backward propagation, update; repeated
// until the cost stops falling. Then inference by forward propagation alone (no tape).
#include <cstdio>
#include <xgrad/xgrad.hpp>

using namespace xgrad;

int main() {
    manual_seed(0);
    const Tensor x = tensor({{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}});  // [4, 2]
    const Tensor y = tensor({0.f, 1.f, 1.f, 0.f}).reshape({4, 1});              // [4, 1]

    // Parameters: input(2) -> hidden(4, tanh) -> output(1, sigmoid).
    Tensor w1 = (randn({2, 4}) * 1.0).detach().requires_grad_();
    Tensor b1 = zeros({4}, {.requires_grad = true});
    Tensor w2 = (randn({4, 1}) * 1.0).detach().requires_grad_();
    Tensor b2 = zeros({1}, {.requires_grad = true});
    const float lr = 0.5f;

    auto forward = [&](const Tensor& in) {
        Tensor hidden = tanh(matmul(in, w1) + b1);  // each hidden neuron: weighted sum + activation
        return sigmoid(matmul(hidden, w2) + b2);    // output neuron: probability of "1"
    };

    float loss_value = 0.f;
    int epoch = 0;
    for (; epoch < 5000; ++epoch) {
        Tensor p = forward(x);
        // Binary cross-entropy cost, composed from ops (clamped so log stays finite).
        Tensor pc = clamp(p, 1e-7, 1 - 1e-7);
        Tensor loss = -(y * log(pc) + (1.0 - y) * log(1.0 - pc)).mean();
        loss.backward();  // backward propagation through the recorded tape
        {
            NoGradGuard no_grad;  // the update itself is not part of the model
            for (Tensor* w : {&w1, &b1, &w2, &b2}) {
                w->copy_(*w - w->grad() * lr);
                w->zero_grad();
            }
        }
        loss_value = loss.item<float>();
        if (epoch % 500 == 0) std::printf("epoch %4d  cost %.5f\n", epoch, loss_value);
        if (loss_value < 0.01f) break;  // converged
    }
    std::printf("stopped after %d epochs, cost %.5f\n", epoch + 1, loss_value);

    NoGradGuard inference;  // forward propagation only
    Tensor p = forward(x);
    int correct = 0;
    for (int i = 0; i < 4; ++i) {
        const float prob = p.select(0, i).item<float>();
        const int predicted = prob > 0.5f ? 1 : 0;
        correct += predicted == static_cast<int>(y.select(0, i).item<float>());
        std::printf("  %g XOR %g -> %.4f (predicts %d)\n",
                    x.select(0, i).select(0, 0).item<float>(),
                    x.select(0, i).select(0, 1).item<float>(), prob, predicted);
    }
    std::printf("accuracy: %d/4\n", correct);
    return correct == 4 ? 0 : 1;
}
