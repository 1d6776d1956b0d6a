// The README's short tour, kept as a program so that it always compiles and runs.
#include <iostream>
#include <xgrad/xgrad.hpp>
using namespace xgrad;

Tensor swish(const Tensor& x) {
    return x * sigmoid(x);
}  // a custom activation: just ops

int main() {
    manual_seed(42);
    Tensor x = randn({64, 784});
    Tensor w = (randn({784, 10}) * 0.01).detach().requires_grad_();
    Tensor b = zeros({10}, {.requires_grad = true});  // options are aggregate structs

    Tensor logits = swish(matmul(x, w) + b);  // broadcasting as in NumPy
    Tensor loss = (logits.logsumexp({1}) - logits.select(1, 0)).mean();
    loss.backward();  // w.grad(), b.grad() now set

    {
        NoGradGuard no_grad;  // update outside the tape
        w.copy_(w - w.grad() * 0.1);
    }
    std::cout << b.grad() << "\n";  // prints like PyTorch

    // The same with modules, a cost and an optimizer (README, "Neural networks").
    Tensor labels = randint(0, 10, {64});
    nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
    optim::Adam opt(model.parameters(), {.lr = 1e-3});
    Tensor first;
    for (int step = 0; step < 20; ++step) {
        Tensor cost = nn::cross_entropy(model(x), labels);
        if (step == 0) first = cost;
        opt.zero_grad();
        cost.backward();
        opt.step();
    }
    std::cout << model << "\n";
    const double before = first.item<double>();
    const double after = nn::cross_entropy(model(x), labels).item<double>();
    std::cout << "cost " << before << " -> " << after << "\n";
    return after < before ? 0 : 1;
}
