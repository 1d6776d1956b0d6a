// safetensors reading and writing (format and guarantees: xgrad/core/safetensors.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <xgrad/core/safetensors.hpp>
#include <xgrad/core/tensor_impl.hpp>

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

std::string quoted(const std::string& s) {
    return "'" + s + "'";
}

[[noreturn]] void fail(const char* who, const std::string& file, const std::string& what) {
    throw ValueError(std::string(who) + ": " + quoted(file) + ": " + what);
}

std::string errno_text(int err) {
    return std::string(std::strerror(err));
}

// Reverses the bytes of each element (only big-endian hosts need this).
void swap_elements(unsigned char* p, std::size_t nbytes, std::size_t elem) {
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
    const std::string what = "tensor " + quoted(name);
    if (name.empty()) fail(who, file, "a tensor has an empty name");
    if (!v.is_object())
        fail(who, file,
             what + ": expected an object with dtype, shape and data_offsets, got " + json_text(v));
    for (const auto& [key, value] : v.items())
        if (key != "dtype" && key != "shape" && key != "data_offsets")
            fail(who, file, what + ": unknown field " + quoted(key));
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!v.contains(key)) fail(who, file, what + ": missing field '" + key + "'");

    SafetensorsEntry e;
    e.name = name;
    const json& dt = v.at("dtype");
    if (!dt.is_string()) fail(who, file, what + ": dtype must be a string, got " + json_text(dt));
    if (!parse_type_code(dt.get<std::string>(), e.dtype))
        fail(who, file,
             what + ": unsupported dtype " + quoted(dt.get<std::string>()) +
                 " (xgrad reads F32, F64, I64 and BOOL)");

    const json& sh = v.at("shape");
    if (!sh.is_array()) fail(who, file, what + ": shape must be an array, got " + json_text(sh));
    std::uint64_t numel = 1, extent_product = 1;
    constexpr std::uint64_t kMax =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    for (std::size_t i = 0; i < sh.size(); ++i) {
        bool ok = false;
        const std::uint64_t d = as_u64(sh[i], ok);
        if (!ok)
            fail(who, file,
                 what + ": shape entry " + std::to_string(i) + " is " + json_text(sh[i]) +
                     ", not a non-negative integer");
        // Both the element count and the product of the non-zero extents must fit in int64
        // (strides of an empty tensor are computed from the extents too).
        if (d > kMax ||
            __builtin_mul_overflow(extent_product, std::max<std::uint64_t>(d, 1),
                                   &extent_product) ||
            extent_product > kMax)
            fail(who, file, what + ": shape " + json_text(sh) + " is too large");
        numel *= d;
        e.shape.push_back(static_cast<std::int64_t>(d));
    }
    std::uint64_t nbytes = 0;
    if (__builtin_mul_overflow(numel, static_cast<std::uint64_t>(dtype_size(e.dtype)), &nbytes))
        fail(who, file, what + ": shape " + json_text(sh) + " is too large");

    const json& off = v.at("data_offsets");
    bool ok_begin = false, ok_end = false;
    if (off.is_array() && off.size() == 2) {
        e.begin = as_u64(off[0], ok_begin);
        e.end = as_u64(off[1], ok_end);
    }
    if (!ok_begin || !ok_end)
        fail(who, file,
             what + ": data_offsets must be two non-negative integers [begin, end], got " +
                 json_text(off));
    if (e.begin > e.end)
        fail(who, file, what + ": data_offsets " + json_text(off) + " has begin after end");
    if (e.end - e.begin != nbytes)
        fail(who, file,
             what + ": data_offsets " + json_text(off) + " span " +
                 std::to_string(e.end - e.begin) + " bytes, but " + type_code(e.dtype) + " shape " +
                 shape_str(e.shape) + " needs " + std::to_string(nbytes));
    return e;
}

json parse_json(const char* who, const std::string& file, const std::string& text) {
    // Duplicate keys are an error (the JSON parser would silently keep one of them), and so is
    // nesting deeper than any valid header.
    std::vector<std::set<std::string>> open_objects;
    auto callback = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
        if (depth > kMaxJsonDepth) fail(who, file, "the header's JSON is nested too deeply");
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
                    fail(who, file, "the header has the key " + quoted(key) + " twice");
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
        fail(who, file, std::string("the header (from byte 8) is not valid JSON: ") + e.what());
    }
}

ParsedHeader parse_header(const char* who, const std::string& file, std::uint64_t file_size,
                          const ReadAt& read_at) {
    if (file_size < 8)
        fail(who, file,
             "the file has " + std::to_string(file_size) +
                 " bytes, too few for the 8-byte header length (truncated?)");
    unsigned char len_bytes[8];
    read_at(0, len_bytes, 8);
    const std::uint64_t n = read_u64_le(len_bytes);
    if (n > kSafetensorsMaxHeaderBytes)
        fail(who, file,
             "the header length " + std::to_string(n) + " is larger than the limit of " +
                 std::to_string(kSafetensorsMaxHeaderBytes) + " bytes (not a safetensors file?)");
    if (n > file_size - 8)
        fail(who, file,
             "the header length " + std::to_string(n) + " runs past the end of the file (" +
                 std::to_string(file_size) + " bytes; truncated?)");
    if (n < 2) fail(who, file, "the header length " + std::to_string(n) + " is too small");

    std::string text(static_cast<std::size_t>(n), '\0');
    read_at(8, text.data(), text.size());
    if (text[0] != '{')
        fail(who, file, "the header does not start with '{' (not a safetensors file?)");
    const json root = parse_json(who, file, text);
    if (!root.is_object()) fail(who, file, "the header is not a JSON object");

    ParsedHeader out;
    out.info.header_bytes = n;
    out.data_start = 8 + n;
    out.info.data_bytes = file_size - out.data_start;
    for (const auto& [key, value] : root.items()) {
        if (key == "__metadata__") {
            if (!value.is_object())
                fail(who, file,
                     "__metadata__ must be an object of strings, got " + json_text(value));
            for (const auto& [mk, mv] : value.items()) {
                if (!mv.is_string())
                    fail(who, file,
                         "__metadata__ value of " + quoted(mk) + " must be a string, got " +
                             json_text(mv));
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
            fail(who, file,
                 "tensor " + quoted(e.name) + ": data_offsets " + span +
                     " run past the end of the data buffer (" + std::to_string(buffer) +
                     " bytes after the header; truncated?)");
        if (e.begin < pos)
            fail(who, file,
                 "tensor " + quoted(e.name) + ": data_offsets " + span + " overlap tensor " +
                     quoted(prev->name) + " [" + std::to_string(prev->begin) + ", " +
                     std::to_string(prev->end) + "]");
        if (e.begin > pos)
            fail(who, file,
                 "bytes [" + std::to_string(pos) + ", " + std::to_string(e.begin) +
                     ") of the data buffer belong to no tensor");
        pos = e.end;
        prev = &e;
    }
    if (pos != buffer)
        fail(who, file,
             "the data buffer has " + std::to_string(buffer) + " bytes but the tensors use " +
                 std::to_string(pos) + " (trailing bytes after the last tensor)");
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
                    fail(who, file,
                         "tensor " + quoted(e.name) + ": BOOL byte at file offset " +
                             std::to_string(header.data_start + e.begin + i) + " is " +
                             std::to_string(bytes[i]) + " (must be 0 or 1)");
        }
        if constexpr (!kLittleEndianHost) swap_elements(bytes, nbytes, dtype_size(e.dtype));
        out.tensors.emplace(e.name, std::move(t));
    }
    return out;
}

// An open file descriptor, closed on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Opens `path` for reading, returning its size; the read function reads with pread.
std::uint64_t open_for_reading(const char* who, const std::string& path, Fd& fd, ReadAt& read_at) {
    fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd.fd < 0) fail(who, path, "cannot open: " + errno_text(errno));
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) fail(who, path, "cannot stat: " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) fail(who, path, "not a regular file");
    const int handle = fd.fd;
    read_at = [who, &path, handle](std::uint64_t offset, void* dst, std::size_t n) {
        auto* p = static_cast<unsigned char*>(dst);
        std::size_t done = 0;
        while (done < n) {
            const std::size_t chunk = std::min<std::size_t>(n - done, std::size_t(1) << 30);
            const ssize_t got = ::pread(handle, p + done, chunk, static_cast<off_t>(offset + done));
            if (got < 0 && errno == EINTR) continue;
            if (got < 0)
                fail(who, path,
                     "read error at byte offset " + std::to_string(offset + done) + ": " +
                         errno_text(errno));
            if (got == 0)
                fail(who, path,
                     "the file ended at byte offset " + std::to_string(offset + done) +
                         " while reading (it changed while being read?)");
            done += static_cast<std::size_t>(got);
        }
    };
    return static_cast<std::uint64_t>(st.st_size);
}

ReadAt memory_reader(const char* who, const std::string& name, const std::string& bytes) {
    return [who, &name, &bytes](std::uint64_t offset, void* dst, std::size_t n) {
        if (offset > bytes.size() || n > bytes.size() - offset)
            fail(who, name, "read past the end of the buffer");
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
        if (name.empty()) fail(who, file, "tensor names must be non-empty");
        if (name == "__metadata__") fail(who, file, "'__metadata__' cannot name a tensor");
        if (!t.defined()) fail(who, file, "tensor " + quoted(name) + " is undefined");
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
        fail(who, file,
             std::string("cannot encode the header (names and metadata must be UTF-8): ") +
                 e.what());
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

std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::atomic<std::uint64_t> temp_counter{0};

}  // namespace

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    const char* who = "xgrad::save_safetensors";
    if (path.empty()) throw ValueError(std::string(who) + ": the path is empty");
    const Plan plan = make_plan(who, path, tensors, metadata);

    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                            std::to_string(temp_counter.fetch_add(1));
    ::unlink(tmp.c_str());  // a leftover of a crashed process that had our pid
    Fd fd;
    fd.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd.fd < 0)
        fail(who, path,
             "cannot create the temporary file " + quoted(tmp) + ": " + errno_text(errno));
    auto give_up = [&](const std::string& what, int err) {
        ::close(fd.fd);
        fd.fd = -1;
        ::unlink(tmp.c_str());
        fail(who, path, what + ": " + errno_text(err) + " (nothing was changed)");
    };
    try {
        emit(plan, [&](const void* data, std::size_t n) {
            const auto* p = static_cast<const unsigned char*>(data);
            std::size_t done = 0;
            while (done < n) {
                const ssize_t put =
                    ::write(fd.fd, p + done, std::min<std::size_t>(n - done, std::size_t(1) << 30));
                if (put < 0 && errno == EINTR) continue;
                if (put <= 0) give_up("cannot write", put < 0 ? errno : EIO);
                done += static_cast<std::size_t>(put);
            }
        });
    } catch (...) {
        if (fd.fd >= 0) {
            ::close(fd.fd);
            fd.fd = -1;
            ::unlink(tmp.c_str());
        }
        throw;
    }
    if (::fsync(fd.fd) != 0) give_up("cannot flush to disk", errno);
    const int close_rc = ::close(fd.fd);
    fd.fd = -1;
    if (close_rc != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        fail(who, path,
             "cannot close the temporary file: " + errno_text(err) + " (nothing was changed)");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        fail(who, path,
             "cannot rename the temporary file into place: " + errno_text(err) +
                 " (nothing was changed)");
    }
    // Make the rename itself durable (best effort: some file systems refuse to sync a folder).
    Fd dir;
    dir.fd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir.fd >= 0) (void)::fsync(dir.fd);
}

SafetensorsFile load_safetensors(const std::string& path) {
    const char* who = "xgrad::load_safetensors";
    Fd fd;
    ReadAt read_at;
    const std::uint64_t size = open_for_reading(who, path, fd, read_at);
    const ParsedHeader header = parse_header(who, path, size, read_at);
    return read_all(who, path, header, read_at);
}

SafetensorsInfo inspect_safetensors(const std::string& path) {
    const char* who = "xgrad::inspect_safetensors";
    Fd fd;
    ReadAt read_at;
    const std::uint64_t size = open_for_reading(who, path, fd, read_at);
    return parse_header(who, path, size, read_at).info;
}

std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
    const Plan plan = make_plan("xgrad::serialize_safetensors", "<memory>", tensors, metadata);
    std::string out;
    out.reserve(8 + plan.header.size() + plan.data_bytes);
    emit(plan,
         [&](const void* data, std::size_t n) { out.append(static_cast<const char*>(data), n); });
    return out;
}

SafetensorsFile deserialize_safetensors(const std::string& bytes, const std::string& name) {
    const char* who = "xgrad::deserialize_safetensors";
    const ReadAt read_at = memory_reader(who, name, bytes);
    const ParsedHeader header = parse_header(who, name, bytes.size(), read_at);
    return read_all(who, name, header, read_at);
}

}  // namespace xgrad
