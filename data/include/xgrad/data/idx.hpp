// The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected from the bytes,
// not the file name).
//
//   auto train = data::FashionMNIST::load("/usr/share/datasets/fashion-mnist", data::Split::Train);
//   // images [60000, 1, 28, 28] float32 in [0, 1], labels [60000] int64
//   auto test = data::FashionMNIST::load(folder, data::Split::Test, {.flatten = true});
//   // images [10000, 784]
//   Tensor labels = data::read_idx("t10k-labels-idx1-ubyte.gz");   // int64 [10000]
//
// An IDX file is: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
// 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, each dimension as a
// big-endian uint32, then the values, big-endian and row-major. A wrong magic number, a header or
// data shorter than the header says (truncated file), a shape of more than 2^62 elements or bytes
// (its non-zero extents count even when one extent is 0), bytes left over after the data, a
// corrupt or truncated gzip stream, bytes after the last gzip member (several concatenated
// members, as `cat a.gz b.gz` makes, are one valid stream), or a label count that differs from the
// image count are ValueErrors naming the file and the byte offset (in the decompressed data for
// .gz files). Only regular files are read (a FIFO, a folder or a device is a ValueError at once),
// and nothing is allocated for more data than the file can hold; running out of memory is an
// OutOfMemoryError naming the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <xgrad/core/tensor.hpp>
#include <xgrad/data/dataset.hpp>

namespace xgrad::data {

// The values as stored: integer types as int64, 0x0D as float32, 0x0E as float64.
Tensor read_idx(const std::string& path);
// The values as float32, each multiplied by `scale` (1/255 maps unsigned bytes into [0, 1]).
Tensor read_idx_float(const std::string& path, double scale = 1.0);

enum class Split { Train, Test };

struct IdxDatasetOptions {
    bool flatten = false;     // images [N, H*W] instead of [N, 1, H, W]
    bool normalize = true;    // pixel values / 255, in [0, 1]; false keeps 0..255 (as float32)
    std::int64_t limit = -1;  // keep only the first `limit` samples (-1: all)
};

// Images (an IDX file of [N, H, W], or [N, D]) and labels (an IDX file of [N] integers) as a
// TensorDataset of float32 images ([N, 1, H, W], or [N, D] / [N, H*W] with flatten) and int64
// labels.
TensorDataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                               IdxDatasetOptions options = {});

// The MNIST file set in `folder`: {train,t10k}-{images-idx3,labels-idx1}-ubyte, optionally with
// ".gz" (and the "images.idx3-ubyte" spelling some copies use). `who` names the caller in errors.
TensorDataset load_mnist_folder(const std::string& folder, Split split,
                                IdxDatasetOptions options = {}, const char* who = "xgrad::data");

// Handwritten digits (the file layout above; class i is the digit i).
struct MNIST {
    static TensorDataset load(const std::string& folder, Split split = Split::Train,
                              IdxDatasetOptions options = {});
    static const std::vector<std::string>& classes();
};

// Zalando's Fashion-MNIST (same layout; Debian's dataset-fashion-mnist installs it in
// /usr/share/datasets/fashion-mnist).
struct FashionMNIST {
    static TensorDataset load(const std::string& folder, Split split = Split::Train,
                              IdxDatasetOptions options = {});
    // "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
    // "Bag", "Ankle boot"
    static const std::vector<std::string>& classes();
};

}  // namespace xgrad::data
