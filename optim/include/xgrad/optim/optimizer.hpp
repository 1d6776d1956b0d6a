// Optimizer: the base of every optimizer, with parameter groups, zero_grad, step and a plain,
// serialisable state dict.
//
// An optimizer holds parameter groups. Each group is a list of parameters (leaf float32/float64
// tensors that require grad) with its own options (lr, weight decay, ...). step() updates every
// parameter that has a gradient, in place and outside the tape; parameters without a gradient
// are skipped, as in PyTorch. Per-parameter state (momentum buffers, moment estimates) is
// allocated once, the first time the parameter is stepped.
//
// State dict format (OptimizerState), the same for every optimizer:
//   kind                              "SGD", "Adam", "AdamW", "RMSprop" or "Adagrad"
//   scalars["param_groups.<g>.params"]      number of parameters in group g. Parameters are
//                                           numbered 0, 1, 2, ... across the groups in order
//                                           (group 0 first), as PyTorch packs them.
//   scalars["param_groups.<g>.<option>"]    every option of group g by its PyTorch name ("lr",
//                                           "momentum", "weight_decay", ...; Adam's betas are
//                                           "beta1" and "beta2"); booleans are 0 or 1.
//   scalars["param_groups.<g>.initial_lr"]  only once a scheduler has recorded it (PyTorch's
//                                           "initial_lr").
//   scalars["state.<i>.step"]               update count of parameter i (optimizers that count
//                                           steps, and only for parameters that have state).
//   tensors["state.<i>.<buffer>"]           the state buffers of parameter i by PyTorch name
//                                           ("momentum_buffer", "exp_avg", "exp_avg_sq",
//                                           "max_exp_avg_sq", "square_avg", "grad_avg", "sum"),
//                                           same shape and dtype as the parameter.
// Every value is a double or a tensor, so the whole dict can be written to a safetensors file
// (scalars as 0-d float64 tensors, or in the metadata). state_dict() returns copies of the
// buffers, so later steps do not change a saved dict; load_state_dict() copies them in (cast to
// the parameter's dtype) and replaces the group options and the state. load_state_dict validates
// the whole dict before it changes anything.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <xgrad/core/check.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::optim {

namespace detail {
// The shortest text that reads back as `value` ("0.1", "-1e-05", "inf", "nan"), for messages.
std::string format_value(double value);
}  // namespace detail

// A plain, serialisable snapshot of an optimizer (see the format above).
struct OptimizerState {
    std::string kind{};
    std::map<std::string, Tensor> tensors{};
    std::map<std::string, double> scalars{};
};

// A parameter group: parameters plus the options that apply to them, e.g.
//   optim::SGD opt({{encoder_params, {.lr = 0.01}}, {head_params, {.lr = 0.1, .momentum = 0.9}}});
// Each group carries complete options (fields left out take the option struct's defaults) and
// at least one parameter. Name at least one option (`{.lr = 0.1}`) or the type (`SGDOptions{}`):
// a bare `{}` could also be read as an (undefined) Tensor, which makes the call ambiguous.
template <class Options>
struct ParamGroup {
    std::vector<Tensor> params{};
    Options options{};
};

class Optimizer {
  public:
    virtual ~Optimizer();
    // Schedulers keep a reference to their optimizer, so optimizers stay where they are built.
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // "SGD", "Adam", ...: the kind written into state dicts and error messages.
    const std::string& name() const { return name_; }

    // One update of every parameter that has a gradient (in place, nothing recorded on the tape).
    virtual void step() = 0;
    // Evaluates `closure` with grad mode on (it typically zeroes the gradients, computes the loss
    // and calls backward), then steps; returns the closure's loss.
    Tensor step(const std::function<Tensor()>& closure);
    // Zeroes the gradients of all parameters, or releases them (set_to_none, the default as in
    // PyTorch 2), which makes the next step skip parameters that get no new gradient.
    void zero_grad(bool set_to_none = true);

    // ---- parameter groups ---------------------------------------------------------------
    std::size_t group_count() const { return params_.size(); }
    const std::vector<Tensor>& params(std::size_t group) const;
    std::vector<Tensor> parameters() const;  // every parameter, group by group
    std::size_t param_count() const;

    // The learning rate of a group; schedulers change it through these.
    double lr(std::size_t group) const;
    void set_lr(std::size_t group, double lr);  // lr must be finite and >= 0
    // The learning rate a group started with, recorded by the first scheduler attached (PyTorch's
    // "initial_lr"); empty until then.
    std::optional<double> initial_lr(std::size_t group) const;
    void set_initial_lr(std::size_t group, double lr);

    // ---- state ----------------------------------------------------------------------------
    OptimizerState state_dict() const;
    // Throws ValueError (other kind, other group or parameter counts, bad or missing options,
    // unknown keys), ShapeError (a buffer of another shape than its parameter) or DtypeError (a
    // non-floating buffer); nothing changes on failure.
    void load_state_dict(const OptimizerState& state);

  protected:
    // What the optimizer keeps for one parameter. `buffers` follows the buffer names given to the
    // constructor; an undefined tensor is a buffer not allocated (yet).
    struct ParamState {
        bool initialized = false;  // PyTorch's "len(state) != 0"
        double step = 0.0;         // updates so far (optimizers that count steps)
        std::vector<Tensor> buffers;
    };

    // `buffer_names` are the per-parameter state buffers of this kind (PyTorch names);
    // `counts_steps` says whether it keeps a per-parameter step count.
    Optimizer(std::string name, std::vector<std::string> buffer_names, bool counts_steps);

    // "xgrad::optim::<name>" for messages.
    std::string who() const;
    std::size_t checked_group(std::size_t group, const char* what) const;
    // Throws unless every parameter is a defined, floating, leaf tensor that requires grad and is
    // in no group yet (nor twice in this list). `group` is the index the list will get.
    void check_new_params(const std::vector<Tensor>& params, std::size_t group) const;
    // Appends a group of already-checked parameters with empty state.
    void append_params(std::vector<Tensor> params);
    ParamState& state_of(std::size_t group, std::size_t index) { return state_[group][index]; }

    // ---- supplied by the options layer (OptimizerWithOptions) -------------------------------
    virtual double group_lr(std::size_t group) const = 0;
    virtual void set_group_lr(std::size_t group, double lr) = 0;
    // The options of a group as named values (booleans as 0/1), without "params"/"initial_lr".
    virtual std::map<std::string, double> group_option_values(std::size_t group) const = 0;
    // Parses and validates named option values (all must be present, none unknown); returns the
    // buffers a parameter with state must have under these options. Throws, changes nothing.
    virtual std::vector<std::string> check_option_values(
        const std::map<std::string, double>& values) const = 0;
    // Applies values that check_option_values accepted.
    virtual void apply_option_values(std::size_t group,
                                     const std::map<std::string, double>& values) = 0;
    // Called after a group is added (Adagrad initialises its state eagerly, as PyTorch does).
    virtual void on_group_added(std::size_t /*group*/) {}

  private:
    std::string name_;
    std::vector<std::string> buffer_names_;
    bool counts_steps_;
    std::vector<std::vector<Tensor>> params_;
    std::vector<std::vector<ParamState>> state_;
    std::vector<std::optional<double>> initial_lr_;
};

// The part shared by every optimizer with an options struct `Options` (which has a field `lr`).
template <class Options>
class OptimizerWithOptions : public Optimizer {
  public:
    using Group = ParamGroup<Options>;

    const Options& options(std::size_t group) const {
        return options_[checked_group(group, "options")];
    }
    // Replaces a group's options after checking them (state buffers a new option needs, such as
    // AMSGrad's maximum, start at zero on the next step).
    void set_options(std::size_t group, const Options& options) {
        const std::size_t g = checked_group(group, "set_options");
        validate_options(options);
        options_[g] = options;
    }
    // Options that add_param_group(params) gives a new group: those passed to the constructor
    // with a plain parameter list, or the struct's defaults when it was given groups.
    const Options& defaults() const { return defaults_; }

    // Adds a group (PyTorch's add_param_group), e.g. when unfreezing layers; all-or-nothing.
    void add_param_group(Group group) {
        check_new_params(group.params, group_count());
        validate_options(group.options);
        options_.push_back(group.options);
        append_params(std::move(group.params));
        on_group_added(group_count() - 1);
    }
    void add_param_group(std::vector<Tensor> params) {
        add_param_group(Group{std::move(params), defaults_});
    }

  protected:
    struct OptionRef {
        const char* name;
        double* real = nullptr;
        bool* flag = nullptr;
    };

    OptimizerWithOptions(std::string name, std::vector<std::string> buffer_names, bool counts_steps)
        : Optimizer(std::move(name), std::move(buffer_names), counts_steps) {}

    // For the constructors: validates everything first, then adds the groups.
    void init_groups(std::vector<Group> groups, const Options& defaults) {
        const std::string op = "optim::" + name();
        if (groups.empty()) raise<ValueError>(op.c_str(), "got an empty list of parameter groups");
        std::vector<Tensor> seen;
        for (std::size_t g = 0; g < groups.size(); ++g) {
            check_new_params(groups[g].params, g);
            for (std::size_t h = 0; h < g; ++h)
                for (const Tensor& p : groups[g].params)
                    for (const Tensor& q : groups[h].params)
                        if (p.is_same(q))
                            raise<ValueError>(op.c_str(), "a parameter (shape ",
                                              shape_str(p.shape()), ") appears in group ",
                                              std::to_string(h), " and in group ",
                                              std::to_string(g));
            validate_options(groups[g].options);
        }
        defaults_ = defaults;
        for (auto& group : groups) {
            options_.push_back(group.options);
            append_params(std::move(group.params));
            on_group_added(group_count() - 1);
        }
    }

    // ---- supplied by each optimizer ---------------------------------------------------------
    // Throws ValueError naming the optimizer and the value at fault.
    virtual void validate_options(const Options& options) const = 0;
    // Every option field by its state-dict name.
    virtual std::vector<OptionRef> option_refs(Options& options) const = 0;
    // Buffers a parameter with state must have under `options`.
    virtual std::vector<std::string> required_buffers(const Options& options) const = 0;

    std::vector<Options> options_;
    Options defaults_{};

  private:
    double group_lr(std::size_t group) const override { return options_[group].lr; }
    void set_group_lr(std::size_t group, double lr) override { options_[group].lr = lr; }

    std::map<std::string, double> group_option_values(std::size_t group) const override {
        Options o = options_[group];
        std::map<std::string, double> values;
        for (const OptionRef& r : option_refs(o))
            values[r.name] = r.real ? *r.real : (*r.flag ? 1.0 : 0.0);
        return values;
    }
    Options parse(const std::map<std::string, double>& values) const {
        Options o{};
        const auto refs = option_refs(o);
        const std::string op = "optim::" + name() + "::load_state_dict";
        for (const auto& [key, value] : values) {
            bool known = false;
            for (const OptionRef& r : refs) known = known || key == r.name;
            if (!known) raise<ValueError>(op.c_str(), "unknown option '", key, "'");
        }
        for (const OptionRef& r : refs) {
            const auto it = values.find(r.name);
            if (it == values.end())
                raise<ValueError>(op.c_str(), "option '", r.name, "' is missing");
            if (r.real) {
                *r.real = it->second;
            } else {
                if (it->second != 0.0 && it->second != 1.0)
                    raise<ValueError>(op.c_str(), "option '", r.name, "' must be 0 or 1, got ",
                                      detail::format_value(it->second));
                *r.flag = it->second == 1.0;
            }
        }
        validate_options(o);
        return o;
    }
    std::vector<std::string> check_option_values(
        const std::map<std::string, double>& values) const override {
        return required_buffers(parse(values));
    }
    void apply_option_values(std::size_t group,
                             const std::map<std::string, double>& values) override {
        options_[group] = parse(values);
    }
};

}  // namespace xgrad::optim
