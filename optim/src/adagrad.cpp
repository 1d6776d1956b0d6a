// Adagrad: torch.optim.Adagrad's single-tensor update (PyTorch 1.13), as one loop over the data.
#include <cmath>

#include <xgrad/core/creation.hpp>
#include <xgrad/optim/adagrad.hpp>
#include "optim_common.hpp"

namespace xgrad::optim {

namespace {

constexpr std::size_t kSum = 0;

template <class T>
void adagrad_update(T* p, const T* grad, T* sum, std::int64_t n, const AdagradOptions& o,
                    double step) {
    const double clr = o.lr / (1.0 + (step - 1.0) * o.lr_decay);
    const T neg_clr = static_cast<T>(-clr);
    const T eps = static_cast<T>(o.eps), weight_decay = static_cast<T>(o.weight_decay);
    const bool use_wd = o.weight_decay != 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        T g = o.maximize ? -grad[i] : grad[i];
        if (use_wd) g = g + weight_decay * p[i];
        sum[i] = sum[i] + g * g;
        const T std_ = std::sqrt(sum[i]) + eps;
        p[i] = p[i] + neg_clr * g / std_;
    }
}

}  // namespace

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : OptimizerWithOptions("Adagrad", {"sum"}, true) {
    std::vector<Group> groups;
    groups.push_back({std::move(params), options});
    init_groups(std::move(groups), options);
}

Adagrad::Adagrad(std::vector<Group> groups) : OptimizerWithOptions("Adagrad", {"sum"}, true) {
    init_groups(std::move(groups), AdagradOptions{});
}

void Adagrad::validate_options(const AdagradOptions& o) const {
    const std::string w = who();
    detail::require_lr(w, o.lr);
    detail::require_nonneg(w, "lr_decay", o.lr_decay);
    detail::require_nonneg(w, "weight_decay", o.weight_decay);
    detail::require_nonneg(w, "initial_accumulator_value", o.initial_accumulator_value);
    detail::require_nonneg(w, "eps", o.eps);
}

std::vector<Adagrad::OptionRef> Adagrad::option_refs(AdagradOptions& o) const {
    return {{"lr", &o.lr},
            {"lr_decay", &o.lr_decay},
            {"weight_decay", &o.weight_decay},
            {"initial_accumulator_value", &o.initial_accumulator_value},
            {"eps", &o.eps},
            {"maximize", nullptr, &o.maximize}};
}

std::vector<std::string> Adagrad::required_buffers(const AdagradOptions&) const {
    return {"sum"};
}

void Adagrad::init_state(std::size_t group, std::size_t index) {
    ParamState& st = state_of(group, index);
    st.initialized = true;
    st.step = 0.0;
    st.buffers[kSum] = full_like(params(group)[index], options_[group].initial_accumulator_value);
}

void Adagrad::on_group_added(std::size_t group) {
    for (std::size_t i = 0; i < params(group).size(); ++i) init_state(group, i);
}

void Adagrad::step() {
    for (std::size_t g = 0; g < group_count(); ++g) {
        const AdagradOptions& o = options_[g];
        for (std::size_t i = 0; i < params(g).size(); ++i) {
            Tensor p = params(g)[i];
            const Tensor grad = p.grad();
            if (!grad.defined()) continue;
            ParamState& st = state_of(g, i);
            if (!st.initialized) init_state(g, i);  // e.g. a state dict without this parameter
            st.step += 1.0;
            detail::dispatch_floating(p.dtype(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                adagrad_update<T>(p.data_ptr<T>(), grad.data_ptr<T>(),
                                  st.buffers[kSum].data_ptr<T>(), p.numel(), o, st.step);
            });
            p.bump_version();  // an in-place write: a graph that saved p must not reuse it
        }
    }
}

}  // namespace xgrad::optim
