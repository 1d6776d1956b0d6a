// nn::Module: the base of every layer. A module registers its parameters, buffers and
// submodules by name; everything else (parameters(), state_dict(), train()/eval(), to(),
// printing) walks that registry recursively, with dotted names as in PyTorch.
//
// A custom layer:
//
//   struct TwoLayer : nn::Module {
//       TwoLayer(int in, int hidden, int out)
//           : fc1(register_module("fc1", nn::Linear(in, hidden))),
//             fc2(register_module("fc2", nn::Linear(hidden, out))),
//             scale(register_parameter("scale", ones({out}))) {}
//       Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))) * scale; }
//       std::shared_ptr<nn::Linear> fc1, fc2;
//       Tensor scale;
//   };
//
// Copying a module copies handles: the copy shares parameters and submodules with the original.
#pragma once
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgrad/autograd/anomaly_mode.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::nn {

// Name -> tensor, for checkpoints. Parameters and buffers, dotted names ("0.weight").
using StateDict = std::map<std::string, Tensor>;

class Module {
  public:
    Module() = default;
    virtual ~Module() = default;
    Module(const Module&) = default;
    Module& operator=(const Module&) = default;
    Module(Module&&) = default;
    Module& operator=(Module&&) = default;

    // The layer's computation on one input. Modules with other signatures (losses, recurrent
    // layers) add their own call operators; calling this one on them is an error.
    virtual Tensor forward(const Tensor& input);
    // In anomaly mode the call is labelled with name(), so a bad gradient names its module.
    Tensor operator()(const Tensor& input) {
        return autograd::AnomalyMode::is_enabled() ? forward_labelled(input) : forward(input);
    }

    // "Linear"; defaults to the class name.
    virtual std::string name() const;
    // The part inside the parentheses when printed: "in_features=784, out_features=256".
    virtual std::string extra_repr() const { return ""; }

    std::vector<Tensor> parameters(bool recurse = true) const;
    std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
    std::vector<Tensor> buffers(bool recurse = true) const;
    std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
    std::vector<std::shared_ptr<Module>> children() const;
    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
        return children_;
    }
    // Number of parameter elements (all, or only those that require grad).
    std::int64_t num_parameters(bool only_trainable = false) const;

    // Training mode (dropout active, batch statistics) vs evaluation mode, recursively.
    virtual void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }

    void zero_grad(bool set_to_none = true);
    // Converts floating parameters and buffers to `dtype` in place (handles stay valid).
    Module& to(Dtype dtype);

    StateDict state_dict() const;
    // Copies values from `state` into this module's parameters and buffers. Strict: missing,
    // unexpected, mis-shaped or mis-typed entries are an error listing all of them, and the
    // module is left unchanged. Non-strict: only matching names are loaded (shapes must fit).
    void load_state_dict(const StateDict& state, bool strict = true);

  protected:
    // Registers and returns a parameter (requires_grad is turned on unless told otherwise).
    Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
    // Registers and returns a buffer: state that is saved but not trained (running means).
    Tensor register_buffer(const std::string& name, Tensor tensor);
    // Registers a submodule, given by value or as a shared_ptr; returns the shared_ptr.
    template <class M>
    auto register_module(const std::string& name, M&& module) {
        if constexpr (is_shared_ptr<std::decay_t<M>>::value) {
            add_child(name, module);
            return module;
        } else {
            static_assert(std::is_base_of_v<Module, std::decay_t<M>>,
                          "register_module needs an nn::Module");
            auto p = std::make_shared<std::decay_t<M>>(std::forward<M>(module));
            add_child(name, p);
            return p;
        }
    }
    // Replaces a registered parameter's tensor (e.g. a layer that is re-initialised).
    void replace_parameter(const std::string& name, const Tensor& tensor);

  private:
    Tensor forward_labelled(const Tensor& input);

    template <class T>
    struct is_shared_ptr : std::false_type {};
    template <class T>
    struct is_shared_ptr<std::shared_ptr<T>> : std::true_type {};

    void add_child(const std::string& name, std::shared_ptr<Module> child);
    void collect(const std::string& prefix, bool recurse, bool want_params,
                 std::vector<std::pair<std::string, Tensor>>& out) const;
    void print(std::ostream& os, int indent) const;
    friend std::ostream& operator<<(std::ostream& os, const Module& m);

    std::vector<std::pair<std::string, Tensor>> params_;
    std::vector<std::pair<std::string, Tensor>> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
};

// Prints the module tree like PyTorch, with parameter counts.
std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace xgrad::nn
