// libFuzzer target: checkpoint and state loading (nn::load_checkpoint, nn::load,
// nn::load_state) from arbitrary bytes into a fixed model, optimizers and scheduler
// (checkpoint_fixture.hpp).
//
// The bytes go to a scratch file, which is then loaded up to seven ways: load_checkpoint into
// the model + SGD (strict; every input) and into the model + Adam + StepLR (non-strict),
// nn::load (strict and not), and load_state into each of SGD, Adam and StepLR (those that the
// file's xgrad.format allows to get past the format check). Checks:
//   - only xgrad::Error escapes a rejection;
//   - a rejected load changes nothing: the model's state dict, the tensor handles the
//     optimizers hold, and the optimizers' and the scheduler's state dicts are bit-identical
//     before and after (the "all or nothing" promise of xgrad/nn/serialization.hpp);
//   - an accepted load leaves a usable model and optimizer: a forward, backward and optimizer
//     step (and scheduler step) run without error. The fixture is then restored, so every input
//     starts from the same state.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <xgrad/core/safetensors.hpp>
#include <xgrad/nn/serialization.hpp>

#include "checkpoint_fixture.hpp"
#include "fuzz_common.hpp"
#include "tensor_checks.hpp"

using namespace xgrad;
using namespace xgrad_fuzz;

namespace {

std::uint64_t bits_of(double v) {
    std::uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

// Named state of an optimizer or a scheduler, bit-exact (NaN-safe).
struct StateBytes {
    std::string kind;
    std::map<std::string, TensorBytes> tensors;
    std::map<std::string, std::uint64_t> scalars;
    bool operator==(const StateBytes& o) const {
        return kind == o.kind && tensors == o.tensors && scalars == o.scalars;
    }
};

template <class State>
StateBytes state_bytes(const State& s) {
    StateBytes out;
    out.kind = s.kind;
    if constexpr (nn::detail::has_state_tensors<State>::value)
        out.tensors = tensor_bytes(s.tensors);
    for (const auto& [k, v] : s.scalars) out.scalars.emplace(k, bits_of(v));
    return out;
}

std::vector<const void*> handles(const std::vector<Tensor>& tensors) {
    std::vector<const void*> out;
    for (const Tensor& t : tensors) out.push_back(t.impl().get());
    return out;
}

// Everything a load may change.
struct Snapshot {
    std::map<std::string, TensorBytes> model;
    std::map<std::string, const void*> model_handles;
    std::vector<const void*> sgd_params, adam_params;
    StateBytes sgd, adam, sched;

    explicit Snapshot(const CheckpointFixture& f) {
        for (const auto& [k, t] : f.model.state_dict()) {
            model.emplace(k, tensor_bytes(t));
            model_handles.emplace(k, t.impl().get());
        }
        sgd_params = handles(f.sgd.parameters());
        adam_params = handles(f.adam.parameters());
        sgd = state_bytes(f.sgd.state_dict());
        adam = state_bytes(f.adam.state_dict());
        sched = state_bytes(f.sched.state_dict());
    }

    // The first difference, or "" when equal.
    std::string diff(const Snapshot& o) const {
        if (model_handles != o.model_handles) return "the model's tensor handles";
        if (model != o.model) {
            for (const auto& [k, t] : model) {
                const auto it = o.model.find(k);
                if (it == o.model.end() || it->second != t) return "the model's '" + k + "'";
            }
            return "the model's state dict";
        }
        if (sgd_params != o.sgd_params) return "the SGD's parameter handles";
        if (adam_params != o.adam_params) return "the Adam's parameter handles";
        if (!(sgd == o.sgd)) return "the SGD state";
        if (!(adam == o.adam)) return "the Adam state";
        if (!(sched == o.sched)) return "the StepLR state";
        return "";
    }
};

struct Harness {
    CheckpointFixture fx{1};
    nn::StateDict base_model;
    optim::OptimizerState base_sgd, base_adam;
    optim::SchedulerState base_sched;
    std::unique_ptr<Snapshot> baseline;

    Harness() {
        fx.train(2);
        for (const auto& [k, t] : fx.model.state_dict()) base_model.emplace(k, t.detach().clone());
        base_sgd = fx.sgd.state_dict();
        base_adam = fx.adam.state_dict();
        base_sched = fx.sched.state_dict();
        baseline = std::make_unique<Snapshot>(fx);
    }

    void restore(const std::string& what) {
        std::string error;
        if (!accepts(
                [&] {
                    fx.model.load_state_dict(base_model);
                    fx.sgd.load_state_dict(base_sgd);
                    fx.adam.load_state_dict(base_adam);
                    fx.sched.load_state_dict(base_sched);
                    fx.model.zero_grad();
                },
                &error))
            fuzz_fail("after " + what + ": restoring the fixture failed: " + error);
        const std::string d = baseline->diff(Snapshot(fx));
        if (!d.empty())
            fuzz_fail("after " + what + ": restoring the fixture left " + d + " changed");
    }

    // Runs one load; checks "nothing changed" on rejection and "usable" on success.
    void check(const std::string& what, const std::function<void()>& load,
               const std::function<void()>& use) {
        std::string error;
        const bool ok = accepts(load, &error);
        note(what, ok, error);
        if (!ok) {
            const std::string d = baseline->diff(Snapshot(fx));
            if (!d.empty())
                fuzz_fail(what + " failed (" + error + ") but changed " + d +
                          " (a failed load must change nothing)");
            return;
        }
        if (!accepts(use, &error))
            fuzz_fail(what + " accepted the file, but the loaded state does not train: " + error);
        for (const auto& [k, t] : fx.model.state_dict()) exercise_tensor(t, what + ": '" + k + "'");
        restore(what);
    }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    init_target();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Harness h;
    static const TempFile file("checkpoint", ".ckpt");
    file.write(data, size);
    const std::string& path = file.path();
    CheckpointFixture& fx = h.fx;

    // Every load starts with load_safetensors and then dispatches on the file's "xgrad.format"
    // (checkpoint, module or state); the loads that this format makes fail before they touch
    // anything are skipped, which keeps the runs fast. load_checkpoint(model, sgd) runs on every
    // input, so every rejection path is still taken.
    SafetensorsFile parsed;
    const bool safetensors_ok =
        accepts([&] { parsed = deserialize_safetensors(std::string(data, data + size)); });
    const auto format_it = parsed.metadata.find("xgrad.format");
    const std::string format = format_it == parsed.metadata.end() ? "" : format_it->second;

    auto sgd_step = [&] { fx.step(fx.sgd); };
    auto adam_step = [&] { fx.step(fx.adam, &fx.sched); };
    h.check(
        "load_checkpoint(model, sgd)", [&] { nn::load_checkpoint(path, fx.model, fx.sgd); },
        sgd_step);
    if (safetensors_ok && format == "checkpoint")
        h.check(
            "load_checkpoint(model, adam, sched, strict=false)",
            [&] { nn::load_checkpoint(path, fx.model, fx.adam, fx.sched, false); }, adam_step);
    if (safetensors_ok && (format == "checkpoint" || format == "module" || format.empty())) {
        h.check(
            "load(model)", [&] { nn::load(fx.model, path); }, sgd_step);
        h.check(
            "load(model, strict=false)", [&] { nn::load(fx.model, path, false); }, sgd_step);
    }
    if (safetensors_ok && format == "state") {
        h.check(
            "load_state(sgd)", [&] { nn::load_state(fx.sgd, path); }, sgd_step);
        h.check(
            "load_state(adam)", [&] { nn::load_state(fx.adam, path); }, adam_step);
        h.check(
            "load_state(sched)", [&] { nn::load_state(fx.sched, path); }, adam_step);
    }
    file.remove();
    return 0;
}
