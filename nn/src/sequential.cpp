#include <xgrad/core/check.hpp>
#include <xgrad/nn/sequential.hpp>

namespace xgrad::nn {

std::shared_ptr<Module> Sequential::operator[](std::size_t i) const {
    if (i >= size())
        raise<IndexError>("nn::Sequential", "index ", std::to_string(i), " is out of range for ",
                          std::to_string(size()), " modules");
    return named_children()[i].second;
}

Tensor Sequential::forward(const Tensor& input) {
    Tensor x = input;
    const bool label = autograd::AnomalyMode::is_enabled();
    for (const auto& [name, m] : named_children()) {
        if (!label) {
            x = m->forward(x);
            continue;
        }
        autograd::AnomalyScope scope("[" + name + "] " + m->name());  // "[2] Linear"
        x = m->forward(x);
    }
    return x;
}

}  // namespace xgrad::nn
