// Learning-rate schedulers: the chainable forms of torch.optim.lr_scheduler (PyTorch 1.13).
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include <xgrad/core/check.hpp>
#include <xgrad/optim/lr_scheduler.hpp>
#include "optim_common.hpp"

namespace xgrad::optim {

namespace {

constexpr double kPi = 3.141592653589793;  // Python's math.pi

bool is_whole(double v) {
    return std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.007199254740992e15;
}

// Reads scalars[key]; throws ValueError naming `op` when it is missing.
double take(const std::map<std::string, double>& scalars, const std::string& key,
            const std::string& op, std::set<std::string>& used) {
    const auto it = scalars.find(key);
    if (it == scalars.end()) raise<ValueError>(op.c_str(), "'", key, "' is missing");
    used.insert(key);
    return it->second;
}

void reject_unused(const std::map<std::string, double>& scalars, const std::set<std::string>& used,
                   const std::string& op) {
    for (const auto& [key, value] : scalars)
        if (!used.count(key)) raise<ValueError>(op.c_str(), "unexpected key '", key, "'");
}

std::string format_int(std::int64_t v) {
    return std::to_string(v);
}

}  // namespace

// ---- LRScheduler -------------------------------------------------------------------------------

LRScheduler::LRScheduler(Optimizer& optimizer, std::string name)
    : optimizer_(&optimizer), name_(std::move(name)) {}

LRScheduler::~LRScheduler() = default;

std::string LRScheduler::who() const {
    return "xgrad::optim::" + name_;
}

std::vector<double> LRScheduler::group_lrs() const {
    std::vector<double> lrs(optimizer_->group_count());
    for (std::size_t g = 0; g < lrs.size(); ++g) lrs[g] = optimizer_->lr(g);
    return lrs;
}

void LRScheduler::start() {
    Optimizer& opt = *optimizer_;
    base_lrs_.clear();
    for (std::size_t g = 0; g < opt.group_count(); ++g) {
        if (!opt.initial_lr(g)) opt.set_initial_lr(g, opt.lr(g));
        base_lrs_.push_back(*opt.initial_lr(g));
    }
    last_epoch_ = -1;
    step();
}

void LRScheduler::step() {
    Optimizer& opt = *optimizer_;
    if (opt.group_count() != base_lrs_.size())
        raise<ValueError>(("optim::" + name() + "::step").c_str(), "the optimizer has ",
                          std::to_string(opt.group_count()),
                          " parameter groups but the scheduler was built for ",
                          std::to_string(base_lrs_.size()));
    ++last_epoch_;
    const std::vector<double> lrs = compute_lr();
    for (std::size_t g = 0; g < lrs.size(); ++g)
        if (!detail::finite_nonneg(lrs[g]))
            raise<ValueError>(("optim::" + name() + "::step").c_str(),
                              "computed an invalid learning rate ", detail::format_value(lrs[g]),
                              " for group ", std::to_string(g));
    for (std::size_t g = 0; g < lrs.size(); ++g) opt.set_lr(g, lrs[g]);
    last_lr_ = group_lrs();
}

SchedulerState LRScheduler::state_dict() const {
    SchedulerState s;
    s.kind = name_;
    s.scalars["last_epoch"] = static_cast<double>(last_epoch_);
    for (std::size_t g = 0; g < base_lrs_.size(); ++g) {
        s.scalars["base_lrs." + std::to_string(g)] = base_lrs_[g];
        s.scalars["last_lr." + std::to_string(g)] = last_lr_[g];
    }
    return s;
}

void LRScheduler::load_state_dict(const SchedulerState& s) {
    const std::string op = "optim::" + name_ + "::load_state_dict";
    const std::string ctx = "xgrad::" + op;  // for detail::require
    if (s.kind != name_)
        raise<ValueError>(op.c_str(), "the state dict is for ",
                          (s.kind.empty() ? std::string("an unnamed scheduler") : s.kind), ", not ",
                          name_);
    std::set<std::string> used;
    const double epoch = take(s.scalars, "last_epoch", op, used);
    if (!is_whole(epoch) || epoch < 0)
        raise<ValueError>(op.c_str(), "invalid 'last_epoch' ", detail::format_value(epoch),
                          " (must be a whole number >= 0)");
    const std::size_t n = optimizer_->group_count();
    std::vector<double> base(n), last(n);
    for (std::size_t g = 0; g < n; ++g) {
        base[g] = take(s.scalars, "base_lrs." + std::to_string(g), op, used);
        last[g] = take(s.scalars, "last_lr." + std::to_string(g), op, used);
        detail::require(detail::finite_nonneg(base[g]), ctx, "base lr", base[g], "finite and >= 0");
        detail::require(detail::finite_nonneg(last[g]), ctx, "last lr", last[g], "finite and >= 0");
    }
    reject_unused(s.scalars, used,
                  op + " (the optimizer has " + std::to_string(n) + " parameter groups)");
    last_epoch_ = static_cast<std::int64_t>(epoch);
    base_lrs_ = std::move(base);
    last_lr_ = std::move(last);
}

// ---- StepLR ------------------------------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, StepLROptions options)
    : LRScheduler(optimizer, "StepLR"), options_(options) {
    if (options.step_size < 1)
        raise<ValueError>(("optim::" + name()).c_str(), "invalid step_size ",
                          format_int(options.step_size), " (must be >= 1)");
    detail::require(detail::finite_nonneg(options.gamma), who(), "gamma", options.gamma,
                    "finite and >= 0");
    start();
}

std::vector<double> StepLR::compute_lr() const {
    std::vector<double> lrs = group_lrs();
    const std::int64_t e = last_epoch();
    if (e == 0 || e % options_.step_size != 0) return lrs;
    for (double& lr : lrs) lr = lr * options_.gamma;
    return lrs;
}

// ---- MultiStepLR -------------------------------------------------------------------------------

MultiStepLR::MultiStepLR(Optimizer& optimizer, MultiStepLROptions options)
    : LRScheduler(optimizer, "MultiStepLR"), options_(std::move(options)) {
    for (std::int64_t m : options_.milestones) {
        if (m < 1)
            raise<ValueError>(("optim::" + name()).c_str(), "invalid milestone ", format_int(m),
                              " (must be >= 1)");
        ++counts_[m];
    }
    detail::require(detail::finite_nonneg(options_.gamma), who(), "gamma", options_.gamma,
                    "finite and >= 0");
    start();
}

std::vector<double> MultiStepLR::compute_lr() const {
    std::vector<double> lrs = group_lrs();
    const auto it = counts_.find(last_epoch());
    if (it == counts_.end()) return lrs;
    for (double& lr : lrs) lr = lr * std::pow(options_.gamma, static_cast<double>(it->second));
    return lrs;
}

// ---- ExponentialLR -----------------------------------------------------------------------------

ExponentialLR::ExponentialLR(Optimizer& optimizer, ExponentialLROptions options)
    : LRScheduler(optimizer, "ExponentialLR"), options_(options) {
    detail::require(detail::finite_nonneg(options.gamma), who(), "gamma", options.gamma,
                    "given, finite and >= 0");
    start();
}

std::vector<double> ExponentialLR::compute_lr() const {
    std::vector<double> lrs = group_lrs();
    if (last_epoch() == 0) return lrs;
    for (double& lr : lrs) lr = lr * options_.gamma;
    return lrs;
}

// ---- CosineAnnealingLR -------------------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options)
    : LRScheduler(optimizer, "CosineAnnealingLR"), options_(options) {
    if (options.T_max < 1)
        raise<ValueError>(("optim::" + name()).c_str(), "invalid T_max ", format_int(options.T_max),
                          " (must be >= 1)");
    detail::require(detail::finite_nonneg(options.eta_min), who(), "eta_min", options.eta_min,
                    "finite and >= 0");
    start();
}

std::vector<double> CosineAnnealingLR::compute_lr() const {
    std::vector<double> lrs = group_lrs();
    const std::int64_t e = last_epoch();
    const std::int64_t t_max = options_.T_max;
    const double eta_min = options_.eta_min;
    const double T = static_cast<double>(t_max);
    if (e == 0) return lrs;
    if ((e - 1 - t_max) % (2 * t_max) == 0) {
        for (std::size_t g = 0; g < lrs.size(); ++g)
            lrs[g] = lrs[g] + (base_lrs()[g] - eta_min) * (1 - std::cos(kPi / T)) / 2;
        return lrs;
    }
    const double ed = static_cast<double>(e);
    for (double& lr : lrs)
        lr = (1 + std::cos(kPi * ed / T)) / (1 + std::cos(kPi * (ed - 1) / T)) * (lr - eta_min) +
             eta_min;
    return lrs;
}

// ---- LinearLR ----------------------------------------------------------------------------------

LinearLR::LinearLR(Optimizer& optimizer, LinearLROptions options)
    : LRScheduler(optimizer, "LinearLR"), options_(options) {
    detail::require(options.start_factor > 0.0 && options.start_factor <= 1.0, who(),
                    "start_factor", options.start_factor, "in (0, 1]");
    detail::require(options.end_factor >= 0.0 && options.end_factor <= 1.0, who(), "end_factor",
                    options.end_factor, "in [0, 1]");
    if (options.total_iters < 1)
        raise<ValueError>(("optim::" + name()).c_str(), "invalid total_iters ",
                          format_int(options.total_iters), " (must be >= 1)");
    start();
}

std::vector<double> LinearLR::compute_lr() const {
    std::vector<double> lrs = group_lrs();
    const std::int64_t e = last_epoch();
    const double start = options_.start_factor, end = options_.end_factor;
    if (e == 0) {
        for (double& lr : lrs) lr = lr * start;
        return lrs;
    }
    if (e > options_.total_iters) return lrs;
    const double total = static_cast<double>(options_.total_iters);
    const double ed = static_cast<double>(e);
    for (double& lr : lrs)
        lr = lr * (1.0 + (end - start) / (total * start + (ed - 1) * (end - start)));
    return lrs;
}

// ---- ChainedScheduler --------------------------------------------------------------------------

ChainedScheduler::ChainedScheduler(std::vector<std::reference_wrapper<LRScheduler>> schedulers)
    : schedulers_(std::move(schedulers)) {
    if (schedulers_.empty()) raise<ValueError>("optim::ChainedScheduler", "got no schedulers");
    for (std::size_t i = 1; i < schedulers_.size(); ++i)
        if (&schedulers_[i].get().optimizer() != &schedulers_[0].get().optimizer())
            raise<ValueError>(
                "optim::ChainedScheduler",
                "all schedulers must belong to the same optimizer, but schedulers 0 and ",
                std::to_string(i), " do not");
    const Optimizer& opt = schedulers_[0].get().optimizer();
    for (std::size_t g = 0; g < opt.group_count(); ++g) last_lr_.push_back(opt.lr(g));
}

void ChainedScheduler::step() {
    for (LRScheduler& s : schedulers_) s.step();
    const Optimizer& opt = schedulers_.back().get().optimizer();
    last_lr_.clear();
    for (std::size_t g = 0; g < opt.group_count(); ++g) last_lr_.push_back(opt.lr(g));
}

// ---- ReduceLROnPlateau -------------------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(&optimizer), options_(std::move(options)) {
    const std::string w = "xgrad::optim::ReduceLROnPlateau";
    const ReduceLROnPlateauOptions& o = options_;
    if (o.mode != Mode::min && o.mode != Mode::max)
        raise<ValueError>("optim::ReduceLROnPlateau", "unknown mode ",
                          std::to_string(static_cast<int>(o.mode)));
    if (o.threshold_mode != ThresholdMode::rel && o.threshold_mode != ThresholdMode::abs)
        raise<ValueError>("optim::ReduceLROnPlateau", "unknown threshold_mode ",
                          std::to_string(static_cast<int>(o.threshold_mode)));
    detail::require(o.factor >= 0.0 && o.factor < 1.0, w, "factor", o.factor, "in [0, 1)");
    if (o.patience < 0)
        raise<ValueError>("optim::ReduceLROnPlateau", "invalid patience ", format_int(o.patience),
                          " (must be >= 0)");
    detail::require(detail::finite_nonneg(o.threshold), w, "threshold", o.threshold,
                    "finite and >= 0");
    if (o.cooldown < 0)
        raise<ValueError>("optim::ReduceLROnPlateau", "invalid cooldown ", format_int(o.cooldown),
                          " (must be >= 0)");
    detail::require(detail::finite_nonneg(o.eps), w, "eps", o.eps, "finite and >= 0");
    const std::size_t n = optimizer.group_count();
    if (o.min_lr.size() != 1 && o.min_lr.size() != n)
        raise<ValueError>("optim::ReduceLROnPlateau", "expected 1 or ", std::to_string(n),
                          " min_lr values, got ", std::to_string(o.min_lr.size()));
    for (double m : o.min_lr)
        detail::require(detail::finite_nonneg(m), w, "min_lr", m, "finite and >= 0");
    min_lrs_ = o.min_lr.size() == 1 ? std::vector<double>(n, o.min_lr[0]) : o.min_lr;
    best_ = o.mode == Mode::min ? std::numeric_limits<double>::infinity()
                                : -std::numeric_limits<double>::infinity();
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
    const double t = options_.threshold;
    if (options_.mode == Mode::min && options_.threshold_mode == ThresholdMode::rel)
        return a < best * (1.0 - t);
    if (options_.mode == Mode::min) return a < best - t;
    if (options_.threshold_mode == ThresholdMode::rel) return a > best * (t + 1.0);
    return a > best + t;
}

void ReduceLROnPlateau::step(double metric) {
    Optimizer& opt = *optimizer_;
    if (opt.group_count() != min_lrs_.size())
        raise<ValueError>("optim::ReduceLROnPlateau::step", "the optimizer has ",
                          std::to_string(opt.group_count()),
                          " parameter groups but the scheduler was built for ",
                          std::to_string(min_lrs_.size()));
    ++last_epoch_;
    if (is_better(metric, best_)) {
        best_ = metric;
        num_bad_epochs_ = 0;
    } else {
        ++num_bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
        --cooldown_counter_;
        num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
    }
    if (num_bad_epochs_ > options_.patience) {
        for (std::size_t g = 0; g < opt.group_count(); ++g) {
            const double old_lr = opt.lr(g);
            const double new_lr = std::max(old_lr * options_.factor, min_lrs_[g]);
            if (old_lr - new_lr > options_.eps) opt.set_lr(g, new_lr);
        }
        cooldown_counter_ = options_.cooldown;
        num_bad_epochs_ = 0;
    }
    last_lr_.clear();
    for (std::size_t g = 0; g < opt.group_count(); ++g) last_lr_.push_back(opt.lr(g));
}

SchedulerState ReduceLROnPlateau::state_dict() const {
    SchedulerState s;
    s.kind = "ReduceLROnPlateau";
    s.scalars["last_epoch"] = static_cast<double>(last_epoch_);
    s.scalars["best"] = best_;
    s.scalars["num_bad_epochs"] = static_cast<double>(num_bad_epochs_);
    s.scalars["cooldown_counter"] = static_cast<double>(cooldown_counter_);
    for (std::size_t g = 0; g < last_lr_.size(); ++g)
        s.scalars["last_lr." + std::to_string(g)] = last_lr_[g];
    return s;
}

void ReduceLROnPlateau::load_state_dict(const SchedulerState& s) {
    const std::string op = "optim::ReduceLROnPlateau::load_state_dict";
    const std::string ctx = "xgrad::" + op;  // for detail::require
    if (s.kind != "ReduceLROnPlateau")
        raise<ValueError>(op.c_str(), "the state dict is for ",
                          (s.kind.empty() ? std::string("an unnamed scheduler") : s.kind),
                          ", not ReduceLROnPlateau");
    std::set<std::string> used;
    const double epoch = take(s.scalars, "last_epoch", op, used);
    const double best = take(s.scalars, "best", op, used);
    const double bad = take(s.scalars, "num_bad_epochs", op, used);
    const double cooldown = take(s.scalars, "cooldown_counter", op, used);
    for (const auto& [name, v] : {std::pair<const char*, double>{"last_epoch", epoch},
                                  {"num_bad_epochs", bad},
                                  {"cooldown_counter", cooldown}})
        if (!is_whole(v) || v < 0)
            raise<ValueError>(op.c_str(), "invalid '", name, "' ", detail::format_value(v),
                              " (must be a whole number >= 0)");
    if (std::isnan(best)) raise<ValueError>(op.c_str(), "invalid 'best' nan");
    std::vector<double> last;
    if (s.scalars.count("last_lr.0")) {
        const std::size_t n = optimizer_->group_count();
        for (std::size_t g = 0; g < n; ++g) {
            last.push_back(take(s.scalars, "last_lr." + std::to_string(g), op, used));
            detail::require(detail::finite_nonneg(last.back()), ctx, "last lr", last.back(),
                            "finite and >= 0");
        }
    }
    reject_unused(s.scalars, used,
                  op + " (the optimizer has " + std::to_string(optimizer_->group_count()) +
                      " parameter groups)");
    last_epoch_ = static_cast<std::int64_t>(epoch);
    best_ = best;
    num_bad_epochs_ = static_cast<std::int64_t>(bad);
    cooldown_counter_ = static_cast<std::int64_t>(cooldown);
    last_lr_ = std::move(last);
}

}  // namespace xgrad::optim
