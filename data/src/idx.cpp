// IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed (decompressed with zlib's inflate).
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <xgrad/core/check.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/data/idx.hpp>

#include "atomic_file.hpp"

namespace xgrad::data {

namespace {

using fileio::quoted;
using fileio::raise_file;

constexpr int kMaxDims = 16;
// Deflate cannot expand data by more than 1032:1 (a 258-byte match in 2 bits), so a gzip file of
// S bytes holds less than this many times S decompressed bytes.
constexpr std::uint64_t kMaxGzipRatio = 1032;

std::size_t type_size(int code) {
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

bool is_integer_type(int code) {
    return code == 0x08 || code == 0x09 || code == 0x0B || code == 0x0C;
}

// Sequential reads of a regular file, decompressed when it starts with the gzip magic bytes
// 1F 8B. A gzip file must be one or more complete gzip members (as `cat a.gz b.gz` makes, and
// gunzip accepts) and nothing else: corrupt data, a truncated member or bytes after the last
// member (trailing garbage, zero padding included) are errors.
class Reader {
  public:
    Reader(const char* who, const std::string& path)
        : who_(who), path_(path), file_(who, path), in_(std::size_t(1) << 17) {
        fill();
        gzip_ = in_len_ >= 2 && in_[0] == 0x1F && in_[1] == 0x8B;
        if (gzip_ && inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK)
            raise_file<OutOfMemoryError>(who_, path_, "cannot start zlib's inflate");
        z_ready_ = gzip_;
    }
    ~Reader() {
        if (z_ready_) inflateEnd(&z_);
    }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    // Reads up to n bytes; fewer only at the end of the data. Corrupt or truncated gzip data
    // and bytes after the last gzip member are errors.
    std::size_t read(void* dst, std::size_t n) {
        const std::size_t got = gzip_ ? inflate_some(static_cast<unsigned char*>(dst), n)
                                      : copy_some(static_cast<unsigned char*>(dst), n);
        offset_ += got;
        return got;
    }

    bool gzip() const { return gzip_; }
    // The size of the file on disk.
    std::uint64_t file_size() const { return file_.size(); }
    std::uint64_t offset() const { return offset_; }
    // " of the decompressed data" for gzip files, for messages.
    std::string where() const { return gzip_ ? " of the decompressed data" : ""; }

  private:
    // Makes at least `want` unread bytes available in in_ if the file has them; false at the end
    // of the file with fewer.
    bool fill(std::size_t want = 1) {
        if (in_len_ - in_pos_ >= want) return true;
        std::memmove(in_.data(), in_.data() + in_pos_, in_len_ - in_pos_);
        in_len_ -= in_pos_;
        in_pos_ = 0;
        while (in_len_ < want) {
            const std::size_t got = file_.read(in_.data() + in_len_, in_.size() - in_len_);
            if (got == 0) return false;
            in_len_ += got;
            bytes_read_ += got;
        }
        return true;
    }

    std::size_t copy_some(unsigned char* dst, std::size_t n) {
        std::size_t done = 0;
        while (done < n) {
            if (in_pos_ == in_len_) {
                if (n - done >= in_.size()) {  // large reads go straight to the destination
                    const std::size_t got = file_.read(dst + done, n - done);
                    bytes_read_ += got;
                    done += got;
                    break;
                }
                if (!fill()) break;
            }
            const std::size_t k = std::min(n - done, in_len_ - in_pos_);
            std::memcpy(dst + done, in_.data() + in_pos_, k);
            in_pos_ += k;
            done += k;
        }
        return done;
    }

    std::size_t inflate_some(unsigned char* dst, std::size_t n) {
        std::size_t done = 0;
        while (done < n) {
            if (member_ended_) {
                // Another member, or the end of the file; anything else is trailing garbage.
                if (!fill()) break;
                if (!fill(2) || in_[in_pos_] != 0x1F || in_[in_pos_ + 1] != 0x8B)
                    raise_file(who_, path_, "unexpected bytes after the last gzip member, at byte ",
                               "offset ", compressed_offset(),
                               " of the file (trailing garbage; the decompressed data ends at "
                               "byte offset ",
                               offset_ + done, ")");
                if (inflateReset(&z_) != Z_OK) corrupt(done);
                member_ended_ = false;
            }
            if (in_pos_ == in_len_ && !fill())
                raise_file(who_, path_, "the gzip stream is truncated (it ends after ",
                           offset_ + done, " decompressed bytes)");
            z_.next_in = in_.data() + in_pos_;
            z_.avail_in = static_cast<uInt>(std::min<std::size_t>(in_len_ - in_pos_, UINT_MAX));
            z_.next_out = dst + done;
            z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - done, UINT_MAX));
            const uInt out_before = z_.avail_out;
            const int rc = inflate(&z_, Z_NO_FLUSH);
            in_pos_ = static_cast<std::size_t>(z_.next_in - in_.data());
            done += out_before - z_.avail_out;
            if (rc == Z_STREAM_END) {
                member_ended_ = true;
            } else if (rc == Z_MEM_ERROR) {
                raise_file<OutOfMemoryError>(who_, path_, "zlib ran out of memory");
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                corrupt(done);
            }
        }
        return done;
    }

    // The byte offset in the file of the next unread byte.
    std::uint64_t compressed_offset() const { return bytes_read_ - (in_len_ - in_pos_); }

    [[noreturn]] void corrupt(std::size_t done) {
        raise_file(who_, path_, "corrupt gzip data after byte offset ", offset_ + done, where(),
                   ": ", z_.msg ? z_.msg : "unknown error");
    }

    const char* who_;
    std::string path_;
    fileio::InputFile file_;
    std::vector<unsigned char> in_;  // compressed (or raw) bytes read ahead
    std::size_t in_pos_ = 0, in_len_ = 0;
    std::uint64_t bytes_read_ = 0;  // from the file into in_ (or straight to a destination)
    bool gzip_ = false;
    z_stream z_{};
    bool z_ready_ = false;
    bool member_ended_ = false;
    std::uint64_t offset_ = 0;  // decompressed bytes delivered
};

struct IdxRaw {
    std::string path;
    int type = 0;
    Shape shape;
    std::uint64_t data_offset = 0;  // bytes of header
    std::vector<unsigned char> data;
};

IdxRaw read_raw(const char* who, const std::string& path) {
    Reader in(who, path);
    IdxRaw raw;
    raw.path = path;
    unsigned char magic[4];
    const std::size_t got_magic = in.read(magic, 4);
    if (got_magic < 4)
        raise_file(who, path, "truncated: the file ends at byte offset ", got_magic, in.where(),
                   ", inside the 4-byte magic number");
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2], magic[3]);
    if (magic[0] != 0 || magic[1] != 0 || type_size(magic[2]) == 0)
        raise_file(who, path, "wrong magic number ", hex,
                   " at byte offset 0 (an IDX file starts with two zero bytes and a type code "
                   "0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E, e.g. 0x00000803 for images and "
                   "0x00000801 for labels)");
    if (magic[3] == 0 || magic[3] > kMaxDims)
        raise_file(who, path, "magic number ", hex, " at byte offset 0 gives ", int(magic[3]),
                   " dimensions (expected 1 to ", kMaxDims, ")");
    raw.type = magic[2];
    const int ndim = magic[3];
    std::vector<unsigned char> dims(static_cast<std::size_t>(ndim) * 4);
    const std::size_t got_dims = in.read(dims.data(), dims.size());
    if (got_dims < dims.size())
        raise_file(who, path, "truncated: the header needs ", 4 + dims.size(), " bytes for its ",
                   ndim, " dimensions, but the file ends at byte offset ", 4 + got_dims,
                   in.where());
    for (int d = 0; d < ndim; ++d) {
        const unsigned char* b = dims.data() + 4 * d;
        raw.shape.push_back((std::int64_t(b[0]) << 24) | (std::int64_t(b[1]) << 16) |
                            (std::int64_t(b[2]) << 8) | std::int64_t(b[3]));
    }
    raw.data_offset = 4 + dims.size();
    // The element count (non-zero extents included) and byte size within 2^62.
    const std::uint64_t expected =
        fileio::checked_file_nbytes(who, path, "the header's ", raw.shape, type_size(raw.type));
    const std::uint64_t end = raw.data_offset + expected;
    auto truncated = [&](std::uint64_t file_end) {
        raise_file(who, path, "truncated: the header's shape ", raw.shape, " needs ", expected,
                   " data bytes from byte offset ", raw.data_offset,
                   ", but the file ends at byte offset ", file_end, in.where());
    };
    auto leftovers = [&] {
        raise_file(who, path, "unexpected bytes after the data: the header's shape ", raw.shape,
                   " ends the file at byte offset ", end, in.where(), ", but it goes on");
    };

    // Nothing is allocated for more data than the file can hold: a raw file must have exactly
    // the size the header gives, and a gzip file cannot expand past kMaxGzipRatio.
    if (!in.gzip()) {
        if (end > in.file_size()) truncated(in.file_size());
        if (end < in.file_size()) leftovers();
    } else if (end / kMaxGzipRatio > in.file_size()) {
        raise_file(who, path, "the header's shape ", raw.shape, " needs ", expected,
                   " data bytes, but a gzip file of ", in.file_size(),
                   " bytes cannot hold more than ", in.file_size() * kMaxGzipRatio,
                   " (truncated or corrupt?)");
    }
    raw.data.resize(static_cast<std::size_t>(expected));
    const std::size_t got = in.read(raw.data.data(), raw.data.size());
    if (got < expected) truncated(raw.data_offset + got);
    unsigned char extra;
    if (in.read(&extra, 1) > 0) leftovers();  // also checks the gzip trailer and trailing bytes
    return raw;
}

std::uint64_t load_be(const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

// Element i as a double (exact for every IDX type but float64, where it is the value itself).
template <class F>
void for_each_value(const IdxRaw& raw, std::size_t count, F&& f) {
    const std::size_t size = type_size(raw.type);
    const unsigned char* p = raw.data.data();
    for (std::size_t i = 0; i < count; ++i, p += size) {
        const std::uint64_t bits = load_be(p, size);
        switch (raw.type) {
            case 0x08:
                f(i, static_cast<double>(bits));
                break;
            case 0x09:
                f(i, static_cast<double>(static_cast<std::int8_t>(bits)));
                break;
            case 0x0B:
                f(i, static_cast<double>(static_cast<std::int16_t>(bits)));
                break;
            case 0x0C:
                f(i, static_cast<double>(static_cast<std::int32_t>(bits)));
                break;
            case 0x0D: {
                const auto u = static_cast<std::uint32_t>(bits);
                float v;
                std::memcpy(&v, &u, 4);
                f(i, static_cast<double>(v));
                break;
            }
            default: {
                double v;
                std::memcpy(&v, &bits, 8);
                f(i, v);
            }
        }
    }
}

// The first `rows` entries (along dim 0) of `raw` as a tensor of `shape`: raw values (int64,
// float32 or float64) or float32 times `scale`.
Tensor to_tensor(const IdxRaw& raw, std::int64_t rows, const Shape& shape, bool as_float,
                 double scale) {
    const std::int64_t per_row = raw.shape[0] == 0 ? 0 : shape_numel(raw.shape) / raw.shape[0];
    // rows <= raw.shape[0], so count <= the element count read_raw checked.
    const auto count = static_cast<std::size_t>(rows * per_row);
    if (as_float) {
        Tensor t = make_tensor(shape, Dtype::f32);
        float* out = t.data_ptr<float>();
        if (raw.type == 0x08) {  // the common case: a table of the 256 byte values
            float table[256];
            for (int v = 0; v < 256; ++v) table[v] = static_cast<float>(v * scale);
            for (std::size_t i = 0; i < count; ++i) out[i] = table[raw.data[i]];
        } else {
            for_each_value(raw, count, [&](std::size_t i, double v) {
                out[i] = static_cast<float>(v * scale);
            });
        }
        return t;
    }
    if (is_integer_type(raw.type)) {
        Tensor t = make_tensor(shape, Dtype::i64);
        std::int64_t* out = t.data_ptr<std::int64_t>();
        for_each_value(raw, count,
                       [&](std::size_t i, double v) { out[i] = static_cast<std::int64_t>(v); });
        return t;
    }
    if (raw.type == 0x0D) {
        Tensor t = make_tensor(shape, Dtype::f32);
        float* out = t.data_ptr<float>();
        for_each_value(raw, count,
                       [&](std::size_t i, double v) { out[i] = static_cast<float>(v); });
        return t;
    }
    Tensor t = make_tensor(shape, Dtype::f64);
    double* out = t.data_ptr<double>();
    for_each_value(raw, count, [&](std::size_t i, double v) { out[i] = v; });
    return t;
}

bool is_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string find_file(const char* who, const std::string& folder,
                      const std::vector<std::string>& names) {
    std::string tried;
    for (const auto& n : names)
        for (const char* ext : {"", ".gz"}) {
            const std::string path = folder + "/" + n + ext;
            if (is_file(path)) return path;
            tried += (tried.empty() ? "" : ", ") + n + ext;
        }
    raise_file(who, folder, "none of these files is there: ", tried);
}

// `who` as the public API spells it ("xgrad::data::MNIST::load"), without the "xgrad::" that
// the error messages add.
const char* op_name(const char* who) {
    return std::strncmp(who, "xgrad::", 7) == 0 ? who + 7 : who;
}

// f(), with every failure naming `path` (no std::bad_alloc or std::length_error escapes).
template <class F>
auto naming_file(const char* who, const std::string& path, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (...) {
        fileio::rethrow_load_error(who, path);
    }
}

}  // namespace

Tensor read_idx(const std::string& path) {
    const char* who = "data::read_idx";
    return naming_file(who, path, [&] {
        const IdxRaw raw = read_raw(who, path);
        return to_tensor(raw, raw.shape[0], raw.shape, false, 1.0);
    });
}

Tensor read_idx_float(const std::string& path, double scale) {
    const char* who = "data::read_idx_float";
    return naming_file(who, path, [&] {
        const IdxRaw raw = read_raw(who, path);
        return to_tensor(raw, raw.shape[0], raw.shape, true, scale);
    });
}

TensorDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                               IdxDatasetOptions options) {
    const char* who = "data::load_idx_dataset";
    XGRAD_CHECK(options.limit >= -1, ValueError, who, "limit must be -1 (all) or >= 0, got ",
                options.limit);
    const IdxRaw images = naming_file(who, images_path, [&] { return read_raw(who, images_path); });
    if (images.shape.size() < 2)
        raise_file(who, images_path, "an images file needs shape [N, H, W] or [N, D], got ",
                   images.shape);
    const IdxRaw labels = naming_file(who, labels_path, [&] { return read_raw(who, labels_path); });
    if (labels.shape.size() != 1 || !is_integer_type(labels.type))
        raise_file(who, labels_path,
                   "a labels file holds one integer per sample (shape [N]), got shape ",
                   labels.shape, is_integer_type(labels.type) ? "" : " of floats");
    if (labels.shape[0] != images.shape[0])
        raise<ValueError>(who, "the labels file ", quoted(labels_path), " has ", labels.shape[0],
                          " labels (count at byte offset 4), but the images file ",
                          quoted(images_path), " has ", images.shape[0],
                          " images (count at byte offset 4)");
    const std::int64_t n = options.limit < 0
                               ? images.shape[0]
                               : std::min<std::int64_t>(options.limit, images.shape[0]);
    Shape shape = images.shape;
    shape[0] = n;
    // read_raw checked that the non-zero extents multiply to at most 2^62.
    const std::int64_t per_sample = checked_numel(Shape(shape.begin() + 1, shape.end()), who);
    if (options.flatten)
        shape = {n, per_sample};
    else if (shape.size() == 3)
        shape.insert(shape.begin() + 1, 1);  // one channel
    Tensor x = naming_file(who, images_path, [&] {
        return to_tensor(images, n, shape, true, options.normalize ? 1.0 / 255.0 : 1.0);
    });
    Tensor y =
        naming_file(who, labels_path, [&] { return to_tensor(labels, n, Shape{n}, false, 1.0); });
    return TensorDataset(x, y);
}

TensorDataset load_mnist_folder(const std::string& folder, Split split, IdxDatasetOptions options,
                                const char* who) {
    const char* op = op_name(who);
    const std::string p = split == Split::Train ? "train" : "t10k";
    const std::string images =
        find_file(op, folder, {p + "-images-idx3-ubyte", p + "-images.idx3-ubyte"});
    const std::string labels =
        find_file(op, folder, {p + "-labels-idx1-ubyte", p + "-labels.idx1-ubyte"});
    return load_idx_dataset(images, labels, options);
}

TensorDataset MNIST::load(const std::string& folder, Split split, IdxDatasetOptions options) {
    return load_mnist_folder(folder, split, options, "xgrad::data::MNIST::load");
}

const std::vector<std::string>& MNIST::classes() {
    static const std::vector<std::string> names{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    return names;
}

TensorDataset FashionMNIST::load(const std::string& folder, Split split,
                                 IdxDatasetOptions options) {
    return load_mnist_folder(folder, split, options, "xgrad::data::FashionMNIST::load");
}

const std::vector<std::string>& FashionMNIST::classes() {
    static const std::vector<std::string> names{"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                "Bag",         "Ankle boot"};
    return names;
}

}  // namespace xgrad::data
