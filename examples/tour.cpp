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
}
