#include <cxxabi.h>

#include <cstdlib>
#include <ostream>
#include <set>
#include <sstream>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

namespace {

void check_name(const std::string& name, const std::string& owner, const char* what) {
    if (name.empty() || name.find('.') != std::string::npos)
        raise<ValueError>(("nn::" + owner).c_str(), what, " name '", name,
                          "' must be non-empty and contain no '.'");
}

template <class List>
bool has_name(const List& list, const std::string& name) {
    for (const auto& [n, v] : list)
        if (n == name) return true;
    return false;
}

std::string thousands(std::int64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(i, ",");
    return s;
}

}  // namespace

Tensor Module::forward(const Tensor&) {
    raise<ValueError>(("nn::" + name()).c_str(),
                      "this module does not take a single tensor (call its own operator())");
}

Tensor Module::forward_labelled(const Tensor& input) {
    autograd::AnomalyScope scope(name());
    return forward(input);
}

std::string Module::name() const {
    int status = 0;
    char* demangled = abi::__cxa_demangle(typeid(*this).name(), nullptr, nullptr, &status);
    std::string full = status == 0 && demangled ? demangled : typeid(*this).name();
    std::free(demangled);
    const auto pos = full.rfind("::");
    return pos == std::string::npos ? full : full.substr(pos + 2);
}

void Module::add_child(const std::string& n, std::shared_ptr<Module> child) {
    check_name(n, name(), "submodule");
    if (!child) raise<ValueError>(("nn::" + name()).c_str(), "submodule '", n, "' is null");
    if (has_name(children_, n) || has_name(params_, n) || has_name(buffers_, n))
        raise<ValueError>(("nn::" + name()).c_str(), "the name '", n, "' is already registered");
    children_.emplace_back(n, std::move(child));
}

Tensor Module::register_parameter(const std::string& n, Tensor t, bool requires_grad) {
    check_name(n, name(), "parameter");
    if (!t.defined())
        raise<ValueError>(("nn::" + name()).c_str(), "parameter '", n, "' is undefined");
    if (has_name(children_, n) || has_name(params_, n) || has_name(buffers_, n))
        raise<ValueError>(("nn::" + name()).c_str(), "the name '", n, "' is already registered");
    if (!t.is_leaf()) t = t.detach();
    if (requires_grad) t.requires_grad_(true);
    params_.emplace_back(n, t);
    return t;
}

Tensor Module::register_buffer(const std::string& n, Tensor t) {
    check_name(n, name(), "buffer");
    if (!t.defined()) raise<ValueError>(("nn::" + name()).c_str(), "buffer '", n, "' is undefined");
    if (has_name(children_, n) || has_name(params_, n) || has_name(buffers_, n))
        raise<ValueError>(("nn::" + name()).c_str(), "the name '", n, "' is already registered");
    buffers_.emplace_back(n, t.detach());
    return buffers_.back().second;
}

void Module::replace_parameter(const std::string& n, const Tensor& t) {
    for (auto& [pn, pt] : params_)
        if (pn == n) {
            NoGradGuard no_grad;
            set_data(pt, t.detach());
            return;
        }
    raise<ValueError>(("nn::" + name()).c_str(), "no parameter named '", n, "'");
}

void Module::collect(const std::string& prefix, bool recurse, bool want_params,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
    for (const auto& [n, t] : want_params ? params_ : buffers_) out.emplace_back(prefix + n, t);
    if (recurse)
        for (const auto& [n, c] : children_) c->collect(prefix + n + ".", true, want_params, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect("", recurse, true, out);
    // A parameter shared by two submodules is listed once, as in PyTorch.
    std::set<const TensorImpl*> seen;
    std::vector<std::pair<std::string, Tensor>> unique;
    for (auto& p : out)
        if (seen.insert(p.second.impl().get()).second) unique.push_back(std::move(p));
    return unique;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
    std::vector<Tensor> out;
    for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
    return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect("", recurse, false, out);
    return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
    std::vector<Tensor> out;
    for (auto& [n, t] : named_buffers(recurse)) out.push_back(t);
    return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
    std::vector<std::shared_ptr<Module>> out;
    for (const auto& [n, c] : children_) out.push_back(c);
    return out;
}

std::int64_t Module::num_parameters(bool only_trainable) const {
    std::int64_t n = 0;
    for (const auto& t : parameters())
        if (!only_trainable || t.requires_grad()) n += t.numel();
    return n;
}

void Module::train(bool on) {
    training_ = on;
    for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad(bool set_to_none) {
    for (auto& p : parameters()) p.zero_grad(set_to_none);
}

Module& Module::to(Dtype dtype) {
    NoGradGuard no_grad;
    for (auto& group : {named_parameters(), named_buffers()})
        for (const auto& [n, t] : group)
            if (is_floating(t.dtype()) && t.dtype() != dtype) set_data(t, t.to(dtype));
    return *this;
}

StateDict Module::state_dict() const {
    StateDict out;
    for (auto& [n, t] : named_parameters()) out.emplace(n, t);
    for (auto& [n, t] : named_buffers()) out.emplace(n, t);
    return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
    const StateDict own = state_dict();
    std::vector<std::string> missing, unexpected, mismatched;
    for (const auto& [n, t] : own) {
        auto it = state.find(n);
        if (it == state.end()) {
            missing.push_back(n);
        } else if (!it->second.defined() || it->second.shape() != t.shape() ||
                   it->second.dtype() != t.dtype()) {
            mismatched.push_back(n + " (expected " + std::string(dtype_name(t.dtype())) + " " +
                                 shape_str(t.shape()) + ", got " +
                                 (it->second.defined()
                                      ? std::string(dtype_name(it->second.dtype())) + " " +
                                            shape_str(it->second.shape())
                                      : std::string("undefined")) +
                                 ")");
        }
    }
    for (const auto& [n, t] : state)
        if (!own.count(n)) unexpected.push_back(n);
    // Mismatched shapes are an error even when not strict: there is no sensible partial load.
    if (!mismatched.empty() || (strict && (!missing.empty() || !unexpected.empty()))) {
        std::ostringstream msg;
        msg << "xgrad::nn::" << name() << "::load_state_dict: the state dict does not fit";
        auto list = [&](const char* what, const std::vector<std::string>& v) {
            if (v.empty()) return;
            msg << "; " << what << ": ";
            for (std::size_t i = 0; i < v.size(); ++i) msg << (i ? ", " : "") << v[i];
        };
        list("missing keys", missing);
        if (strict) list("unexpected keys", unexpected);
        list("wrong shape or dtype", mismatched);
        msg << ". Nothing was loaded.";
        throw ShapeError(msg.str());
    }
    NoGradGuard no_grad;
    for (const auto& [n, t] : own) {
        auto it = state.find(n);
        if (it != state.end() && !it->second.is_same(t)) {
            Tensor dst = t;
            dst.copy_(it->second);
        }
    }
}

void Module::print(std::ostream& os, int indent) const {
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    os << name() << '(' << extra_repr();
    if (!children_.empty()) {
        os << '\n';
        for (const auto& [n, c] : children_) {
            os << pad << "  (" << n << "): ";
            c->print(os, indent + 2);
            if (c->children_.empty() && c->num_parameters() > 0)
                os << "  # " << thousands(c->num_parameters()) << " parameters";
            os << '\n';
        }
        os << pad;
    }
    os << ')';
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
    m.print(os, 0);
    const std::int64_t total = m.num_parameters(), trainable = m.num_parameters(true);
    os << "\nparameters: " << thousands(total);
    if (trainable != total) os << " (" << thousands(trainable) << " trainable)";
    return os;
}

}  // namespace xgrad::nn
