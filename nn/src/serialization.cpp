// Checkpoints on top of the safetensors format (layout: xgrad/nn/serialization.hpp).
#include <charconv>
#include <cmath>
#include <set>
#include <system_error>

#include <new>
#include <stdexcept>

#include <xgrad/core/check.hpp>
#include <xgrad/core/safetensors.hpp>
#include <xgrad/nn/serialization.hpp>

#include "atomic_file.hpp"

namespace xgrad::nn {

namespace {

constexpr const char* kReserved = "xgrad.";
constexpr const char* kFormat = "xgrad.format";

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

using fileio::quoted;
using fileio::raise_file;

// The shortest text that reads back as exactly `v` ("0.001", "inf", "nan").
std::string format_double(double v) {
    if (std::isnan(v)) return std::signbit(v) ? "-nan" : "nan";
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

bool parse_double(const std::string& s, double& out) {
    if (s == "nan" || s == "-nan") {
        out = s[0] == '-' ? -std::nan("") : std::nan("");
        return true;
    }
    const auto res = std::from_chars(s.data(), s.data() + s.size(), out);
    return res.ec == std::errc() && res.ptr == s.data() + s.size() && !s.empty();
}

Metadata user_metadata(const std::map<std::string, std::string>& all) {
    Metadata out;
    for (const auto& [k, v] : all)
        if (!starts_with(k, kReserved)) out.emplace(k, v);
    return out;
}

void check_user_metadata(const Metadata& metadata, const std::string& path, const char* who) {
    for (const auto& [k, v] : metadata)
        if (starts_with(k, kReserved))
            raise_file(who, path, "metadata key ", quoted(k),
                       " is reserved (keys starting with 'xgrad.')");
}

// Adds a part's tensors (under `tensor_prefix`) and kind and scalars (under `meta_prefix`).
void put_part(const NamedState& state, const std::string& tensor_prefix,
              const std::string& meta_prefix, std::map<std::string, Tensor>& tensors,
              std::map<std::string, std::string>& metadata) {
    for (const auto& [k, t] : state.tensors) tensors.emplace(tensor_prefix + k, t);
    metadata[meta_prefix + "kind"] = state.kind;
    for (const auto& [k, v] : state.scalars)
        metadata[meta_prefix + "scalar." + k] = format_double(v);
}

// Reads a part back: kind (required) and scalars from the metadata under `meta_prefix`.
NamedState get_part(const SafetensorsFile& file, const std::string& tensor_prefix,
                    const std::string& meta_prefix, const std::string& path, const char* who) {
    NamedState state;
    const auto kind = file.metadata.find(meta_prefix + "kind");
    if (kind == file.metadata.end())
        raise_file(who, path, "metadata ", quoted(meta_prefix + "kind"), " is missing");
    state.kind = kind->second;
    const std::string scalar_prefix = meta_prefix + "scalar.";
    for (const auto& [k, v] : file.metadata) {
        if (!starts_with(k, scalar_prefix)) continue;
        double value = 0;
        if (!parse_double(v, value))
            raise_file(who, path, "metadata ", quoted(k), " = ", quoted(v), " is not a number");
        state.scalars.emplace(k.substr(scalar_prefix.size()), value);
    }
    for (const auto& [k, t] : file.tensors)
        if (starts_with(k, tensor_prefix)) state.tensors.emplace(k.substr(tensor_prefix.size()), t);
    return state;
}

std::string format_of(const SafetensorsFile& file) {
    const auto it = file.metadata.find(kFormat);
    return it == file.metadata.end() ? std::string() : it->second;
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        const auto comma = s.find(',', start);
        const auto end = comma == std::string::npos ? s.size() : comma;
        if (end > start) out.push_back(s.substr(start, end - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

}  // namespace

// ---- modules --------------------------------------------------------------------------------

void save(const Module& module, const std::string& path, const Metadata& metadata) {
    const char* who = "nn::save";
    check_user_metadata(metadata, path, who);
    std::map<std::string, std::string> meta = metadata;
    meta[kFormat] = "module";
    const StateDict state = module.state_dict();
    save_safetensors(path, std::map<std::string, Tensor>(state.begin(), state.end()), meta);
}

Metadata load(Module& module, const std::string& path, bool strict) {
    const char* who = "nn::load";
    try {
        const SafetensorsFile file = load_safetensors(path);
        const std::string format = format_of(file);
        StateDict state;
        if (format == "checkpoint") {
            for (const auto& [k, t] : file.tensors)
                if (starts_with(k, "model.")) state.emplace(k.substr(6), t);
        } else if (format.empty() || format == "module") {
            state.insert(file.tensors.begin(), file.tensors.end());
        } else {
            raise_file(who, path, "the file holds ", format,
                       " data, not module weights (xgrad.format = ", quoted(format), ")");
        }
        detail::load_module_state(module, state, strict, path, who);
        return user_metadata(file.metadata);
    } catch (...) {
        fileio::rethrow_load_error(who, path);
    }
}

// ---- optimizer / scheduler state --------------------------------------------------------------

void save_named_state(const NamedState& state, const std::string& path, const Metadata& metadata) {
    check_user_metadata(metadata, path, "nn::save_state");
    std::map<std::string, Tensor> tensors;
    std::map<std::string, std::string> meta = metadata;
    put_part(state, "", kReserved, tensors, meta);
    meta[kFormat] = "state";
    save_safetensors(path, tensors, meta);
}

NamedState load_named_state(const std::string& path, Metadata* metadata) {
    const char* who = "nn::load_state";
    try {
        const SafetensorsFile file = load_safetensors(path);
        const std::string format = format_of(file);
        if (format != "state")
            raise_file(who, path,
                       format.empty()
                           ? std::string("the file holds no xgrad state "
                                         "(xgrad.format is missing)")
                           : "the file holds " + format +
                                 " data, not an optimizer or scheduler state (use nn::load "
                                 "or nn::load_checkpoint)");
        NamedState state = get_part(file, "", kReserved, path, who);
        if (metadata) *metadata = user_metadata(file.metadata);
        return state;
    } catch (...) {
        fileio::rethrow_load_error(who, path);
    }
}

// ---- checkpoints ----------------------------------------------------------------------------

namespace detail {

void check_no_tensors(const NamedState& n, const std::string& path, const char* who) {
    if (!n.tensors.empty())
        raise_file(who, path, "the ", n.kind, " state has tensors (",
                   quoted(n.tensors.begin()->first),
                   ", ...), but the object it is loaded into keeps none");
}

void rethrow_naming_file(const char* who, const std::string& path) {
    try {
        throw;
    } catch (const ShapeError& e) {
        raise_file<ShapeError>(who, path, e.what());
    } catch (const DtypeError& e) {
        raise_file<DtypeError>(who, path, e.what());
    } catch (const IndexError& e) {
        raise_file<IndexError>(who, path, e.what());
    } catch (const ValueError& e) {
        raise_file<ValueError>(who, path, e.what());
    } catch (const OutOfMemoryError& e) {
        raise_file<OutOfMemoryError>(who, path, e.what());
    } catch (const AutogradError& e) {
        raise_file<AutogradError>(who, path, e.what());
    } catch (const Error& e) {
        raise_file<Error>(who, path, e.what());
    } catch (const std::bad_alloc&) {
        raise_file<OutOfMemoryError>(who, path, "not enough memory to load the file");
    } catch (const std::length_error& e) {
        raise_file<ValueError>(who, path, e.what());
    } catch (const std::out_of_range& e) {
        raise_file<ValueError>(who, path, e.what());
    }
}

void write_checkpoint(const std::string& path, const Module& model,
                      const std::vector<CheckpointPart>& parts, const Metadata& metadata) {
    const char* who = "nn::save_checkpoint";
    check_user_metadata(metadata, path, who);
    std::map<std::string, Tensor> tensors;
    std::map<std::string, std::string> meta = metadata;
    for (const auto& [k, t] : model.state_dict()) tensors.emplace("model." + k, t);
    std::string names;
    for (const auto& part : parts) {
        put_part(part.state, part.name + ".", std::string(kReserved) + part.name + ".", tensors,
                 meta);
        names += (names.empty() ? "" : ",") + part.name;
    }
    meta["xgrad.parts"] = names;
    meta[kFormat] = "checkpoint";
    save_safetensors(path, tensors, meta);
}

LoadedCheckpoint read_checkpoint(const std::string& path, const std::vector<std::string>& parts) {
    const char* who = "nn::load_checkpoint";
    try {
        const SafetensorsFile file = load_safetensors(path);
        const std::string format = format_of(file);
        if (format != "checkpoint")
            raise_file(who, path,
                       format.empty()
                           ? std::string("not an xgrad checkpoint (xgrad.format is missing)")
                           : "not a checkpoint (xgrad.format = " + quoted(format) + ")");
        const auto listed = file.metadata.find("xgrad.parts");
        const std::vector<std::string> in_file =
            listed == file.metadata.end() ? std::vector<std::string>{} : split_list(listed->second);
        const std::set<std::string> known(in_file.begin(), in_file.end());
        // Every tensor belongs to the model or a listed part.
        for (const auto& [k, t] : file.tensors) {
            bool owned = starts_with(k, "model.");
            for (const auto& p : known) owned = owned || starts_with(k, p + ".");
            if (!owned)
                raise_file(who, path, "tensor ", quoted(k),
                           " belongs to no part of the checkpoint");
        }
        LoadedCheckpoint out;
        for (const auto& [k, t] : file.tensors)
            if (starts_with(k, "model.")) out.model.emplace(k.substr(6), t);
        for (const auto& p : parts) {
            if (!known.count(p))
                raise_file(who, path, "the checkpoint has no ", p, " state (parts: ",
                           listed == file.metadata.end() ? std::string("none") : listed->second,
                           ")");
            out.parts.push_back(
                get_part(file, p + ".", std::string(kReserved) + p + ".", path, who));
        }
        out.metadata = user_metadata(file.metadata);
        return out;
    } catch (...) {
        fileio::rethrow_load_error(who, path);
    }
}

void load_module_state(Module& module, const StateDict& state, bool strict, const std::string& path,
                       const char* who) {
    try {
        module.load_state_dict(state, strict);
    } catch (...) {
        rethrow_naming_file(who, path);
    }
}

}  // namespace detail

}  // namespace xgrad::nn
