// Writes the committed seed corpora (fuzz/corpus/<target>/) and the audit's known-bad inputs
// (fuzz/regression/<target>/). Deterministic: running it again rewrites the same bytes. It only
// writes the files named here; other files (crashes added to regression/ later) stay.
//
//   ninja -C build-fuzz fuzz_make_seeds && build-fuzz/fuzz/fuzz_make_seeds fuzz
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <xgrad/core/creation.hpp>
#include <xgrad/core/safetensors.hpp>
#include <xgrad/nn/serialization.hpp>

#include "checkpoint_fixture.hpp"
#include "idx_common.hpp"

using namespace xgrad;
using namespace xgrad_fuzz;

namespace {

std::string root;

void make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        std::perror(path.c_str());
        std::exit(1);
    }
}

std::string dir(const std::string& kind, const std::string& target) {
    make_dir(root + "/" + kind);
    make_dir(root + "/" + kind + "/" + target);
    return root + "/" + kind + "/" + target + "/";
}

void put(const std::string& kind, const std::string& target, const std::string& name,
         const std::string& bytes) {
    const std::string path = dir(kind, target) + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        std::perror(path.c_str());
        std::exit(1);
    }
    std::printf("%6zu  %s\n", bytes.size(), path.c_str());
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A safetensors file with a hand-written header (padded to 8 bytes) and data.
std::string safetensors_bytes(std::string header, const std::string& data) {
    header.append((8 - header.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    return out + header + data;
}

// An IDX file of `type` with the given shape and big-endian element bytes.
std::string idx_bytes(int type, const Shape& shape, const std::string& data) {
    std::string out{'\0', '\0', static_cast<char>(type), static_cast<char>(shape.size())};
    for (const std::int64_t d : shape)
        for (int k = 3; k >= 0; --k) out += static_cast<char>((d >> (8 * k)) & 0xFF);
    return out + data;
}

// One gzip member with a file name, a comment and a header CRC.
std::string gzip_with_header(const std::string& bytes) {
    z_stream s{};
    deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    gz_header h{};
    char name[] = "t10k-labels-idx1-ubyte";
    char comment[] = "seed";
    h.name = reinterpret_cast<Bytef*>(name);
    h.comment = reinterpret_cast<Bytef*>(comment);
    h.hcrc = 1;
    h.os = 3;
    deflateSetHeader(&s, &h);
    std::string out(deflateBound(&s, static_cast<uLong>(bytes.size())) + 64, '\0');
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    s.avail_in = static_cast<uInt>(bytes.size());
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(out.size());
    deflate(&s, Z_FINISH);
    out.resize(out.size() - s.avail_out);
    deflateEnd(&s);
    return out;
}

void safetensors_seeds() {
    manual_seed(3);
    put("corpus", "safetensors", "f32_2x3.safetensors",
        serialize_safetensors({{"weight", randn({2, 3})}}));
    put("corpus", "safetensors", "all_dtypes.safetensors",
        serialize_safetensors({{"scalar", scalar_tensor(2.5, TensorOptions{Dtype::f64})},
                               {"index", arange<std::int64_t>(4)},
                               {"mask", tensor({true, false, true})},
                               {"w", randn({2, 2})}},
                              {{"epoch", "3"}, {"note", "seed"}}));
    put("corpus", "safetensors", "empty_tensor.safetensors",
        serialize_safetensors({{"empty", zeros({0, 4})}, {"one", ones({1})}}));
    put("corpus", "safetensors", "metadata_only.safetensors",
        serialize_safetensors({}, {{"format", "pt"}}));
    nn::Linear linear(3, 2);
    const nn::StateDict state = linear.state_dict();
    put("corpus", "safetensors", "linear_state.safetensors",
        serialize_safetensors(std::map<std::string, Tensor>(state.begin(), state.end())));
    // Written by hand: JSON escapes, spaces, key order other than xgrad's.
    put("corpus", "safetensors", "handwritten.safetensors",
        safetensors_bytes("{ \"mask\" : {\"shape\": [2], \"dtype\": \"BOOL\", \"data_offsets\": "
                          "[0, 2]}, \"__metadata__\": {\"caf\\u00e9\": \"a\\nb\"}}",
                          std::string("\x00\x01", 2)));

    // The audit: an empty tensor whose extents multiply past int64 with the element size.
    const std::string huge = safetensors_bytes(
        "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3037000499,3037000499],\"data_offsets\":[0,0]}}",
        "");
    put("regression", "safetensors", "empty_f32_0x3037000499x3037000499.safetensors", huge);
    put("regression", "checkpoint", "empty_f32_0x3037000499x3037000499.safetensors", huge);
}

void checkpoint_seeds() {
    const std::string d = dir("corpus", "checkpoint");
    {
        CheckpointFixture f(7);
        f.train(3);
        nn::save_checkpoint(d + "adam_steplr.ckpt", f.model, f.adam, f.sched, {{"epoch", "3"}});
        nn::save_checkpoint(d + "sgd.ckpt", f.model, f.sgd);
        nn::save(f.model, d + "model.safetensors", {{"epoch", "3"}});
        nn::save_state(f.sgd, d + "sgd_state.safetensors");
        nn::save_state(f.adam, d + "adam_state.safetensors");
        nn::save_state(f.sched, d + "steplr_state.safetensors");
    }
    {
        CheckpointFixture f(8);  // untrained: the optimizers have no per-parameter state yet
        nn::save_checkpoint(d + "fresh_adam_steplr.ckpt", f.model, f.adam, f.sched);
    }
    for (const char* name :
         {"adam_steplr.ckpt", "sgd.ckpt", "model.safetensors", "sgd_state.safetensors",
          "adam_state.safetensors", "steplr_state.safetensors", "fresh_adam_steplr.ckpt"})
        std::printf("%6zu  %s%s\n", read_file(d + name).size(), d.c_str(), name);
}

void idx_seeds() {
    std::string images;
    for (int i = 0; i < 12; ++i) images += static_cast<char>(i * 21);
    const std::string u8_images = idx_bytes(0x08, {3, 2, 2}, images);
    const std::string u8_labels = idx_bytes(0x08, {5}, std::string("\x07\x02\x01\x00\x04", 5));
    const std::string f32 =
        idx_bytes(0x0D, {2}, std::string("\x3F\xC0\x00\x00\xFF\x80\x00\x00", 8));  // 1.5, -inf
    put("corpus", "idx", "u8_images_3x2x2.idx", u8_images);
    put("corpus", "idx", "u8_labels_5.idx", u8_labels);
    put("corpus", "idx", "i8_4.idx", idx_bytes(0x09, {4}, std::string("\x01\xFF\x80\x7F", 4)));
    put("corpus", "idx", "i16_2x2.idx",
        idx_bytes(0x0B, {2, 2}, std::string("\x00\x01\xFF\xFE\x80\x00\x7F\xFF", 8)));
    put("corpus", "idx", "i32_3.idx",
        idx_bytes(0x0C, {3}, std::string("\x00\x00\x00\x01\xFF\xFF\xFF\xFF\x80\x00\x00\x00", 12)));
    put("corpus", "idx", "f32_2.idx", f32);
    put("corpus", "idx", "f64_1x2.idx",
        idx_bytes(0x0E, {1, 2},
                  std::string("\x3F\xF0\x00\x00\x00\x00\x00\x00\xC0\x59\x00\x00\x00\x00\x00\x00",
                              16)));  // 1, -100
    put("corpus", "idx", "empty_0x28.idx", idx_bytes(0x08, {0, 28}, ""));

    put("corpus", "idx_gzip", "u8_images_3x2x2.idx.gz", gzip(u8_images));
    put("corpus", "idx_gzip", "u8_labels_5.idx.gz", gzip_with_header(u8_labels));
    put("corpus", "idx_gzip", "f32_2.idx.gz", gzip(f32));
    // Two members: the header in one, the data in the next (zlib reads them as one stream).
    put("corpus", "idx_gzip", "two_members.idx.gz",
        gzip(u8_images.substr(0, 16)) + gzip(u8_images.substr(16)));
    put("corpus", "idx_gzip", "empty_0x28.idx.gz", gzip(idx_bytes(0x08, {0, 28}, "")));

    // The audit: a header claiming 3 extents of 2^32 - 1 (raw and gzip), trailing garbage.
    const std::string huge = idx_bytes(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, "");
    put("regression", "idx", "huge_dims_ffffffff_x3.idx", huge);
    put("regression", "idx_gzip", "huge_dims_ffffffff_x3.idx.gz", gzip(huge));
    put("regression", "idx_gzip", "trailing_garbage.idx.gz", gzip(u8_labels) + "garbage!");
}

// A CSV input: the options byte (see fuzz_csv.cpp), then the text.
std::string csv(unsigned char options, const std::string& text) {
    return std::string(1, static_cast<char>(options)) + text;
}

void csv_seeds() {
    put("corpus", "csv", "iris_classes.csv",
        csv(0x00,
            "sepal_length,sepal_width,species\n5.1,3.5,setosa\n4.9,3.0,setosa\n6.3,2.9,"
            "virginica\n"));
    put("corpus", "csv", "regression.csv",
        csv(0x00, "x1,x2,y\n1,2,3.5\n-1.5e2,+4,0.25\n.5,7.,1E-3\n"));
    put("corpus", "csv", "numeric_classes.csv", csv(0x20, "a,b,label\n1,2,10\n3,4,2\n5,6,10\n"));
    put("corpus", "csv", "quoted_crlf_regression.csv",
        csv(0x40, "\"a, b\",y\r\n\"1\",2\r\n 3 , 4 \r\n"));
    put("corpus", "csv", "bom_semicolon_blank_lines.csv",
        csv(0x02,
            "\xEF\xBB\xBF"
            "a;b;y\n1;2;x\n\n  \n3;4;z\n"));
    put("corpus", "csv", "no_header_no_target.csv", csv(0x09, "1,2,3\n4,5,6\n"));
    put("corpus", "csv", "tab_float64.csv", csv(0x64, "a\tb\ty\n0.1\t1e-3\t2\n-0\t5e+2\t3\n"));
    put("corpus", "csv", "space_target_first.csv", csv(0x16, "y a b\nfoo 1 2\nbar 3 4\n"));
    put("corpus", "csv", "named_target_read_csv.csv",
        csv(0x98, "a,y,b\n1,cat,2\n3,\"dog \"\"x\"\"\",4\n"));

    // The audit: 1e300 is finite as a double but not as float32; "+-1" is not a number.
    put("regression", "csv", "float32_overflow_1e300.csv", csv(0x00, "x,y\n1e300,1\n"));
    put("regression", "csv", "float32_overflow_1e300_target.csv", csv(0x40, "x,y\n1,1e300\n"));
    put("regression", "csv", "plus_minus_1.csv", csv(0x00, "x,y\n+-1,2\n"));
    put("regression", "csv", "plus_minus_1_target.csv", csv(0x40, "x,y\n1,+-1\n"));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <the fuzz folder of the source tree>\n", argv[0]);
        return 2;
    }
    root = argv[1];
    safetensors_seeds();
    checkpoint_seeds();
    idx_seeds();
    csv_seeds();
    return 0;
}
