// Optimizer base: parameter groups, zero_grad, and the state dict (save, validate, load).
#include <charconv>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/optim/optimizer.hpp>
#include "optim_common.hpp"

namespace xgrad::optim {

namespace detail {
std::string format_value(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof(buf), value);
    return std::string(buf, r.ptr);
}
}  // namespace detail

namespace {

std::string param_desc(std::size_t index, std::size_t group, const Tensor& p) {
    return "parameter " + std::to_string(index) + " of group " + std::to_string(group) +
           " (shape " + shape_str(p.shape()) + ")";
}

// A deep copy with no history, in `dtype`.
Tensor copy_as(const Tensor& src, Dtype dtype) {
    NoGradGuard no_grad;
    Tensor d = src.detach();
    return d.dtype() == dtype ? d.clone() : d.to(dtype);
}

// Parses a non-negative decimal index written without sign or leading zeros.
bool parse_index(const std::string& s, std::size_t& out) {
    if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Splits "<prefix><index>.<rest>"; false if the key does not have that form.
bool split_key(const std::string& key, const std::string& prefix, std::size_t& index,
               std::string& rest) {
    if (key.compare(0, prefix.size(), prefix) != 0) return false;
    const std::size_t dot = key.find('.', prefix.size());
    if (dot == std::string::npos || dot + 1 >= key.size()) return false;
    if (!parse_index(key.substr(prefix.size(), dot - prefix.size()), index)) return false;
    rest = key.substr(dot + 1);
    return true;
}

bool is_count(double v) {
    return std::isfinite(v) && v >= 0 && v == std::floor(v) && v < 9.007199254740992e15;
}

}  // namespace

Optimizer::Optimizer(std::string name, std::vector<std::string> buffer_names, bool counts_steps)
    : name_(std::move(name)), buffer_names_(std::move(buffer_names)), counts_steps_(counts_steps) {}

Optimizer::~Optimizer() = default;

std::string Optimizer::who() const {
    return "xgrad::optim::" + name_;
}

std::size_t Optimizer::checked_group(std::size_t group, const char* what) const {
    if (group >= params_.size())
        raise<IndexError>(("optim::" + name_ + "::" + what).c_str(), "group ",
                          std::to_string(group), " is out of range (the optimizer has ",
                          std::to_string(params_.size()), " groups)");
    return group;
}

void Optimizer::check_new_params(const std::vector<Tensor>& params, std::size_t group) const {
    const std::string op = "optim::" + name_;
    if (params.empty())
        raise<ValueError>(op.c_str(), "got an empty parameter list (group ", std::to_string(group),
                          ")");
    for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor& p = params[i];
        if (!p.defined())
            raise<ValueError>(op.c_str(), "parameter ", std::to_string(i), " of group ",
                              std::to_string(group), " is an undefined tensor");
        if (!is_floating(p.dtype()))
            raise<DtypeError>(op.c_str(), param_desc(i, group, p), " is ", dtype_name(p.dtype()),
                              "; only float32 and float64 tensors can be optimized");
        if (!p.requires_grad())
            raise<ValueError>(
                op.c_str(), param_desc(i, group, p),
                " does not require grad; call requires_grad_() on it or leave it out");
        if (!p.is_leaf())
            raise<ValueError>(op.c_str(), param_desc(i, group, p),
                              " is not a leaf tensor (it is the result of an op); optimize the "
                              "leaf it comes from");
        for (std::size_t j = 0; j < i; ++j)
            if (p.is_same(params[j]))
                raise<ValueError>(op.c_str(), param_desc(i, group, p),
                                  " is the same tensor as parameter ", std::to_string(j));
        for (std::size_t h = 0; h < params_.size(); ++h)
            for (const Tensor& q : params_[h])
                if (p.is_same(q))
                    raise<ValueError>(op.c_str(), param_desc(i, group, p), " is already in group ",
                                      std::to_string(h));
    }
}

void Optimizer::append_params(std::vector<Tensor> params) {
    const std::size_t n = params.size();
    params_.push_back(std::move(params));
    ParamState empty;
    empty.buffers.resize(buffer_names_.size());
    state_.emplace_back(n, empty);
    initial_lr_.emplace_back();
}

Tensor Optimizer::step(const std::function<Tensor()>& closure) {
    Tensor loss;
    {
        AutoGradMode enable(true);
        loss = closure();
    }
    step();
    return loss;
}

void Optimizer::zero_grad(bool set_to_none) {
    for (auto& group : params_)
        for (Tensor& p : group) p.zero_grad(set_to_none);
}

const std::vector<Tensor>& Optimizer::params(std::size_t group) const {
    return params_[checked_group(group, "params")];
}

std::vector<Tensor> Optimizer::parameters() const {
    std::vector<Tensor> all;
    for (const auto& group : params_) all.insert(all.end(), group.begin(), group.end());
    return all;
}

std::size_t Optimizer::param_count() const {
    std::size_t n = 0;
    for (const auto& group : params_) n += group.size();
    return n;
}

double Optimizer::lr(std::size_t group) const {
    return group_lr(checked_group(group, "lr"));
}

void Optimizer::set_lr(std::size_t group, double lr) {
    const std::size_t g = checked_group(group, "set_lr");
    detail::require(detail::finite_nonneg(lr), who() + "::set_lr",
                    ("learning rate for group " + std::to_string(g)).c_str(), lr,
                    "finite and >= 0");
    set_group_lr(g, lr);
}

std::optional<double> Optimizer::initial_lr(std::size_t group) const {
    return initial_lr_[checked_group(group, "initial_lr")];
}

void Optimizer::set_initial_lr(std::size_t group, double lr) {
    const std::size_t g = checked_group(group, "set_initial_lr");
    detail::require(detail::finite_nonneg(lr), who() + "::set_initial_lr",
                    ("initial learning rate for group " + std::to_string(g)).c_str(), lr,
                    "finite and >= 0");
    initial_lr_[g] = lr;
}

OptimizerState Optimizer::state_dict() const {
    OptimizerState out;
    out.kind = name_;
    std::size_t index = 0;
    for (std::size_t g = 0; g < params_.size(); ++g) {
        const std::string gp = "param_groups." + std::to_string(g) + ".";
        out.scalars[gp + "params"] = static_cast<double>(params_[g].size());
        for (const auto& [key, value] : group_option_values(g)) out.scalars[gp + key] = value;
        if (initial_lr_[g]) out.scalars[gp + "initial_lr"] = *initial_lr_[g];
        for (std::size_t i = 0; i < params_[g].size(); ++i, ++index) {
            const ParamState& st = state_[g][i];
            if (!st.initialized) continue;
            const std::string sp = "state." + std::to_string(index) + ".";
            if (counts_steps_) out.scalars[sp + "step"] = st.step;
            for (std::size_t b = 0; b < buffer_names_.size(); ++b)
                if (st.buffers[b].defined())
                    out.tensors[sp + buffer_names_[b]] =
                        copy_as(st.buffers[b], st.buffers[b].dtype());
        }
    }
    return out;
}

void Optimizer::load_state_dict(const OptimizerState& sd) {
    const std::string op = "optim::" + name_ + "::load_state_dict";
    const std::string ctx = "xgrad::" + op;  // for detail::require
    if (sd.kind != name_)
        raise<ValueError>(op.c_str(), "the state dict is for ",
                          (sd.kind.empty() ? std::string("an unnamed optimizer") : sd.kind),
                          ", not ", name_);

    // ---- sort the keys -------------------------------------------------------------------
    struct GroupEntry {
        std::optional<double> params;
        std::optional<double> initial_lr;
        std::map<std::string, double> options;
    };
    struct StateEntry {
        std::optional<double> step;
        std::map<std::string, Tensor> tensors;
    };
    std::map<std::size_t, GroupEntry> groups;
    std::map<std::size_t, StateEntry> states;
    for (const auto& [key, value] : sd.scalars) {
        std::size_t index = 0;
        std::string rest;
        if (split_key(key, "param_groups.", index, rest)) {
            GroupEntry& e = groups[index];
            if (rest == "params")
                e.params = value;
            else if (rest == "initial_lr")
                e.initial_lr = value;
            else
                e.options[rest] = value;
        } else if (split_key(key, "state.", index, rest) && rest == "step" && counts_steps_) {
            states[index].step = value;
        } else {
            raise<ValueError>(op.c_str(), "unexpected scalar '", key, "' in a state dict for ",
                              name_);
        }
    }
    for (const auto& [key, tensor] : sd.tensors) {
        std::size_t index = 0;
        std::string rest;
        if (!split_key(key, "state.", index, rest))
            raise<ValueError>(op.c_str(), "unexpected tensor '", key, "' in a state dict for ",
                              name_);
        states[index].tensors[rest] = tensor;
    }

    // ---- groups and their options ---------------------------------------------------------
    const std::size_t n_groups = params_.size();
    if (groups.size() != n_groups || (!groups.empty() && groups.rbegin()->first + 1 != n_groups))
        raise<ValueError>(op.c_str(), "the state dict has ", std::to_string(groups.size()),
                          " parameter groups, the optimizer has ", std::to_string(n_groups));
    std::vector<std::vector<std::string>> required(n_groups);
    std::vector<std::size_t> group_of;  // global parameter index -> group
    std::vector<std::size_t> index_in_group;
    for (std::size_t g = 0; g < n_groups; ++g) {
        const GroupEntry& e = groups.at(g);
        const std::string gp = "param_groups." + std::to_string(g) + ".";
        if (!e.params) raise<ValueError>(op.c_str(), "'", gp, "params' is missing");
        if (!is_count(*e.params) || static_cast<std::size_t>(*e.params) != params_[g].size())
            raise<ValueError>(op.c_str(), "group ", std::to_string(g), " has ",
                              detail::format_value(*e.params), " parameters in the state dict, ",
                              std::to_string(params_[g].size()), " in the optimizer");
        if (e.initial_lr)
            detail::require(detail::finite_nonneg(*e.initial_lr), ctx,
                            ("'" + gp + "initial_lr'").c_str(), *e.initial_lr, "finite and >= 0");
        required[g] = check_option_values(e.options);
        for (std::size_t i = 0; i < params_[g].size(); ++i) {
            group_of.push_back(g);
            index_in_group.push_back(i);
        }
    }

    // ---- per-parameter state --------------------------------------------------------------
    std::vector<std::vector<ParamState>> new_state;
    for (std::size_t g = 0; g < n_groups; ++g) {
        ParamState empty;
        empty.buffers.resize(buffer_names_.size());
        new_state.emplace_back(params_[g].size(), empty);
    }
    for (const auto& [index, entry] : states) {
        const std::string sp = "state." + std::to_string(index) + ".";
        if (index >= group_of.size())
            raise<ValueError>(op.c_str(), "'", sp, "...' is for parameter ", std::to_string(index),
                              " but the optimizer has ", std::to_string(group_of.size()),
                              " parameters");
        const std::size_t g = group_of[index], i = index_in_group[index];
        const Tensor& p = params_[g][i];
        ParamState st;
        st.buffers.resize(buffer_names_.size());
        st.initialized = true;
        if (counts_steps_) {
            if (!entry.step)
                raise<ValueError>(op.c_str(), "'", sp, "step' is missing (the state of parameter ",
                                  std::to_string(index), " has buffers but no step count)");
            if (!is_count(*entry.step))
                raise<ValueError>(op.c_str(), "invalid '", sp, "step' ",
                                  detail::format_value(*entry.step),
                                  " (must be a whole number >= 0)");
            st.step = *entry.step;
        }
        for (const auto& [name, tensor] : entry.tensors) {
            std::size_t b = 0;
            while (b < buffer_names_.size() && buffer_names_[b] != name) ++b;
            if (b == buffer_names_.size())
                raise<ValueError>(op.c_str(), "unexpected tensor '", sp, name, "' (", name_,
                                  " keeps no buffer of that name)");
            if (!tensor.defined())
                raise<ValueError>(op.c_str(), "'", sp, name, "' is an undefined tensor");
            if (!is_floating(tensor.dtype()))
                raise<DtypeError>(op.c_str(), "'", sp, name, "' is ", dtype_name(tensor.dtype()),
                                  "; state buffers must be float32 or float64");
            if (tensor.shape() != p.shape())
                raise<ShapeError>(op.c_str(), "'", sp, name, "' has shape ",
                                  shape_str(tensor.shape()), " but parameter ",
                                  std::to_string(index), " has shape ", shape_str(p.shape()));
            st.buffers[b] = tensor;  // copied below, once everything is checked
        }
        for (const std::string& name : required[g]) {
            std::size_t b = 0;
            while (b < buffer_names_.size() && buffer_names_[b] != name) ++b;
            if (b == buffer_names_.size() || !st.buffers[b].defined())
                raise<ValueError>(op.c_str(), "'", sp, name, "' is missing (parameter ",
                                  std::to_string(index), " has state, and ", name_,
                                  " with these options needs it)");
        }
        new_state[g][i] = std::move(st);
    }

    // ---- commit -----------------------------------------------------------------------------
    for (std::size_t g = 0; g < n_groups; ++g)
        for (std::size_t i = 0; i < params_[g].size(); ++i)
            for (Tensor& b : new_state[g][i].buffers)
                if (b.defined()) b = copy_as(b, params_[g][i].dtype());
    for (std::size_t g = 0; g < n_groups; ++g) {
        apply_option_values(g, groups.at(g).options);
        initial_lr_[g] = groups.at(g).initial_lr;
    }
    state_ = std::move(new_state);
}

}  // namespace xgrad::optim
