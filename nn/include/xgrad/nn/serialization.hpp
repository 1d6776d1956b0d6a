// Checkpoints: a module's weights, an optimizer's or scheduler's state, or all of them together,
// in safetensors files (xgrad/core/safetensors.hpp: atomic writes, fully validated loads).
//
//   nn::save(model, "mlp.safetensors");                 // weights (parameters and buffers)
//   nn::load(model, "mlp.safetensors");                 // strict: every name, shape and dtype
//
//   // resume training: model, optimizer (and scheduler) plus your own metadata in one file
//   nn::save_checkpoint("run.ckpt", model, opt, sched, {{"epoch", std::to_string(epoch)}});
//   auto meta = nn::load_checkpoint("run.ckpt", model, opt, sched);
//   int first_epoch = std::stoi(meta.at("epoch")) + 1;
//
// A module file holds the state dict under its own dotted names ("0.weight", "fc1.bias"), the
// names PyTorch uses, so Python reads it with safetensors/numpy directly. Optimizer and
// scheduler state (anything whose state_dict() returns a struct with `kind`, `scalars` and,
// optionally, `tensors`, such as optim::OptimizerState and optim::SchedulerState) is stored as
// tensors plus metadata: "xgrad.kind" and "xgrad.scalar.<name>" (each double as the shortest text
// that reads back exactly). A checkpoint prefixes the tensors with their part ("model.",
// "optimizer.", "scheduler.") and the metadata with "xgrad.<part>.". Metadata keys starting with
// "xgrad." are reserved; the rest is yours and comes back from the load functions.
//
// Every load validates the whole file first (see load_safetensors: only regular files, every
// size checked) and then the state against the objects; on any error nothing is changed: a
// checkpoint is loaded all or nothing. Errors name the file (running out of memory too, as an
// OutOfMemoryError; no standard-library exception escapes).
#pragma once
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

using Metadata = std::map<std::string, std::string>;

// Writes the module's state_dict() atomically.
void save(const Module& module, const std::string& path, const Metadata& metadata = {});
// Loads weights written by save() (or any safetensors file with matching names, or the model
// part of a checkpoint) through load_state_dict. strict = false loads the names that exist in
// both (shapes and dtypes must still match). Returns the user metadata.
Metadata load(Module& module, const std::string& path, bool strict = true);

// The plain form of an optimizer's or scheduler's state.
struct NamedState {
    std::string kind;
    std::map<std::string, Tensor> tensors;
    std::map<std::string, double> scalars;
};

void save_named_state(const NamedState& state, const std::string& path,
                      const Metadata& metadata = {});
// Reads a file written by save_named_state (or save_state); the user metadata goes to
// `metadata` when given.
NamedState load_named_state(const std::string& path, Metadata* metadata = nullptr);

namespace detail {

template <class T, class = void>
struct has_state_tensors : std::false_type {};
template <class T>
struct has_state_tensors<T, std::void_t<decltype(std::declval<T&>().tensors)>> : std::true_type {};

template <class T, class = void>
struct is_stateful : std::false_type {};
template <class T>
struct is_stateful<T, std::void_t<decltype(std::declval<const T&>().state_dict().kind),
                                  decltype(std::declval<const T&>().state_dict().scalars)>>
    : std::true_type {};
template <class T>
inline constexpr bool is_stateful_v = is_stateful<std::decay_t<T>>::value;

template <class T>
using state_type = std::decay_t<decltype(std::declval<const T&>().state_dict())>;

template <class S>
NamedState to_named(const S& s) {
    NamedState n;
    n.kind = s.kind;
    if constexpr (has_state_tensors<S>::value)
        for (const auto& [k, t] : s.tensors) n.tensors.emplace(k, t);
    for (const auto& [k, v] : s.scalars) n.scalars.emplace(k, static_cast<double>(v));
    return n;
}

// Throws ValueError naming `path` when a state without tensors gets some. `who` names the op
// without the "xgrad::" prefix ("nn::load_state"), as in every function below.
void check_no_tensors(const NamedState& n, const std::string& path, const char* who);

template <class S>
S from_named(const NamedState& n, const std::string& path, const char* who) {
    S s{};
    s.kind = n.kind;
    if constexpr (has_state_tensors<S>::value) {
        for (const auto& [k, t] : n.tensors) s.tensors.emplace(k, t);
    } else {
        check_no_tensors(n, path, who);
    }
    for (const auto& [k, v] : n.scalars) s.scalars.emplace(k, v);
    return s;
}

// Rethrows the exception being handled as the same xgrad::Error type with
// "xgrad::<who>: '<path>': " in front; std::bad_alloc becomes OutOfMemoryError and
// std::length_error / std::out_of_range ValueError (naming the file too); other exceptions
// unchanged. Call only inside a catch block.
[[noreturn]] void rethrow_naming_file(const char* who, const std::string& path);

struct CheckpointPart {
    std::string name;  // "optimizer", "scheduler"
    NamedState state;
};
void write_checkpoint(const std::string& path, const Module& model,
                      const std::vector<CheckpointPart>& parts, const Metadata& metadata);
struct LoadedCheckpoint {
    StateDict model;
    std::vector<NamedState> parts;  // in the order asked for
    Metadata metadata;              // user metadata
};
LoadedCheckpoint read_checkpoint(const std::string& path, const std::vector<std::string>& parts);
// module.load_state_dict(state, strict), with errors naming the file.
void load_module_state(Module& module, const StateDict& state, bool strict, const std::string& path,
                       const char* who);

template <class T>
void load_part(T& object, const NamedState& n, const std::string& path, const char* who) {
    auto state = from_named<state_type<T>>(n, path, who);
    try {
        object.load_state_dict(state);
    } catch (...) {
        rethrow_naming_file(who, path);
    }
}

}  // namespace detail

// Saves/loads the state of an optimizer or a scheduler (anything with state_dict() and
// load_state_dict() as described above) in its own file. load_state returns the user metadata.
template <class Stateful, class = std::enable_if_t<detail::is_stateful_v<Stateful>>>
void save_state(const Stateful& object, const std::string& path, const Metadata& metadata = {}) {
    save_named_state(detail::to_named(object.state_dict()), path, metadata);
}
template <class Stateful, class = std::enable_if_t<detail::is_stateful_v<Stateful>>>
Metadata load_state(Stateful& object, const std::string& path) {
    Metadata metadata;
    const NamedState n = load_named_state(path, &metadata);
    detail::load_part(object, n, path, "nn::load_state");
    return metadata;
}

// A training checkpoint: model weights and optimizer state (and a scheduler's) in one file.
template <class Optimizer, class = std::enable_if_t<detail::is_stateful_v<Optimizer>>>
void save_checkpoint(const std::string& path, const Module& model, const Optimizer& optimizer,
                     const Metadata& metadata = {}) {
    detail::write_checkpoint(path, model, {{"optimizer", detail::to_named(optimizer.state_dict())}},
                             metadata);
}
template <
    class Optimizer, class Scheduler,
    class = std::enable_if_t<detail::is_stateful_v<Optimizer> && detail::is_stateful_v<Scheduler>>>
void save_checkpoint(const std::string& path, const Module& model, const Optimizer& optimizer,
                     const Scheduler& scheduler, const Metadata& metadata = {}) {
    detail::write_checkpoint(path, model,
                             {{"optimizer", detail::to_named(optimizer.state_dict())},
                              {"scheduler", detail::to_named(scheduler.state_dict())}},
                             metadata);
}

// Loads a checkpoint all or nothing: if the optimizer's or the model's part does not fit,
// everything is restored as it was and the error is rethrown. Returns the user metadata.
template <class Optimizer, class = std::enable_if_t<detail::is_stateful_v<Optimizer>>>
Metadata load_checkpoint(const std::string& path, Module& model, Optimizer& optimizer,
                         bool strict = true) {
    const char* who = "nn::load_checkpoint";
    detail::LoadedCheckpoint ckpt = detail::read_checkpoint(path, {"optimizer"});
    const auto optimizer_backup = optimizer.state_dict();
    detail::load_part(optimizer, ckpt.parts[0], path, who);
    try {
        detail::load_module_state(model, ckpt.model, strict, path, who);
    } catch (...) {
        optimizer.load_state_dict(optimizer_backup);
        throw;
    }
    return ckpt.metadata;
}
template <
    class Optimizer, class Scheduler,
    class = std::enable_if_t<detail::is_stateful_v<Optimizer> && detail::is_stateful_v<Scheduler>>>
Metadata load_checkpoint(const std::string& path, Module& model, Optimizer& optimizer,
                         Scheduler& scheduler, bool strict = true) {
    const char* who = "nn::load_checkpoint";
    detail::LoadedCheckpoint ckpt = detail::read_checkpoint(path, {"optimizer", "scheduler"});
    const auto optimizer_backup = optimizer.state_dict();
    const auto scheduler_backup = scheduler.state_dict();
    detail::load_part(optimizer, ckpt.parts[0], path, who);
    try {
        detail::load_part(scheduler, ckpt.parts[1], path, who);
        try {
            detail::load_module_state(model, ckpt.model, strict, path, who);
        } catch (...) {
            scheduler.load_state_dict(scheduler_backup);
            throw;
        }
    } catch (...) {
        optimizer.load_state_dict(optimizer_backup);
        throw;
    }
    return ckpt.metadata;
}

}  // namespace xgrad::nn
