// Shared by fuzz_idx and fuzz_idx_gzip: an independent reading of the IDX format and of gzip
// framing (the oracle), and the checks run on every input.
//
// The oracle follows xgrad/data/idx.hpp: an IDX file is accepted exactly when it has the magic
// 00 00 <type> <ndim> (type 08, 09, 0B, 0C, 0D or 0E; 1 <= ndim <= 16), ndim big-endian uint32
// extents within xgrad's size limit (2^62), and exactly the data bytes the shape needs. A gzip file
// (first bytes 1F 8B) is accepted exactly when it is one or more complete gzip members (zlib
// inflate, CRC and length checked) and nothing else — no truncation, no trailing garbage — and its
// content is an accepted IDX file.
#pragma once
#include <zlib.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <xgrad/core/shape.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/data/idx.hpp>

#include "fuzz_common.hpp"
#include "tensor_checks.hpp"

namespace xgrad_fuzz {

inline std::size_t idx_type_size(int code) {
    switch (code) {
        case 0x08:
        case 0x09:
            return 1;
        case 0x0B:
            return 2;
        case 0x0C:
        case 0x0D:
            return 4;
        case 0x0E:
            return 8;
        default:
            return 0;
    }
}

// The reference reading of an (uncompressed) IDX file.
struct IdxRef {
    bool ok = false;
    std::string why;  // when !ok
    int type = 0;
    xgrad::Shape shape;
    std::size_t header = 0;
    std::size_t count = 0;      // elements
    std::uint64_t claimed = 0;  // data bytes the header asks for (saturated)
    const unsigned char* data = nullptr;

    // Element i, decoded from big-endian bytes, as a double (exact but for NaN payloads).
    double value(std::size_t i) const {
        const std::size_t size = idx_type_size(type);
        std::uint64_t bits = 0;
        for (std::size_t k = 0; k < size; ++k) bits = (bits << 8) | data[i * size + k];
        switch (type) {
            case 0x08:
                return static_cast<double>(bits);
            case 0x09:
                return static_cast<double>(static_cast<std::int8_t>(bits));
            case 0x0B:
                return static_cast<double>(static_cast<std::int16_t>(bits));
            case 0x0C:
                return static_cast<double>(static_cast<std::int32_t>(bits));
            case 0x0D: {
                const auto u = static_cast<std::uint32_t>(bits);
                float f;
                std::memcpy(&f, &u, 4);
                return static_cast<double>(f);
            }
            default: {
                double d;
                std::memcpy(&d, &bits, 8);
                return d;
            }
        }
    }
    bool is_integer() const { return type == 0x08 || type == 0x09 || type == 0x0B || type == 0x0C; }
};

inline IdxRef idx_reference(const std::string& bytes) {
    IdxRef r;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    if (n < 4) {
        r.why = "shorter than the magic number";
        return r;
    }
    if (p[0] != 0 || p[1] != 0 || idx_type_size(p[2]) == 0) {
        r.why = "wrong magic number";
        return r;
    }
    const int ndim = p[3];
    if (ndim < 1 || ndim > 16) {
        r.why = "bad dimension count";
        return r;
    }
    r.type = p[2];
    r.header = 4 + 4 * static_cast<std::size_t>(ndim);
    if (n < r.header) {
        r.why = "truncated header";
        return r;
    }
    // xgrad's limit on sizes (xgrad/core/check.hpp): the element count, the byte size and the
    // product of the non-zero extents are at most 2^62.
    constexpr std::uint64_t kMaxSize = std::uint64_t(1) << 62;
    std::uint64_t numel = 1, extents = 1;
    bool too_large = false;
    for (int d = 0; d < ndim; ++d) {
        const unsigned char* b = p + 4 + 4 * d;
        const std::uint64_t v = (std::uint64_t(b[0]) << 24) | (std::uint64_t(b[1]) << 16) |
                                (std::uint64_t(b[2]) << 8) | std::uint64_t(b[3]);
        r.shape.push_back(static_cast<std::int64_t>(v));
        too_large = too_large || __builtin_mul_overflow(numel, v, &numel) ||
                    __builtin_mul_overflow(extents, v ? v : 1, &extents) || extents > kMaxSize;
    }
    std::uint64_t need = 0;
    too_large =
        too_large || __builtin_mul_overflow(numel, idx_type_size(r.type), &need) || need > kMaxSize;
    r.claimed = too_large ? UINT64_MAX : need;
    if (too_large) {
        r.why = "the shape is too large for xgrad";
        return r;
    }
    if (need != n - r.header) {
        r.why = "the data size does not match the shape";
        return r;
    }
    r.ok = true;
    r.count = static_cast<std::size_t>(numel);
    r.data = p + r.header;
    return r;
}

inline bool is_gzip(const std::string& bytes) {
    return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1F &&
           static_cast<unsigned char>(bytes[1]) == 0x8B;
}

// Strict gunzip: every byte must belong to a complete, valid gzip member.
enum class Gunzip { ok, bad, too_large };

inline Gunzip strict_gunzip(const std::string& in, std::string& out, std::string& why,
                            std::size_t max_out = std::size_t(64) << 20) {
    out.clear();
    z_stream s{};
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) fuzz_fail("inflateInit2 failed");
    std::size_t pos = 0;
    Gunzip result = Gunzip::ok;
    unsigned char buf[1 << 14];
    while (result == Gunzip::ok) {
        s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data())) + pos;
        s.avail_in = static_cast<uInt>(in.size() - pos);
        int r = Z_OK;
        while (true) {
            s.next_out = buf;
            s.avail_out = sizeof buf;
            r = inflate(&s, Z_NO_FLUSH);
            out.append(reinterpret_cast<const char*>(buf), sizeof buf - s.avail_out);
            if (out.size() > max_out) {
                result = Gunzip::too_large;
                break;
            }
            if (r != Z_OK) break;
        }
        if (result != Gunzip::ok) break;
        if (r != Z_STREAM_END) {
            why = r == Z_BUF_ERROR ? "truncated gzip member" : "corrupt gzip data";
            result = Gunzip::bad;
            break;
        }
        pos = in.size() - s.avail_in;
        if (pos == in.size()) break;
        if (!is_gzip(in.substr(pos, 2))) {
            why = "trailing bytes after the last gzip member";
            result = Gunzip::bad;
            break;
        }
        inflateReset(&s);
    }
    inflateEnd(&s);
    return result;
}

// `bytes` as one gzip member (zlib's default level).
inline std::string gzip(const std::string& bytes) {
    z_stream s{};
    if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        fuzz_fail("deflateInit2 failed");
    std::string out(deflateBound(&s, static_cast<uLong>(bytes.size())) + 32, '\0');
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    s.avail_in = static_cast<uInt>(bytes.size());
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(out.size());
    if (deflate(&s, Z_FINISH) != Z_STREAM_END) fuzz_fail("deflate failed");
    out.resize(out.size() - s.avail_out);
    deflateEnd(&s);
    return out;
}

// An IDX file of type 0x08 with the given shape and bytes i % 10.
inline std::string make_idx_u8(const xgrad::Shape& shape) {
    std::string out{'\0', '\0', '\x08', static_cast<char>(shape.size())};
    std::size_t count = 1;
    for (const std::int64_t d : shape) {
        for (int k = 3; k >= 0; --k) out += static_cast<char>((d >> (8 * k)) & 0xFF);
        count *= static_cast<std::size_t>(d);
    }
    for (std::size_t i = 0; i < count; ++i) out += static_cast<char>(i % 10);
    return out;
}

// read_idx's result against the reference reading.
inline void check_idx_values(const xgrad::Tensor& t, const IdxRef& ref, const std::string& what) {
    if (t.shape() != ref.shape)
        fuzz_fail(what + ": shape " + xgrad::shape_str(t.shape()) + ", the header says " +
                  xgrad::shape_str(ref.shape));
    const xgrad::Dtype want = ref.is_integer()   ? xgrad::Dtype::i64
                              : ref.type == 0x0D ? xgrad::Dtype::f32
                                                 : xgrad::Dtype::f64;
    if (t.dtype() != want) fuzz_fail(what + ": wrong dtype");
    exercise_tensor(t, what);
    for (std::size_t i = 0; i < ref.count; ++i) {
        const double v = ref.value(i);
        bool same = false;
        if (want == xgrad::Dtype::i64)
            same = t.data_ptr<std::int64_t>()[i] == static_cast<std::int64_t>(v);
        else if (want == xgrad::Dtype::f32)
            same = std::isnan(v) ? std::isnan(t.data_ptr<float>()[i])
                                 : t.data_ptr<float>()[i] == static_cast<float>(v);
        else
            same =
                std::isnan(v) ? std::isnan(t.data_ptr<double>()[i]) : t.data_ptr<double>()[i] == v;
        if (!same) fuzz_fail(what + ": element " + std::to_string(i) + " differs from the file");
    }
}

// read_idx_float(scale)'s result against the reference reading (elements whose scaled value
// does not fit float32 are not compared: what they should become is not specified).
inline void check_idx_float_values(const xgrad::Tensor& t, const IdxRef& ref, double scale,
                                   const std::string& what) {
    if (t.shape() != ref.shape || t.dtype() != xgrad::Dtype::f32)
        fuzz_fail(what + ": wrong shape or dtype");
    exercise_tensor(t, what);
    for (std::size_t i = 0; i < ref.count; ++i) {
        const double v = ref.value(i) * scale;
        const float got = t.data_ptr<float>()[i];
        if (std::isnan(v)
                ? !std::isnan(got)
                : std::fabs(v) <= std::numeric_limits<float>::max() && got != static_cast<float>(v))
            fuzz_fail(what + ": element " + std::to_string(i) + " differs from the file");
    }
}

// What check_idx_file found.
struct IdxCheck {
    bool ok = false;         // read_idx accepted the file
    bool expensive = false;  // a small file whose header claims much data (see below)
};

// Reads `path` (holding `bytes`) with read_idx and read_idx_float and checks both against the
// oracle; the tensor read_idx returned goes to `out`.
//
// A short file whose header claims more than 1 MiB of data makes the reader reserve up to
// 64 MiB before it finds the file truncated; under ASan that costs milliseconds. Such inputs
// are read once (read_idx), not twice, and callers skip further work on them.
inline IdxCheck check_idx_file(const std::string& path, const std::string& bytes,
                               xgrad::Tensor& out) {
    namespace data = xgrad::data;
    IdxCheck result;
    std::string error;
    result.ok = accepts([&] { out = data::read_idx(path); }, &error);
    note("read_idx '" + path + "'", result.ok, error);
    const bool ok = result.ok;

    // The oracle.
    std::string content = bytes, why;
    bool known = true;  // false: too large to decide here (only "no crash" is checked)
    bool expect = true;
    if (is_gzip(bytes)) {
        const Gunzip g = strict_gunzip(bytes, content, why);
        known = g != Gunzip::too_large;
        expect = g == Gunzip::ok;
    }
    IdxRef ref;
    if (known && expect) {
        ref = idx_reference(content);
        expect = ref.ok;
        why = ref.why;
        result.expensive = !ref.ok && ref.claimed > (std::uint64_t(1) << 20);
    }
    if (known && ok && !expect) fuzz_fail("read_idx accepts an invalid file: " + why);
    if (known && !ok && expect) fuzz_fail("read_idx rejects a valid file: " + error);
    if (result.expensive) return result;

    xgrad::Tensor as_float;
    std::string float_error;
    const bool float_ok =
        accepts([&] { as_float = data::read_idx_float(path, 1.0 / 255.0); }, &float_error);
    if (ok != float_ok)
        fuzz_fail("read_idx " + std::string(ok ? "accepts" : "rejects (" + error + ")") +
                  " but read_idx_float " +
                  (float_ok ? std::string("accepts") : "rejects (" + float_error + ")"));
    if (!ok || !known) return result;
    check_idx_values(out, ref, "read_idx");
    check_idx_float_values(as_float, ref, 1.0 / 255.0, "read_idx_float");
    return result;
}

// load_idx_dataset with the accepted file `path` (shape `shape`) as the images (2 dims or
// more) or the labels (1 dim), and a generated file of the other kind; options from `flags`.
inline void check_idx_dataset(const std::string& path, const xgrad::Tensor& t,
                              const TempFile& other, unsigned char flags) {
    namespace data = xgrad::data;
    const xgrad::Shape& shape = t.shape();
    const std::int64_t n = shape[0];
    if (n > 4096) return;  // keep the generated file small
    const bool as_images = shape.size() >= 2;
    if (!as_images && t.dtype() != xgrad::Dtype::i64) return;  // labels are integers
    other.write(as_images ? make_idx_u8({n}) : make_idx_u8({n, 2, 2}));
    data::IdxDatasetOptions options;
    options.flatten = flags & 1;
    options.normalize = flags & 2;
    options.limit = flags & 4 ? n / 2 : flags & 8 ? n + 1 : -1;
    const std::int64_t rows = options.limit < 0 ? n : std::min(options.limit, n);
    data::TensorDataset ds;
    std::string error;
    if (!accepts(
            [&] {
                ds = as_images ? data::load_idx_dataset(path, other.path(), options)
                               : data::load_idx_dataset(other.path(), path, options);
            },
            &error))
        fuzz_fail("load_idx_dataset rejects valid files: " + error);
    other.remove();
    if (ds.size() != rows || ds.inputs().size(0) != rows || ds.targets().size(0) != rows)
        fuzz_fail("load_idx_dataset: wrong sample count");
    exercise_tensor(ds.inputs(), "load_idx_dataset inputs");
    exercise_tensor(ds.targets(), "load_idx_dataset targets");
    if (!as_images) {
        for (std::int64_t i = 0; i < rows; ++i)
            if (ds.targets().data_ptr<std::int64_t>()[i] != t.data_ptr<std::int64_t>()[i])
                fuzz_fail("load_idx_dataset: label " + std::to_string(i) + " differs");
    }
}

}  // namespace xgrad_fuzz
