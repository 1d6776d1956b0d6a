// Sequential: modules applied one after another; Functional: a plain function as a module.
#pragma once
#include <functional>

#include <xgrad/core/check.hpp>
#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

class Sequential : public Module {
  public:
    Sequential() = default;
    // Sequential(nn::Linear(2, 4), nn::Tanh(), nn::Linear(4, 1)); also takes shared_ptrs.
    template <class M, class... Ms,
              class = std::enable_if_t<!std::is_same_v<std::decay_t<M>, Sequential>>>
    explicit Sequential(M&& first, Ms&&... rest) {
        push_back(std::forward<M>(first));
        (push_back(std::forward<Ms>(rest)), ...);
    }

    // Appends a module (registered as "0", "1", ...); returns *this so calls chain.
    template <class M>
    Sequential& push_back(M&& module) {
        register_module(std::to_string(size()), std::forward<M>(module));
        return *this;
    }

    std::size_t size() const { return named_children().size(); }
    std::shared_ptr<Module> operator[](std::size_t i) const;
    // The i-th module as its own type; throws if it is another type.
    template <class M>
    std::shared_ptr<M> at(std::size_t i) const {
        auto m = std::dynamic_pointer_cast<M>((*this)[i]);
        if (!m)
            raise<ValueError>("nn::Sequential::at", "module ", std::to_string(i), " is a ",
                              (*this)[i]->name(), ", not the requested type");
        return m;
    }

    Tensor forward(const Tensor& input) override;
};

// Wraps a function or lambda so it can sit in a Sequential: a user's activation is one line,
//   nn::Functional swish([](const Tensor& x) { return x * sigmoid(x); }, "Swish");
class Functional : public Module {
  public:
    explicit Functional(std::function<Tensor(const Tensor&)> fn, std::string name = "Functional")
        : fn_(std::move(fn)), name_(std::move(name)) {}
    Tensor forward(const Tensor& input) override { return fn_(input); }
    std::string name() const override { return name_; }

  private:
    std::function<Tensor(const Tensor&)> fn_;
    std::string name_;
};

}  // namespace xgrad::nn
