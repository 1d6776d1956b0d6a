// Adam and AdamW: torch.optim.Adam / AdamW single-tensor updates (PyTorch 1.13), as one loop
// over the data. The two differ only in how weight decay enters (L2 on the gradient vs
// decoupled shrinking of the weights).
#include <cmath>
#include <type_traits>

#include <xgrad/core/creation.hpp>
#include <xgrad/optim/adam.hpp>
#include <xgrad/optim/adamw.hpp>
#include "kernels/isa.hpp"
#include "optim_common.hpp"

namespace xgrad::optim {

namespace {

constexpr std::size_t kExpAvg = 0, kExpAvgSq = 1, kMaxExpAvgSq = 2;

struct AdamArgs {
    double lr, beta1, beta2, eps, weight_decay;
    bool amsgrad, maximize, decoupled;
};

template <class T>
struct AdamConsts {
    T neg_step_size, inv_bias_correction2_sqrt, beta1, beta2, one_minus_beta1, one_minus_beta2, eps,
        weight_decay, decay;
};

// The options are template arguments, so that each loop is straight-line code that the compiler
// vectorises (the buffers never overlap).
template <bool Decoupled, bool Maximize, bool L2, bool Amsgrad, class T>
XGRAD_ALWAYS_INLINE void adam_loop(T* __restrict p, const T* __restrict grad, T* __restrict m,
                                   T* __restrict v, T* __restrict v_max, std::int64_t n,
                                   const AdamConsts<T>& c) {
    for (std::int64_t i = 0; i < n; ++i) {
        if constexpr (Decoupled) p[i] = p[i] * c.decay;
        T g = Maximize ? -grad[i] : grad[i];
        if constexpr (L2) g = g + c.weight_decay * p[i];
        m[i] = m[i] * c.beta1 + c.one_minus_beta1 * g;
        v[i] = v[i] * c.beta2 + c.one_minus_beta2 * g * g;
        T v_hat = v[i];
        if constexpr (Amsgrad) v_hat = v_max[i] = detail::nan_maximum(v_max[i], v[i]);
        // PyTorch divides by sqrt(bias_correction2); multiplying by its reciprocal (computed
        // once, in double) leaves one division per element instead of two: the divider was
        // the loop's bottleneck (AVX-512, the main job's 235k parameters). Results move by an
        // ulp at most; the reference tests hold (float64 within 1e-9 of PyTorch).
        const T denom = std::sqrt(v_hat) * c.inv_bias_correction2_sqrt + c.eps;
        p[i] = p[i] + c.neg_step_size * m[i] / denom;
    }
}

// Calls f(std::true_type) or f(std::false_type).
template <class F>
XGRAD_ALWAYS_INLINE void with_bool(bool b, F&& f) {
    if (b)
        f(std::true_type{});
    else
        f(std::false_type{});
}

template <class T>
XGRAD_ALWAYS_INLINE void adam_update(T* p, const T* grad, T* m, T* v, T* v_max, std::int64_t n,
                                     const AdamArgs& a, double step) {
    const double bias_correction1 = 1.0 - std::pow(a.beta1, step);
    const double bias_correction2 = 1.0 - std::pow(a.beta2, step);
    const double step_size = a.lr / bias_correction1;
    AdamConsts<T> c;
    c.neg_step_size = static_cast<T>(-step_size);
    c.inv_bias_correction2_sqrt = static_cast<T>(1.0 / std::sqrt(bias_correction2));
    c.beta1 = static_cast<T>(a.beta1);
    c.beta2 = static_cast<T>(a.beta2);
    c.one_minus_beta1 = static_cast<T>(1.0 - a.beta1);
    c.one_minus_beta2 = static_cast<T>(1.0 - a.beta2);
    c.eps = static_cast<T>(a.eps);
    c.weight_decay = static_cast<T>(a.weight_decay);
    c.decay = static_cast<T>(1.0 - a.lr * a.weight_decay);
    const bool l2 = !a.decoupled && a.weight_decay != 0.0;
    // The lambdas are always-inline too, so the loops are compiled with the caller's ISA.
    with_bool(
        a.decoupled, [&](auto dec) __attribute__((always_inline)) {
            with_bool(
                a.maximize, [&](auto max) __attribute__((always_inline)) {
                    with_bool(
                        l2, [&](auto l2_) __attribute__((always_inline)) {
                            with_bool(
                                a.amsgrad, [&](auto ams) __attribute__((always_inline)) {
                                    adam_loop<decltype(dec)::value, decltype(max)::value,
                                              decltype(l2_)::value, decltype(ams)::value>(
                                        p, grad, m, v, v_max, n, c);
                                });
                        });
                });
        });
}

// The update compiled for baseline x86-64, AVX2+FMA and AVX-512, picked at run time
// (kernels/isa.hpp).
XGRAD_DISPATCHED(void, adam_run, adam_update<float>,
                 (float* p, const float* grad, float* m, float* v, float* v_max, std::int64_t n,
                  const AdamArgs& a, double step),
                 (p, grad, m, v, v_max, n, a, step))
XGRAD_DISPATCHED(void, adam_run, adam_update<double>,
                 (double* p, const double* grad, double* m, double* v, double* v_max,
                  std::int64_t n, const AdamArgs& a, double step),
                 (p, grad, m, v, v_max, n, a, step))

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
                adam_run(
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
