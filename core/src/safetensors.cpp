// safetensors reading and writing (format and guarantees: xgrad/core/safetensors.hpp).
#include <algorithm>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <xgrad/core/check.hpp>
#include <xgrad/core/safetensors.hpp>
#include <xgrad/core/tensor_impl.hpp>

#include "atomic_file.hpp"

namespace xgrad {

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr bool kLittleEndianHost = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
constexpr int kMaxJsonDepth = 16;  // a valid header nests 3 deep

const char* type_code(Dtype d) {
    switch (d) {
        case Dtype::f32:
            return "F32";
        case Dtype::f64:
            return "F64";
        case Dtype::i64:
            return "I64";
        case Dtype::b8:
            return "BOOL";
    }
    return "?";
}

bool parse_type_code(const std::string& code, Dtype& out) {
    static const std::pair<const char*, Dtype> codes[] = {
        {"F32", Dtype::f32}, {"F64", Dtype::f64}, {"I64", Dtype::i64}, {"BOOL", Dtype::b8}};
    for (const auto& [c, d] : codes)
        if (code == c) {
            out = d;
            return true;
        }
    return false;
}

using fileio::checked_file_nbytes;
using fileio::quoted;
using fileio::raise_file;

// Reverses the bytes of each element (only big-endian hosts need this).
[[maybe_unused]] void swap_elements(unsigned char* p, std::size_t nbytes, std::size_t elem) {
    if (elem <= 1) return;
    for (std::size_t i = 0; i + elem <= nbytes; i += elem) std::reverse(p + i, p + i + elem);
}

std::uint64_t read_u64_le(const unsigned char* b) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
    return v;
}

void write_u64_le(std::uint64_t v, unsigned char* b) {
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
}

// ---- reading ----------------------------------------------------------------------------

// Reads `n` bytes at absolute `offset` of the source into `dst`; throws if it cannot.
using ReadAt = std::function<void(std::uint64_t offset, void* dst, std::size_t n)>;

struct ParsedHeader {
    SafetensorsInfo info;
    std::uint64_t data_start = 0;  // absolute offset of the data buffer
};

std::uint64_t as_u64(const json& v, bool& ok) {
    ok = v.is_number_unsigned();
    return ok ? v.get<std::uint64_t>() : 0;
}

std::string json_text(const json& v) {
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return s;
}

SafetensorsEntry parse_entry(const char* who, const std::string& file, const std::string& name,
                             const json& v) {
    const std::string what = "tensor " + quoted(name) + ": ";
    if (name.empty()) raise_file(who, file, "a tensor has an empty name");
    if (!v.is_object())
        raise_file(who, file, what, "expected an object with dtype, shape and data_offsets, got ",
                   json_text(v));
    for (const auto& [key, value] : v.items())
        if (key != "dtype" && key != "shape" && key != "data_offsets")
            raise_file(who, file, what, "unknown field ", quoted(key));
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!v.contains(key)) raise_file(who, file, what, "missing field '", key, "'");

    SafetensorsEntry e;
    e.name = name;
    const json& dt = v.at("dtype");
    if (!dt.is_string()) raise_file(who, file, what, "dtype must be a string, got ", json_text(dt));
    if (!parse_type_code(dt.get<std::string>(), e.dtype))
        raise_file(who, file, what, "unsupported dtype ", quoted(dt.get<std::string>()),
                   " (xgrad reads F32, F64, I64 and BOOL)");

    const json& sh = v.at("shape");
    if (!sh.is_array()) raise_file(who, file, what, "shape must be an array, got ", json_text(sh));
    for (std::size_t i = 0; i < sh.size(); ++i) {
        bool ok = false;
        const std::uint64_t d = as_u64(sh[i], ok);
        if (!ok)
            raise_file(who, file, what, "shape entry ", i, " is ", json_text(sh[i]),
                       ", not a non-negative integer");
        if (d > static_cast<std::uint64_t>(kMaxSize))
            raise_file(who, file, what, "shape ", json_text(sh), " is too large (extent ", d,
                       " is more than 2^62)");
        e.shape.push_back(static_cast<std::int64_t>(d));
    }
    // Both the element count and the product of the non-zero extents must stay within 2^62
    // (an empty tensor's strides are computed from its extents too).
    const std::uint64_t nbytes = checked_file_nbytes(who, file, what, e.shape, dtype_size(e.dtype));

    const json& off = v.at("data_offsets");
    bool ok_begin = false, ok_end = false;
    if (off.is_array() && off.size() == 2) {
        e.begin = as_u64(off[0], ok_begin);
        e.end = as_u64(off[1], ok_end);
    }
    if (!ok_begin || !ok_end)
        raise_file(who, file, what,
                   "data_offsets must be two non-negative integers [begin, end], got ",
                   json_text(off));
    if (e.begin > e.end)
        raise_file(who, file, what, "data_offsets ", json_text(off), " has begin after end");
    if (e.end - e.begin != nbytes)
        raise_file(who, file, what, "data_offsets ", json_text(off), " span ", e.end - e.begin,
                   " bytes, but ", type_code(e.dtype), " shape ", e.shape, " needs ", nbytes);
    return e;
}

json parse_json(const char* who, const std::string& file, const std::string& text) {
    // Duplicate keys are an error (the JSON parser would silently keep one of them), and so is
    // nesting deeper than any valid header.
    std::vector<std::set<std::string>> open_objects;
    auto callback = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
        if (depth > kMaxJsonDepth) raise_file(who, file, "the header's JSON is nested too deeply");
        switch (event) {
            case json::parse_event_t::object_start:
                open_objects.emplace_back();
                break;
            case json::parse_event_t::object_end:
                if (!open_objects.empty()) open_objects.pop_back();
                break;
            case json::parse_event_t::key: {
                const std::string& key = parsed.get_ref<const std::string&>();
                if (!open_objects.empty() && !open_objects.back().insert(key).second)
                    raise_file(who, file, "the header has the key ", quoted(key), " twice");
                break;
            }
            default:
                break;
        }
        return true;
    };
    try {
        return json::parse(text.begin(), text.end(), callback);
    } catch (const json::exception& e) {
        raise_file(who, file, "the header (from byte 8) is not valid JSON: ", e.what());
    }
}

ParsedHeader parse_header(const char* who, const std::string& file, std::uint64_t file_size,
                          const ReadAt& read_at) {
    if (file_size < 8)
        raise_file(who, file, "the file has ", file_size,
                   " bytes, too few for the 8-byte header length (truncated?)");
    unsigned char len_bytes[8];
    read_at(0, len_bytes, 8);
    const std::uint64_t n = read_u64_le(len_bytes);
    if (n > kSafetensorsMaxHeaderBytes)
        raise_file(who, file, "the header length ", n, " is larger than the limit of ",
                   kSafetensorsMaxHeaderBytes, " bytes (not a safetensors file?)");
    if (n > file_size - 8)
        raise_file(who, file, "the header length ", n, " runs past the end of the file (",
                   file_size, " bytes; truncated?)");
    if (n < 2) raise_file(who, file, "the header length ", n, " is too small");

    std::string text(static_cast<std::size_t>(n), '\0');
    read_at(8, text.data(), text.size());
    if (text[0] != '{')
        raise_file(who, file, "the header does not start with '{' (not a safetensors file?)");
    const json root = parse_json(who, file, text);
    if (!root.is_object()) raise_file(who, file, "the header is not a JSON object");

    ParsedHeader out;
    out.info.header_bytes = n;
    out.data_start = 8 + n;
    out.info.data_bytes = file_size - out.data_start;
    for (const auto& [key, value] : root.items()) {
        if (key == "__metadata__") {
            if (!value.is_object())
                raise_file(who, file, "__metadata__ must be an object of strings, got ",
                           json_text(value));
            for (const auto& [mk, mv] : value.items()) {
                if (!mv.is_string())
                    raise_file(who, file, "__metadata__ value of ", quoted(mk),
                               " must be a string, got ", json_text(mv));
                out.info.metadata.emplace(mk, mv.get<std::string>());
            }
            continue;
        }
        out.info.entries.push_back(parse_entry(who, file, key, value));
    }

    // The entries must tile the data buffer: sorted by offset, each starts where the previous
    // one ended, and the last ends at the end of the file.
    auto& entries = out.info.entries;
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
    });
    const std::uint64_t buffer = out.info.data_bytes;
    std::uint64_t pos = 0;
    const SafetensorsEntry* prev = nullptr;
    for (const auto& e : entries) {
        const std::string span = "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
        if (e.end > buffer)
            raise_file(who, file, "tensor ", quoted(e.name), ": data_offsets ", span,
                       " run past the end of the data buffer (", buffer,
                       " bytes after the header; truncated?)");
        if (e.begin < pos)
            raise_file(who, file, "tensor ", quoted(e.name), ": data_offsets ", span,
                       " overlap tensor ", quoted(prev->name), " [", prev->begin, ", ", prev->end,
                       "]");
        if (e.begin > pos)
            raise_file(who, file, "bytes [", pos, ", ", e.begin,
                       ") of the data buffer belong to no tensor");
        pos = e.end;
        prev = &e;
    }
    if (pos != buffer)
        raise_file(who, file, "the data buffer has ", buffer, " bytes but the tensors use ", pos,
                   " (trailing bytes after the last tensor)");
    return out;
}

SafetensorsFile read_all(const char* who, const std::string& file, const ParsedHeader& header,
                         const ReadAt& read_at) {
    SafetensorsFile out;
    out.metadata = header.info.metadata;
    // Everything was validated: the sizes below are exact and in bounds.
    for (const auto& e : header.info.entries) {
        Tensor t = make_tensor(e.shape, e.dtype);
        const std::size_t nbytes = static_cast<std::size_t>(e.end - e.begin);
        auto* bytes = static_cast<unsigned char*>(t.impl()->data());
        if (nbytes > 0) read_at(header.data_start + e.begin, bytes, nbytes);
        if (e.dtype == Dtype::b8) {
            for (std::size_t i = 0; i < nbytes; ++i)
                if (bytes[i] > 1)
                    raise_file(who, file, "tensor ", quoted(e.name), ": BOOL byte at file offset ",
                               header.data_start + e.begin + i, " is ", int(bytes[i]),
                               " (must be 0 or 1)");
        }
        if constexpr (!kLittleEndianHost) swap_elements(bytes, nbytes, dtype_size(e.dtype));
        out.tensors.emplace(e.name, std::move(t));
    }
    return out;
}

ReadAt file_reader(const fileio::InputFile& in) {
    return [&in](std::uint64_t offset, void* dst, std::size_t n) { in.read_at(offset, dst, n); };
}

ReadAt memory_reader(const char* who, const std::string& name, const std::string& bytes) {
    return [who, &name, &bytes](std::uint64_t offset, void* dst, std::size_t n) {
        if (offset > bytes.size() || n > bytes.size() - offset)
            raise_file(who, name, "read past the end of the buffer");
        std::memcpy(dst, bytes.data() + offset, n);
    };
}

// ---- writing ----------------------------------------------------------------------------

struct PlannedTensor {
    std::string name;
    Tensor tensor;
    std::uint64_t begin = 0, end = 0;
};

struct Plan {
    std::string header;  // padded JSON
    std::vector<PlannedTensor> tensors;
    std::uint64_t data_bytes = 0;
};

Plan make_plan(const char* who, const std::string& file,
               const std::map<std::string, Tensor>& tensors,
               const std::map<std::string, std::string>& metadata) {
    Plan plan;
    for (const auto& [name, t] : tensors) {
        if (name.empty()) raise_file(who, file, "tensor names must be non-empty");
        if (name == "__metadata__") raise_file(who, file, "'__metadata__' cannot name a tensor");
        if (!t.defined()) raise_file(who, file, "tensor ", quoted(name), " is undefined");
        plan.tensors.push_back({name, t, 0, 0});
    }
    // Larger elements first (then by name): every tensor's data stays aligned to its element
    // size, since the data buffer starts at a multiple of 8.
    std::stable_sort(plan.tensors.begin(), plan.tensors.end(), [](const auto& a, const auto& b) {
        return dtype_size(a.tensor.dtype()) > dtype_size(b.tensor.dtype());
    });
    ordered_json header = ordered_json::object();
    if (!metadata.empty()) {
        ordered_json meta = ordered_json::object();
        for (const auto& [k, v] : metadata) meta[k] = v;
        header["__metadata__"] = std::move(meta);
    }
    std::uint64_t pos = 0;
    for (auto& p : plan.tensors) {
        const std::uint64_t nbytes =
            static_cast<std::uint64_t>(p.tensor.numel()) * dtype_size(p.tensor.dtype());
        p.begin = pos;
        p.end = pos + nbytes;
        pos = p.end;
        header[p.name] = {{"dtype", type_code(p.tensor.dtype())},
                          {"shape", p.tensor.shape()},
                          {"data_offsets", {p.begin, p.end}}};
    }
    plan.data_bytes = pos;
    try {
        plan.header = header.dump();
    } catch (const nlohmann::json::exception& e) {
        raise_file(who, file,
                   "cannot encode the header (names and metadata must be UTF-8): ", e.what());
    }
    plan.header.append((8 - plan.header.size() % 8) % 8, ' ');
    return plan;
}

// Streams the file's bytes (length, header, data) to `sink`.
void emit(const Plan& plan, const std::function<void(const void*, std::size_t)>& sink) {
    unsigned char len[8];
    write_u64_le(plan.header.size(), len);
    sink(len, 8);
    sink(plan.header.data(), plan.header.size());
    for (const auto& p : plan.tensors) {
        const std::size_t nbytes = static_cast<std::size_t>(p.end - p.begin);
        if (nbytes == 0) continue;
        const auto* data = static_cast<const unsigned char*>(p.tensor.impl()->data());
        if constexpr (kLittleEndianHost) {
            sink(data, nbytes);
        } else {
            const std::size_t elem = dtype_size(p.tensor.dtype());
            std::vector<unsigned char> chunk;
            const std::size_t step = (std::size_t(1) << 20) / elem * elem;
            for (std::size_t off = 0; off < nbytes; off += step) {
                const std::size_t n = std::min(step, nbytes - off);
                chunk.assign(data + off, data + off + n);
                swap_elements(chunk.data(), n, elem);
                sink(chunk.data(), n);
            }
        }
    }
}

}  // namespace

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    const char* who = "save_safetensors";
    XGRAD_CHECK(!path.empty(), ValueError, who, "the path is empty");
    const Plan plan = make_plan(who, path, tensors, metadata);
    fileio::write_file_atomically(who, path,
                                  [&](const fileio::ByteSink& sink) { emit(plan, sink); });
}

SafetensorsFile load_safetensors(const std::string& path) {
    const char* who = "load_safetensors";
    try {
        const fileio::InputFile in(who, path);
        const ReadAt read_at = file_reader(in);
        const ParsedHeader header = parse_header(who, path, in.size(), read_at);
        return read_all(who, path, header, read_at);
    } catch (...) {
        fileio::rethrow_load_error(who, path);
    }
}

SafetensorsInfo inspect_safetensors(const std::string& path) {
    const char* who = "inspect_safetensors";
    try {
        const fileio::InputFile in(who, path);
        return parse_header(who, path, in.size(), file_reader(in)).info;
    } catch (...) {
        fileio::rethrow_load_error(who, path);
    }
}

std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
    const Plan plan = make_plan("serialize_safetensors", "<memory>", tensors, metadata);
    std::string out;
    out.reserve(8 + plan.header.size() + plan.data_bytes);
    emit(plan,
         [&](const void* data, std::size_t n) { out.append(static_cast<const char*>(data), n); });
    return out;
}

SafetensorsFile deserialize_safetensors(const std::string& bytes, const std::string& name) {
    const char* who = "deserialize_safetensors";
    try {
        const ReadAt read_at = memory_reader(who, name, bytes);
        const ParsedHeader header = parse_header(who, name, bytes.size(), read_at);
        return read_all(who, name, header, read_at);
    } catch (...) {
        fileio::rethrow_load_error(who, name);
    }
}

}  // namespace xgrad
