// RMSprop: torch.optim.RMSprop's single-tensor update (PyTorch 1.13), as one loop over the data.
#include <cmath>

#include <xgrad/core/creation.hpp>
#include <xgrad/optim/rmsprop.hpp>
#include "optim_common.hpp"

namespace xgrad::optim {

namespace {

constexpr std::size_t kSquareAvg = 0, kMomentumBuffer = 1, kGradAvg = 2;

template <class T>
void rmsprop_update(T* p, const T* grad, T* square_avg, T* buf, T* grad_avg, std::int64_t n,
                    const RMSpropOptions& o) {
    const T alpha = static_cast<T>(o.alpha), one_minus_alpha = static_cast<T>(1.0 - o.alpha);
    const T eps = static_cast<T>(o.eps), weight_decay = static_cast<T>(o.weight_decay);
    const T momentum = static_cast<T>(o.momentum), neg_lr = static_cast<T>(-o.lr);
    const bool use_wd = o.weight_decay != 0.0, use_momentum = o.momentum > 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        T g = o.maximize ? -grad[i] : grad[i];
        if (use_wd) g = g + weight_decay * p[i];
        square_avg[i] = square_avg[i] * alpha + one_minus_alpha * g * g;
        T avg;
        if (o.centered) {
            grad_avg[i] = grad_avg[i] * alpha + one_minus_alpha * g;
            avg = std::sqrt(square_avg[i] + T(-1) * grad_avg[i] * grad_avg[i]);
        } else {
            avg = std::sqrt(square_avg[i]);
        }
        avg = avg + eps;
        if (use_momentum) {
            buf[i] = buf[i] * momentum + g / avg;
            p[i] = p[i] + neg_lr * buf[i];
        } else {
            p[i] = p[i] + neg_lr * g / avg;
        }
    }
}

const std::vector<std::string> kBuffers = {"square_avg", "momentum_buffer", "grad_avg"};

}  // namespace

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : OptimizerWithOptions("RMSprop", kBuffers, true) {
    std::vector<Group> groups;
    groups.push_back({std::move(params), options});
    init_groups(std::move(groups), options);
}

RMSprop::RMSprop(std::vector<Group> groups) : OptimizerWithOptions("RMSprop", kBuffers, true) {
    init_groups(std::move(groups), RMSpropOptions{});
}

void RMSprop::validate_options(const RMSpropOptions& o) const {
    const std::string w = who();
    detail::require_lr(w, o.lr);
    detail::require(o.alpha >= 0.0 && o.alpha <= 1.0, w, "alpha", o.alpha, "in [0, 1]");
    detail::require_nonneg(w, "eps", o.eps);
    detail::require_nonneg(w, "weight_decay", o.weight_decay);
    detail::require_nonneg(w, "momentum", o.momentum);
}

std::vector<RMSprop::OptionRef> RMSprop::option_refs(RMSpropOptions& o) const {
    return {{"lr", &o.lr},
            {"alpha", &o.alpha},
            {"eps", &o.eps},
            {"weight_decay", &o.weight_decay},
            {"momentum", &o.momentum},
            {"centered", nullptr, &o.centered},
            {"maximize", nullptr, &o.maximize}};
}

std::vector<std::string> RMSprop::required_buffers(const RMSpropOptions& o) const {
    std::vector<std::string> r = {"square_avg"};
    if (o.momentum > 0.0) r.push_back("momentum_buffer");
    if (o.centered) r.push_back("grad_avg");
    return r;
}

void RMSprop::step() {
    for (std::size_t g = 0; g < group_count(); ++g) {
        const RMSpropOptions& o = options_[g];
        for (std::size_t i = 0; i < params(g).size(); ++i) {
            Tensor p = params(g)[i];
            const Tensor grad = p.grad();
            if (!grad.defined()) continue;
            ParamState& st = state_of(g, i);
            if (!st.initialized) {
                st.initialized = true;
                st.step = 0.0;
                st.buffers[kSquareAvg] = zeros_like(p);
            }
            // Buffers for options switched on later (set_options) start at zero, as at the
            // first step.
            if (o.momentum > 0.0 && !st.buffers[kMomentumBuffer].defined())
                st.buffers[kMomentumBuffer] = zeros_like(p);
            if (o.centered && !st.buffers[kGradAvg].defined()) st.buffers[kGradAvg] = zeros_like(p);
            st.step += 1.0;
            detail::dispatch_floating(p.dtype(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                T* buf = o.momentum > 0.0 ? st.buffers[kMomentumBuffer].data_ptr<T>() : nullptr;
                T* grad_avg = o.centered ? st.buffers[kGradAvg].data_ptr<T>() : nullptr;
                rmsprop_update<T>(p.data_ptr<T>(), grad.data_ptr<T>(),
                                  st.buffers[kSquareAvg].data_ptr<T>(), buf, grad_avg, p.numel(),
                                  o);
            });
            p.bump_version();  // an in-place write: a graph that saved p must not reuse it
        }
    }
}

}  // namespace xgrad::optim
