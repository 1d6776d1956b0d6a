// SGD: torch.optim.SGD's single-tensor update (PyTorch 1.13), as one loop over the data.
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/optim/sgd.hpp>
#include "kernels/isa.hpp"
#include "optim_common.hpp"

namespace xgrad::optim {

namespace {

// The options are tested once, outside the loops, so that each loop is a straight sequence of
// multiply-adds that the compiler vectorises (a branch per element made the update cost a third
// as much as the matrix products of an MLP step).
template <bool WeightDecay, bool Maximize, class T>
XGRAD_ALWAYS_INLINE void sgd_update(T* p, const T* grad, T* buf, std::int64_t n,
                                    const SGDOptions& o, bool first_step) {
    const T weight_decay = static_cast<T>(o.weight_decay);
    const T momentum = static_cast<T>(o.momentum);
    const T one_minus_dampening = static_cast<T>(1.0 - o.dampening);
    const T neg_lr = static_cast<T>(-o.lr);
    // d = (maximize ? -grad : grad) + weight_decay * p, as torch.optim.SGD.
    auto d = [&](std::int64_t i) {
        T v = Maximize ? -grad[i] : grad[i];
        if constexpr (WeightDecay) v = v + weight_decay * p[i];
        return v;
    };
    if (o.momentum == 0.0) {
        for (std::int64_t i = 0; i < n; ++i) p[i] = p[i] + neg_lr * d(i);
        return;
    }
    // One pass over the parameter, its gradient and its momentum buffer (they exceed the cache
    // for a layer of any size, so a second pass would read them from memory again).
    const bool nesterov = o.nesterov;
    auto update = [&](auto next_buf) {
        for (std::int64_t i = 0; i < n; ++i) {
            const T di = d(i);
            const T b = next_buf(i, di);
            buf[i] = b;
            p[i] = p[i] + neg_lr * (nesterov ? di + momentum * b : b);
        }
    };
    if (first_step)
        update([](std::int64_t, T di) { return di; });
    else
        update([&](std::int64_t i, T di) { return buf[i] * momentum + one_minus_dampening * di; });
}

template <class T>
XGRAD_ALWAYS_INLINE void sgd_update(T* p, const T* grad, T* buf, std::int64_t n,
                                    const SGDOptions& o, bool first_step) {
    const bool wd = o.weight_decay != 0.0;
    if (wd && o.maximize)
        sgd_update<true, true>(p, grad, buf, n, o, first_step);
    else if (wd)
        sgd_update<true, false>(p, grad, buf, n, o, first_step);
    else if (o.maximize)
        sgd_update<false, true>(p, grad, buf, n, o, first_step);
    else
        sgd_update<false, false>(p, grad, buf, n, o, first_step);
}

// The update compiled for baseline x86-64, AVX2+FMA and AVX-512, picked at run time
// (kernels/isa.hpp).
XGRAD_DISPATCHED(void, sgd_run, sgd_update<float>,
                 (float* p, const float* grad, float* buf, std::int64_t n, const SGDOptions& o,
                  bool first_step),
                 (p, grad, buf, n, o, first_step))
XGRAD_DISPATCHED(void, sgd_run, sgd_update<double>,
                 (double* p, const double* grad, double* buf, std::int64_t n, const SGDOptions& o,
                  bool first_step),
                 (p, grad, buf, n, o, first_step))

}  // namespace

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : OptimizerWithOptions("SGD", {"momentum_buffer"}, false) {
    std::vector<Group> groups;
    groups.push_back({std::move(params), options});
    init_groups(std::move(groups), options);
}

SGD::SGD(std::vector<Group> groups) : OptimizerWithOptions("SGD", {"momentum_buffer"}, false) {
    init_groups(std::move(groups), SGDOptions{});
}

void SGD::validate_options(const SGDOptions& o) const {
    const std::string w = who();
    detail::require_lr(w, o.lr);
    detail::require_nonneg(w, "momentum", o.momentum);
    detail::require(std::isfinite(o.dampening), w, "dampening", o.dampening, "finite");
    detail::require_nonneg(w, "weight_decay", o.weight_decay);
    if (o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0))
        raise<ValueError>(
            ("optim::" + name()).c_str(),
            "nesterov momentum requires momentum > 0 and dampening == 0 (got momentum ",
            detail::format_value(o.momentum), ", dampening ", detail::format_value(o.dampening),
            ")");
}

std::vector<SGD::OptionRef> SGD::option_refs(SGDOptions& o) const {
    return {{"lr", &o.lr},
            {"momentum", &o.momentum},
            {"dampening", &o.dampening},
            {"weight_decay", &o.weight_decay},
            {"nesterov", nullptr, &o.nesterov},
            {"maximize", nullptr, &o.maximize}};
}

std::vector<std::string> SGD::required_buffers(const SGDOptions&) const {
    return {};  // a missing momentum buffer is started from the next gradient, as in PyTorch
}

void SGD::step() {
    for (std::size_t g = 0; g < group_count(); ++g) {
        const SGDOptions& o = options_[g];
        for (std::size_t i = 0; i < params(g).size(); ++i) {
            Tensor p = params(g)[i];
            const Tensor grad = p.grad();
            if (!grad.defined()) continue;
            ParamState& st = state_of(g, i);
            Tensor& buf = st.buffers[0];
            bool first_step = false;
            if (o.momentum != 0.0 && !buf.defined()) {
                buf = empty_like(p);
                first_step = true;
                st.initialized = true;
            }
            detail::dispatch_floating(p.dtype(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                sgd_run(p.data_ptr<T>(), grad.data_ptr<T>(),
                        buf.defined() ? buf.data_ptr<T>() : nullptr, p.numel(), o, first_step);
            });
            p.bump_version();  // an in-place write: a graph that saved p must not reuse it
        }
    }
}

}  // namespace xgrad::optim
