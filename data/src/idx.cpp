// IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed, read through zlib.
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/data/idx.hpp>

namespace xgrad::data {

namespace {

constexpr int kMaxDims = 16;

std::string quoted(const std::string& s) {
    return "'" + s + "'";
}

[[noreturn]] void fail(const char* who, const std::string& path, const std::string& what) {
    throw ValueError(std::string(who) + ": " + quoted(path) + ": " + what);
}

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

// Sequential reads through zlib (which reads uncompressed files as they are).
class Reader {
  public:
    Reader(const char* who, const std::string& path) : who_(who), path_(path) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0)
            fail(who, path, std::string("cannot open: ") + std::strerror(errno));
        if (!S_ISREG(st.st_mode)) fail(who, path, "not a regular file");
        file_ = gzopen(path.c_str(), "rb");
        if (!file_) fail(who, path, std::string("cannot open: ") + std::strerror(errno));
        gzbuffer(file_, 1u << 17);
    }
    ~Reader() {
        if (file_) gzclose(file_);
    }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    // Reads up to n bytes; fewer only at the end of the data. Corrupt or truncated gzip data
    // is an error.
    std::size_t read(void* dst, std::size_t n) {
        auto* p = static_cast<unsigned char*>(dst);
        std::size_t done = 0;
        while (done < n) {
            const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
            const int got = gzread(file_, p + done, chunk);
            if (got < 0) corrupt();
            done += static_cast<std::size_t>(got);
            offset_ += static_cast<std::uint64_t>(got);
            if (static_cast<unsigned>(got) < chunk) {
                int err = Z_OK;
                gzerror(file_, &err);
                if (err == Z_BUF_ERROR)
                    fail(who_, path_,
                         "the gzip stream is truncated (it ends after " + std::to_string(offset_) +
                             " decompressed bytes)");
                if (err != Z_OK) corrupt();
                break;
            }
        }
        return done;
    }

    std::uint64_t offset() const { return offset_; }
    // " of the decompressed data" for gzip files, for messages.
    std::string where() const { return gzdirect(file_) ? "" : " of the decompressed data"; }

  private:
    [[noreturn]] void corrupt() {
        int err = Z_OK;
        const char* msg = gzerror(file_, &err);
        fail(who_, path_,
             std::string(err == Z_ERRNO ? "read error" : "corrupt gzip data") +
                 " after byte offset " + std::to_string(offset_) + where() + ": " +
                 (err == Z_ERRNO ? std::strerror(errno) : (msg ? msg : "unknown error")));
    }

    const char* who_;
    std::string path_;
    gzFile file_ = nullptr;
    std::uint64_t offset_ = 0;
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
        fail(who, path,
             "truncated: the file ends at byte offset " + std::to_string(got_magic) + in.where() +
                 ", inside the 4-byte magic number");
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2], magic[3]);
    if (magic[0] != 0 || magic[1] != 0 || type_size(magic[2]) == 0)
        fail(who, path,
             std::string("wrong magic number ") + hex +
                 " at byte offset 0 (an IDX file starts with two zero bytes and a type code "
                 "0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E, e.g. 0x00000803 for images and 0x00000801 "
                 "for labels)");
    if (magic[3] == 0 || magic[3] > kMaxDims)
        fail(who, path,
             std::string("magic number ") + hex + " at byte offset 0 gives " +
                 std::to_string(magic[3]) + " dimensions (expected 1 to " +
                 std::to_string(kMaxDims) + ")");
    raw.type = magic[2];
    const int ndim = magic[3];
    std::vector<unsigned char> dims(static_cast<std::size_t>(ndim) * 4);
    const std::size_t got_dims = in.read(dims.data(), dims.size());
    if (got_dims < dims.size())
        fail(who, path,
             "truncated: the header needs " + std::to_string(4 + dims.size()) + " bytes for its " +
                 std::to_string(ndim) + " dimensions, but the file ends at byte offset " +
                 std::to_string(4 + got_dims) + in.where());
    std::uint64_t numel = 1;
    const std::uint64_t limit = (std::uint64_t(1) << 62) / type_size(raw.type);
    for (int d = 0; d < ndim; ++d) {
        const unsigned char* b = dims.data() + 4 * d;
        const std::uint64_t v = (std::uint64_t(b[0]) << 24) | (std::uint64_t(b[1]) << 16) |
                                (std::uint64_t(b[2]) << 8) | std::uint64_t(b[3]);
        raw.shape.push_back(static_cast<std::int64_t>(v));
        if (__builtin_mul_overflow(numel, v, &numel) || numel > limit)
            fail(who, path, "the header's shape " + shape_str(raw.shape) + "... is too large");
    }
    raw.data_offset = 4 + dims.size();
    const std::uint64_t expected = numel * type_size(raw.type);

    // Read the data, at most one byte more than expected (to detect leftovers); allocation
    // follows the data actually present, never the header's claim alone.
    raw.data.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(expected + 1, 1u << 26)));
    const std::size_t chunk = std::size_t(1) << 20;
    while (raw.data.size() <= expected) {
        const std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>(chunk, expected + 1 - raw.data.size()));
        const std::size_t old = raw.data.size();
        raw.data.resize(old + want);
        const std::size_t got = in.read(raw.data.data() + old, want);
        raw.data.resize(old + got);
        if (got < want) break;
    }
    if (raw.data.size() < expected)
        fail(who, path,
             "truncated: the header's shape " + shape_str(raw.shape) + " needs " +
                 std::to_string(expected) + " data bytes from byte offset " +
                 std::to_string(raw.data_offset) + ", but the file ends at byte offset " +
                 std::to_string(raw.data_offset + raw.data.size()) + in.where());
    if (raw.data.size() > expected)
        fail(who, path,
             "unexpected bytes after the data: the header's shape " + shape_str(raw.shape) +
                 " ends the file at byte offset " + std::to_string(raw.data_offset + expected) +
                 in.where() + ", but it goes on");
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
    fail(who, folder, "none of these files is there: " + tried);
}

}  // namespace

Tensor read_idx(const std::string& path) {
    const IdxRaw raw = read_raw("xgrad::data::read_idx", path);
    return to_tensor(raw, raw.shape[0], raw.shape, false, 1.0);
}

Tensor read_idx_float(const std::string& path, double scale) {
    const IdxRaw raw = read_raw("xgrad::data::read_idx_float", path);
    return to_tensor(raw, raw.shape[0], raw.shape, true, scale);
}

TensorDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                               IdxDatasetOptions options) {
    const char* who = "xgrad::data::load_idx_dataset";
    if (options.limit < -1)
        throw ValueError(std::string(who) + ": limit must be -1 (all) or >= 0, got " +
                         std::to_string(options.limit));
    const IdxRaw images = read_raw(who, images_path);
    if (images.shape.size() < 2)
        fail(who, images_path,
             "an images file needs shape [N, H, W] or [N, D], got " + shape_str(images.shape));
    const IdxRaw labels = read_raw(who, labels_path);
    if (labels.shape.size() != 1 || !is_integer_type(labels.type))
        fail(who, labels_path,
             "a labels file holds one integer per sample (shape [N]), got shape " +
                 shape_str(labels.shape) + (is_integer_type(labels.type) ? "" : " of floats"));
    if (labels.shape[0] != images.shape[0])
        throw ValueError(std::string(who) + ": the labels file " + quoted(labels_path) + " has " +
                         std::to_string(labels.shape[0]) +
                         " labels (count at byte offset 4), but the images file " +
                         quoted(images_path) + " has " + std::to_string(images.shape[0]) +
                         " images (count at byte offset 4)");
    const std::int64_t n = options.limit < 0
                               ? images.shape[0]
                               : std::min<std::int64_t>(options.limit, images.shape[0]);
    Shape shape = images.shape;
    shape[0] = n;
    const std::int64_t per_sample = shape_numel(Shape(shape.begin() + 1, shape.end()));
    if (options.flatten)
        shape = {n, per_sample};
    else if (shape.size() == 3)
        shape.insert(shape.begin() + 1, 1);  // one channel
    Tensor x = to_tensor(images, n, shape, true, options.normalize ? 1.0 / 255.0 : 1.0);
    Tensor y = to_tensor(labels, n, Shape{n}, false, 1.0);
    return TensorDataset(x, y);
}

TensorDataset load_mnist_folder(const std::string& folder, Split split, IdxDatasetOptions options,
                                const char* who) {
    const std::string p = split == Split::Train ? "train" : "t10k";
    const std::string images =
        find_file(who, folder, {p + "-images-idx3-ubyte", p + "-images.idx3-ubyte"});
    const std::string labels =
        find_file(who, folder, {p + "-labels-idx1-ubyte", p + "-labels.idx1-ubyte"});
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
