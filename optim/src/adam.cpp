// Adam and AdamW: torch.optim.Adam / AdamW single-tensor updates (PyTorch 1.13), as one loop
// over the data. The two differ only in how weight decay enters (L2 on the gradient vs
// decoupled shrinking of the weights).
#include <cmath>
#include <type_traits>

#include <xgrad/core/creation.hpp>
#include <xgrad/optim/adam.hpp>
#include <xgrad/optim/adamw.hpp>
#include "optim_common.hpp"

namespace xgrad::optim {

namespace {

constexpr std::size_t kExpAvg = 0, kExpAvgSq = 1, kMaxExpAvgSq = 2;

struct AdamArgs {
    double lr, beta1, beta2, eps, weight_decay;
    bool amsgrad, maximize, decoupled;
};

// The loop body with the options fixed at compile time: a branch per element (on decoupled,
// maximize, L2 or AMSGrad) had kept the loop scalar, and it was 37 % of the main job's profile.
// With the flags hoisted, restrict pointers and -fno-math-errno (CMakeLists.txt), gcc
// vectorises it, sqrt and division included. The arithmetic is PyTorch 1.13's, term by term.
template <class T, bool kDecoupled, bool kMaximize, bool kL2, bool kAmsgrad>
void adam_loop(T* __restrict p, const T* __restrict grad, T* __restrict m, T* __restrict v,
               T* __restrict v_max, std::int64_t n, T neg_step_size, T bias_correction2_sqrt,
               T beta1, T beta2, T one_minus_beta1, T one_minus_beta2, T eps, T weight_decay,
               T decay) {
    for (std::int64_t i = 0; i < n; ++i) {
        T pi = p[i];
        if constexpr (kDecoupled) pi = pi * decay;
        T g = kMaximize ? -grad[i] : grad[i];
        if constexpr (kL2) g = g + weight_decay * pi;
        const T mi = m[i] * beta1 + one_minus_beta1 * g;
        const T vi = v[i] * beta2 + one_minus_beta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        T v_hat = vi;
        if constexpr (kAmsgrad) v_hat = v_max[i] = detail::nan_maximum(v_max[i], vi);
        const T denom = std::sqrt(v_hat) / bias_correction2_sqrt + eps;
        p[i] = pi + neg_step_size * mi / denom;
    }
}

template <class T>
void adam_update(T* p, const T* grad, T* m, T* v, T* v_max, std::int64_t n, const AdamArgs& a,
                 double step) {
    const double bias_correction1 = 1.0 - std::pow(a.beta1, step);
    const double bias_correction2 = 1.0 - std::pow(a.beta2, step);
    const double step_size = a.lr / bias_correction1;
    const T neg_step_size = static_cast<T>(-step_size);
    const T bias_correction2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
    const T beta1 = static_cast<T>(a.beta1), beta2 = static_cast<T>(a.beta2);
    const T one_minus_beta1 = static_cast<T>(1.0 - a.beta1);
    const T one_minus_beta2 = static_cast<T>(1.0 - a.beta2);
    const T eps = static_cast<T>(a.eps);
    const T weight_decay = static_cast<T>(a.weight_decay);
    const T decay = static_cast<T>(1.0 - a.lr * a.weight_decay);
    const bool l2 = !a.decoupled && a.weight_decay != 0.0;
    // Picks the instantiation for the run-time flags, one flag at a time.
    auto run = [&](auto decoupled, auto maximize, auto use_l2, auto amsgrad) {
        adam_loop<T, decltype(decoupled)::value, decltype(maximize)::value, decltype(use_l2)::value,
                  decltype(amsgrad)::value>(p, grad, m, v, v_max, n, neg_step_size,
                                            bias_correction2_sqrt, beta1, beta2, one_minus_beta1,
                                            one_minus_beta2, eps, weight_decay, decay);
    };
    auto with_amsgrad = [&](auto d, auto mx, auto l) {
        if (a.amsgrad)
            run(d, mx, l, std::true_type{});
        else
            run(d, mx, l, std::false_type{});
    };
    auto with_l2 = [&](auto d, auto mx) {
        if (l2)
            with_amsgrad(d, mx, std::true_type{});
        else
            with_amsgrad(d, mx, std::false_type{});
    };
    auto with_maximize = [&](auto d) {
        if (a.maximize)
            with_l2(d, std::true_type{});
        else
            with_l2(d, std::false_type{});
    };
    if (a.decoupled)
        with_maximize(std::true_type{});
    else
        with_maximize(std::false_type{});
}

// One step of an Adam-family optimizer over all its groups; state_of(g, i) gives the state.
template <class Options, class StateOf>
void adam_family_step(const Optimizer& opt, const std::vector<Options>& options, bool decoupled,
                      StateOf&& state_of) {
    for (std::size_t g = 0; g < opt.group_count(); ++g) {
        const Options& o = options[g];
        const AdamArgs args{o.lr,           o.betas[0], o.betas[1], o.eps,
                            o.weight_decay, o.amsgrad,  o.maximize, decoupled};
        for (std::size_t i = 0; i < opt.params(g).size(); ++i) {
            Tensor p = opt.params(g)[i];
            const Tensor grad = p.grad();
            if (!grad.defined()) continue;
            auto& st = state_of(g, i);
            if (!st.initialized) {
                st.initialized = true;
                st.step = 0.0;
                st.buffers[kExpAvg] = zeros_like(p);
                st.buffers[kExpAvgSq] = zeros_like(p);
                if (o.amsgrad) st.buffers[kMaxExpAvgSq] = zeros_like(p);
            }
            // AMSGrad switched on later (set_options): its maximum starts at zero.
            if (o.amsgrad && !st.buffers[kMaxExpAvgSq].defined())
                st.buffers[kMaxExpAvgSq] = zeros_like(p);
            st.step += 1.0;
            detail::dispatch_floating(p.dtype(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                T* v_max = o.amsgrad ? st.buffers[kMaxExpAvgSq].template data_ptr<T>() : nullptr;
                adam_update<T>(
                    p.data_ptr<T>(), grad.data_ptr<T>(), st.buffers[kExpAvg].template data_ptr<T>(),
                    st.buffers[kExpAvgSq].template data_ptr<T>(), v_max, p.numel(), args, st.step);
            });
            p.bump_version();  // an in-place write: a graph that saved p must not reuse it
        }
    }
}

template <class Options>
void validate_adam(const std::string& w, const Options& o) {
    detail::require_lr(w, o.lr);
    detail::require_nonneg(w, "eps", o.eps);
    detail::require_beta(w, "betas[0]", o.betas[0]);
    detail::require_beta(w, "betas[1]", o.betas[1]);
    detail::require_nonneg(w, "weight_decay", o.weight_decay);
}

std::vector<std::string> adam_required(bool amsgrad) {
    if (amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    return {"exp_avg", "exp_avg_sq"};
}

const std::vector<std::string> kAdamBuffers = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};

}  // namespace

// ---- Adam ------------------------------------------------------------------------------------

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : OptimizerWithOptions("Adam", kAdamBuffers, true) {
    std::vector<Group> groups;
    groups.push_back({std::move(params), options});
    init_groups(std::move(groups), options);
}

Adam::Adam(std::vector<Group> groups) : OptimizerWithOptions("Adam", kAdamBuffers, true) {
    init_groups(std::move(groups), AdamOptions{});
}

void Adam::validate_options(const AdamOptions& o) const {
    validate_adam(who(), o);
}

std::vector<Adam::OptionRef> Adam::option_refs(AdamOptions& o) const {
    return {{"lr", &o.lr},
            {"beta1", &o.betas[0]},
            {"beta2", &o.betas[1]},
            {"eps", &o.eps},
            {"weight_decay", &o.weight_decay},
            {"amsgrad", nullptr, &o.amsgrad},
            {"maximize", nullptr, &o.maximize}};
}

std::vector<std::string> Adam::required_buffers(const AdamOptions& o) const {
    return adam_required(o.amsgrad);
}

void Adam::step() {
    adam_family_step(
        *this, options_,
        false, [this](std::size_t g, std::size_t i) -> auto& { return state_of(g, i); });
}

// ---- AdamW -----------------------------------------------------------------------------------

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : OptimizerWithOptions("AdamW", kAdamBuffers, true) {
    std::vector<Group> groups;
    groups.push_back({std::move(params), options});
    init_groups(std::move(groups), options);
}

AdamW::AdamW(std::vector<Group> groups) : OptimizerWithOptions("AdamW", kAdamBuffers, true) {
    init_groups(std::move(groups), AdamWOptions{});
}

void AdamW::validate_options(const AdamWOptions& o) const {
    validate_adam(who(), o);
}

std::vector<AdamW::OptionRef> AdamW::option_refs(AdamWOptions& o) const {
    return {{"lr", &o.lr},
            {"beta1", &o.betas[0]},
            {"beta2", &o.betas[1]},
            {"eps", &o.eps},
            {"weight_decay", &o.weight_decay},
            {"amsgrad", nullptr, &o.amsgrad},
            {"maximize", nullptr, &o.maximize}};
}

std::vector<std::string> AdamW::required_buffers(const AdamWOptions& o) const {
    return adam_required(o.amsgrad);
}

void AdamW::step() {
    adam_family_step(
        *this, options_,
        true, [this](std::size_t g, std::size_t i) -> auto& { return state_of(g, i); });
}

}  // namespace xgrad::optim
