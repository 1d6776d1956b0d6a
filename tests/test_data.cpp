// The data module: datasets, random_split, DataLoader (batching, shuffling, prefetch), IDX and
// CSV loaders with their error messages, Fashion-MNIST when installed, feature scaling.
#include <zlib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <thread>
#include <xgrad/data.hpp>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using test::be32;
using test::idx;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;

void write_gz(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
}

std::string ubytes(const std::vector<int>& v) {
    std::string s;
    for (int x : v) s += static_cast<char>(static_cast<unsigned char>(x));
    return s;
}

template <class E, class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception>";
}

// A dataset of n samples: input [2] = {i, -i}, target i; counts the batches it builds and can
// be slow or fail at one index.
class CountingDataset : public data::Dataset {
  public:
    explicit CountingDataset(std::int64_t n, int delay_ms = 0, std::int64_t fail_at = -1)
        : n_(n),
          delay_ms_(delay_ms),
          fail_at_(fail_at),
          built_(std::make_shared<std::atomic<int>>(0)) {}
    std::int64_t size() const override { return n_; }
    data::Example get(std::int64_t i) const override {
        check_index(i, "CountingDataset::get");
        if (i == fail_at_)
            throw ValueError("CountingDataset: sample " + std::to_string(i) + " is broken");
        return {tensor<float>({float(i), float(-i)}), scalar_tensor<std::int64_t>(i)};
    }
    data::Batch get_batch(const std::vector<std::int64_t>& indices) const override {
        if (delay_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
        ++*built_;
        return Dataset::get_batch(indices);  // the default stacking
    }
    int built() const { return *built_; }

  private:
    std::int64_t n_;
    int delay_ms_;
    std::int64_t fail_at_;
    std::shared_ptr<std::atomic<int>> built_;  // shared by copies (the loader copies datasets)
};

// The sample ids of every batch of one epoch (the first input column holds the id).
std::vector<std::vector<std::int64_t>> epoch_ids(data::DataLoader& loader) {
    std::vector<std::vector<std::int64_t>> out;
    for (auto& [x, y] : loader) {
        std::vector<std::int64_t> ids;
        for (float v : x.select(1, 0).to_vector<float>())
            ids.push_back(static_cast<std::int64_t>(v));
        CHECK(y.to_vector<std::int64_t>() == ids);
        out.push_back(ids);
    }
    return out;
}

std::vector<std::int64_t> flat(const std::vector<std::vector<std::int64_t>>& batches) {
    std::vector<std::int64_t> all;
    for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
    return all;
}

data::TensorDataset id_dataset(std::int64_t n) {
    Tensor ids = arange(std::int64_t(0), n);
    Tensor x = stack({ids.to(kFloat32), -ids.to(kFloat32)}, 1);
    return data::TensorDataset(x, ids);
}

}  // namespace

TEST_CASE("TensorDataset holds rows and random_split partitions them reproducibly", "[data]") {
    Tensor x = arange(0.0f, 30.0f).reshape({10, 3});
    Tensor y = arange(std::int64_t(0), std::int64_t(100), std::int64_t(10));
    data::TensorDataset ds(x, y);
    CHECK(ds.size() == 10);
    data::Example e = ds.get(3);
    CHECK(e.input.shape() == Shape{3});
    CHECK(e.input.to_vector<float>() == std::vector<float>{9, 10, 11});
    CHECK(e.target.dim() == 0);
    CHECK(e.target.item<std::int64_t>() == 30);
    CHECK_THROWS_AS(ds.get(10), IndexError);
    CHECK_THROWS_AS(ds.get(-1), IndexError);
    data::Batch b = ds.get_batch({4, 1, 1});
    CHECK(b.input.shape() == Shape{3, 3});
    CHECK(b.input.to_vector<float>() == std::vector<float>{12, 13, 14, 3, 4, 5, 3, 4, 5});
    CHECK(b.target.to_vector<std::int64_t>() == std::vector<std::int64_t>{40, 10, 10});
    b.input.fill_(-1.0);  // batches are copies
    CHECK(ds.inputs().to_vector<float>()[12] == 12.0f);
    CHECK_THROWS_AS(data::TensorDataset(x, arange(std::int64_t(0), std::int64_t(9))), ShapeError);
    CHECK_THROWS_AS(data::TensorDataset(scalar_tensor(1.0f)), ShapeError);
    CHECK_FALSE(data::TensorDataset(x).get(0).target.defined());

    Generator g1(42), g2(42), g3(43);
    auto parts = data::random_split(ds, {7, 3}, g1);
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].size() == 7);
    CHECK(parts[1].size() == 3);
    std::set<std::int64_t> all(parts[0].indices().begin(), parts[0].indices().end());
    all.insert(parts[1].indices().begin(), parts[1].indices().end());
    CHECK(all.size() == 10);
    CHECK(data::random_split(ds, {7, 3}, g2)[0].indices() == parts[0].indices());
    CHECK(data::random_split(ds, {7, 3}, g3)[0].indices() != parts[0].indices());
    // A subset's samples and batches come from its base dataset.
    const std::int64_t first = parts[1].indices()[0];
    CHECK(parts[1].get(0).target.item<std::int64_t>() == first * 10);
    CHECK(parts[1].get_batch({0}).target.to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{first * 10});
    CHECK_THAT(error_of<ValueError>([&] {
                   data::random_split(ds, {5, 3}, g1);
               }),
               Contains("add up to 8") && Contains("10 samples"));
    CHECK_THROWS_AS(data::random_split(ds, {11, -1}, g1), ValueError);
}

TEST_CASE("DataLoader batches in order, with drop_last, as fresh tensors", "[data]") {
    data::DataLoader loader(id_dataset(10), {.batch_size = 4});
    CHECK(loader.size() == 3);
    std::vector<Shape> shapes;
    std::vector<std::int64_t> targets;
    for (auto& [x, y] : loader) {
        shapes.push_back(x.shape());
        CHECK(y.dtype() == kInt64);
        for (auto v : y.to_vector<std::int64_t>()) targets.push_back(v);
    }
    CHECK(shapes == std::vector<Shape>{{4, 2}, {4, 2}, {2, 2}});
    CHECK(targets == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

    data::DataLoader dropping(id_dataset(10), {.batch_size = 4, .drop_last = true});
    CHECK(dropping.size() == 2);
    CHECK(flat(epoch_ids(dropping)) == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7});

    // A temporary loader in the range-for, as in the README.
    int batches = 0;
    for (auto& [x, y] : data::DataLoader(id_dataset(5), {.batch_size = 2})) {
        CHECK(x.size(0) == y.size(0));
        ++batches;
    }
    CHECK(batches == 3);

    // Iterators: index(), operator->, and the end.
    auto it = loader.begin();
    CHECK(it.index() == 0);
    CHECK(it->input.size(0) == 4);
    ++it;
    ++it;
    CHECK(it != loader.end());
    ++it;
    CHECK(it == loader.end());
    CHECK_THROWS_AS(*it, IndexError);

    data::DataLoader empty(data::TensorDataset(zeros({0, 2})), {.batch_size = 3});
    CHECK(empty.size() == 0);
    CHECK(empty.begin() == empty.end());
    CHECK_THROWS_AS(data::DataLoader(id_dataset(4), {.batch_size = 0}), ValueError);
}

TEST_CASE("DataLoader shuffling is reproducible from the seed and differs per epoch", "[data]") {
    const auto ds = id_dataset(50);
    data::DataLoader a(ds, {.batch_size = 8, .shuffle = true, .seed = 7});
    data::DataLoader b(ds, {.batch_size = 8, .shuffle = true, .seed = 7});
    data::DataLoader c(ds, {.batch_size = 8, .shuffle = true, .seed = 8});
    const auto a0 = epoch_ids(a), a1 = epoch_ids(a);
    CHECK(a.epoch() == 2);
    const auto b0 = epoch_ids(b), b1 = epoch_ids(b);
    CHECK(a0 == b0);
    CHECK(a1 == b1);
    CHECK(a0 != a1);
    CHECK(epoch_ids(c) != a0);
    std::vector<std::int64_t> sorted = flat(a1);
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int64_t> expected(50);
    std::iota(expected.begin(), expected.end(), std::int64_t(0));
    CHECK(sorted == expected);
    CHECK(flat(a0) != expected);  // actually shuffled
    // Resuming at epoch 1 reproduces epoch 1.
    data::DataLoader resumed(ds, {.batch_size = 8, .shuffle = true, .seed = 7});
    resumed.set_epoch(1);
    CHECK(epoch_ids(resumed) == a1);
    // With an explicit generator the permutations come from it.
    Generator g1(3), g2(3);
    data::DataLoader d(ds, {.batch_size = 8, .shuffle = true, .generator = &g1});
    data::DataLoader e(ds, {.batch_size = 8, .shuffle = true, .generator = &g2});
    const auto d0 = epoch_ids(d);
    CHECK(d0 == epoch_ids(e));
    CHECK(epoch_ids(d) != d0);

    // Without a seed, each epoch draws from the default generator: a loader made anew for each
    // epoch (as in the README's loop) still reshuffles, and manual_seed reproduces the run.
    auto fresh_epoch = [&] {
        data::DataLoader tmp(ds, {.batch_size = 8, .shuffle = true});
        return epoch_ids(tmp);
    };
    manual_seed(123);
    const auto r0 = fresh_epoch(), r1 = fresh_epoch();
    CHECK(r0 != r1);
    manual_seed(123);
    CHECK(fresh_epoch() == r0);
    CHECK(fresh_epoch() == r1);
}

TEST_CASE("DataLoader prefetch gives the same batches and stops cleanly", "[data]") {
    const auto ds = id_dataset(37);
    data::DataLoader sync(ds, {.batch_size = 5, .shuffle = true, .seed = 1});
    data::DataLoader pre(ds, {.batch_size = 5, .shuffle = true, .seed = 1, .prefetch = true});
    for (int epoch = 0; epoch < 3; ++epoch) {
        std::vector<std::vector<float>> xs, ys;
        for (auto& [x, y] : sync) xs.push_back(x.to_vector<float>());
        for (auto& [x, y] : pre) ys.push_back(x.to_vector<float>());
        CHECK(xs.size() == 8);
        CHECK(xs == ys);
    }

    SECTION("breaking out early stops the thread") {
        CountingDataset slow(100, 2);
        data::DataLoader loader(slow, {.batch_size = 1, .prefetch = true, .prefetch_batches = 2});
        for (int round = 0; round < 20; ++round) {
            for (auto& [x, y] : loader) {
                CHECK(x.shape() == Shape{1, 2});
                break;
            }
        }
        const int built = slow.built();
        CHECK(built <= 20 * 4);  // never the whole epoch: at most the current + 2 ahead (+1)
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        CHECK(slow.built() == built);  // and nothing runs after the loop
        // The loader still works after the breaks.
        int n = 0;
        for (auto& batch : loader) n += static_cast<int>(batch.input.size(0));
        CHECK(n == 100);
    }
    SECTION("a temporary loader destroyed mid-epoch does not hang") {
        CountingDataset slow(1000, 1);
        int seen = 0;
        for (auto& batch : data::DataLoader(slow, {.batch_size = 10, .prefetch = true})) {
            CHECK(batch.input.size(0) == 10);
            if (++seen == 3) break;
        }
        CHECK(seen == 3);
        CHECK(slow.built() < 10);
    }
    SECTION("an error while building a batch reaches the loop at that batch") {
        for (bool prefetch : {false, true}) {
            CountingDataset broken(20, 0, 13);
            data::DataLoader loader(broken, {.batch_size = 4, .prefetch = prefetch});
            std::vector<std::int64_t> got;
            const std::string msg = error_of<ValueError>([&] {
                for (auto& [x, y] : loader)
                    for (auto v : y.to_vector<std::int64_t>()) got.push_back(v);
            });
            CHECK_THAT(msg, Contains("sample 13 is broken"));
            CHECK(got == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        }
    }
}

TEST_CASE("the default get_batch stacks samples of custom datasets", "[data]") {
    CountingDataset ds(6);
    data::Batch b = ds.get_batch({5, 0});
    CHECK(b.input.shape() == Shape{2, 2});
    CHECK(b.input.to_vector<float>() == std::vector<float>{5, -5, 0, 0});
    CHECK(b.target.to_vector<std::int64_t>() == std::vector<std::int64_t>{5, 0});

    struct Ragged : data::Dataset {
        std::int64_t size() const override { return 2; }
        data::Example get(std::int64_t i) const override { return {zeros({i + 1}), Tensor()}; }
    };
    CHECK_THAT(error_of<ShapeError>([] {
                   Ragged().get_batch({0, 1});
               }),
               Contains("sample 1") && Contains("[2]"));
}

TEST_CASE("IDX files are read raw or gzipped", "[data]") {
    TempDir dir;
    std::vector<int> pixels;
    for (int i = 0; i < 12; ++i) pixels.push_back(i * 20 + 15);
    const std::string images = idx(0x08, {3, 2, 2}, ubytes(pixels));
    const std::string labels = idx(0x08, {3}, ubytes({9, 2, 1}));
    write_bytes(dir.file("img"), images);
    write_bytes(dir.file("lbl"), labels);
    write_gz(dir.file("img.gz"), images);
    write_gz(dir.file("lbl.gz"), labels);
    CHECK(read_bytes(dir.file("img.gz")).substr(0, 2) == "\x1f\x8b");

    for (const char* suffix : {"", ".gz"}) {
        INFO("suffix " << suffix);
        Tensor raw = data::read_idx(dir.file(std::string("img") + suffix));
        CHECK(raw.dtype() == kInt64);
        CHECK(raw.shape() == Shape{3, 2, 2});
        CHECK(raw.to_vector<std::int64_t>()[11] == 235);
        Tensor scaled = data::read_idx_float(dir.file(std::string("img") + suffix), 1.0 / 255);
        CHECK(scaled.dtype() == kFloat32);
        CHECK(scaled.to_vector<float>()[11] == Approx(235.0 / 255));

        data::TensorDataset ds = data::load_idx_dataset(dir.file(std::string("img") + suffix),
                                                        dir.file(std::string("lbl") + suffix));
        CHECK(ds.inputs().shape() == Shape{3, 1, 2, 2});
        CHECK(ds.targets().to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 2, 1});
        CHECK(ds.inputs().to_vector<float>()[0] == Approx(15.0 / 255));
        CHECK(ds.inputs().max().item<float>() <= 1.0f);
    }
    data::TensorDataset flat2 = data::load_idx_dataset(
        dir.file("img"), dir.file("lbl.gz"), {.flatten = true, .normalize = false, .limit = 2});
    CHECK(flat2.inputs().shape() == Shape{2, 4});
    CHECK(flat2.inputs().to_vector<float>()[7] == 155.0f);
    CHECK(flat2.targets().to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 2});

    // Other IDX types: big-endian int16, int32, float32, float64, signed bytes.
    write_bytes(dir.file("i16"), idx(0x0B, {2}, std::string("\xff\xfe\x01\x00", 4)));
    CHECK(data::read_idx(dir.file("i16")).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{-2, 256});
    write_bytes(dir.file("i32"), idx(0x0C, {1}, std::string("\x80\x00\x00\x00", 4)));
    CHECK(data::read_idx(dir.file("i32")).item<std::int64_t>() == -2147483648LL);
    write_bytes(dir.file("f32"), idx(0x0D, {1}, std::string("\x3f\xc0\x00\x00", 4)));
    CHECK(data::read_idx(dir.file("f32")).item<float>() == 1.5f);
    CHECK(data::read_idx(dir.file("f32")).dtype() == kFloat32);
    write_bytes(dir.file("f64"),
                idx(0x0E, {1}, std::string("\xc0\x04\x00\x00\x00\x00\x00\x00", 8)));
    CHECK(data::read_idx(dir.file("f64")).item<double>() == -2.5);
    write_bytes(dir.file("i8"), idx(0x09, {2}, ubytes({0xff, 0x7f})));
    CHECK(data::read_idx(dir.file("i8")).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{-1, 127});

    // The MNIST folder layout, gzipped files.
    fs::create_directory(dir.path / "mnist");
    write_gz(dir.file("mnist/t10k-images-idx3-ubyte.gz"), images);
    write_gz(dir.file("mnist/t10k-labels-idx1-ubyte.gz"), labels);
    data::TensorDataset test = data::MNIST::load(dir.file("mnist"), data::Split::Test);
    CHECK(test.size() == 3);
    CHECK(data::MNIST::classes().size() == 10);
    CHECK_THAT(
        error_of<ValueError>([&] { data::MNIST::load(dir.file("mnist"), data::Split::Train); }),
        Contains("train-images-idx3-ubyte.gz") && Contains("mnist"));
}

TEST_CASE("malformed IDX files are errors naming the file and the byte offset", "[data]") {
    TempDir dir;
    const std::string images = idx(0x08, {3, 2, 2}, std::string(12, '\x10'));
    const std::string labels = idx(0x08, {3}, ubytes({1, 2, 3}));
    const std::string path = dir.file("bad-idx");
    auto error_for = [&](const std::string& bytes, bool gz = false) {
        if (gz)
            write_gz(path, bytes);
        else
            write_bytes(path, bytes);
        return error_of<ValueError>([&] { data::read_idx(path); });
    };
    CHECK_THAT(
        error_for(std::string("\x08\x03\x00\x00", 4) + images.substr(4)),
        Contains(path) && Contains("wrong magic number 0x08030000") && Contains("byte offset 0"));
    CHECK_THAT(error_for(std::string("\x00\x00\x07\x01", 4) + be32(1) + "x"),
               Contains("wrong magic number 0x00000701"));
    CHECK_THAT(error_for(std::string("\x00\x00\x08\x00", 4)), Contains("0 dimensions"));
    CHECK_THAT(error_for(images.substr(0, 2)), Contains("truncated") && Contains("byte offset 2"));
    CHECK_THAT(error_for(images.substr(0, 10)),
               Contains("truncated") && Contains("16 bytes") && Contains("byte offset 10"));
    CHECK_THAT(error_for(images.substr(0, images.size() - 3)),
               Contains("truncated") && Contains("[3, 2, 2]") && Contains("12 data bytes") &&
                   Contains("byte offset 16") && Contains("byte offset 25"));
    CHECK_THAT(error_for(images.substr(0, images.size() - 3), true),
               Contains("byte offset 25 of the decompressed data"));
    CHECK_THAT(error_for(images + "xy"),
               Contains("unexpected bytes after the data") && Contains("byte offset 28"));
    // A header that claims far more data than the file has: an error, not a huge allocation.
    CHECK_THAT(error_for(idx(0x0E, {0xffffffffu, 0xffffffffu}, "")), Contains("too large"));
    CHECK_THAT(error_for(idx(0x08, {60000, 28, 28}, "abc")),
               Contains("47040000 data bytes") && Contains("byte offset 19"));
    CHECK_THAT(error_for(""), Contains("byte offset 0"));

    // Broken gzip streams.
    write_gz(path, images);
    const std::string gz = read_bytes(path);
    write_bytes(path, gz.substr(0, gz.size() / 2));
    CHECK_THAT(error_of<ValueError>([&] { data::read_idx(path); }),
               Contains(path) && Contains("truncated"));
    std::string corrupt = gz;
    for (std::size_t i = 12; i < corrupt.size() - 8; ++i)
        corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
    write_bytes(path, corrupt);
    CHECK_THAT(error_of<ValueError>([&] { data::read_idx(path); }), Contains(path));
    CHECK_THAT(error_of<ValueError>([&] { data::read_idx(dir.file("missing")); }),
               Contains("missing") && Contains("cannot open"));

    // Label and image counts must agree; both files are named.
    write_bytes(dir.file("img"), images);
    write_bytes(dir.file("lbl"), idx(0x08, {2}, ubytes({1, 2})));
    CHECK_THAT(
        error_of<ValueError>([&] { data::load_idx_dataset(dir.file("img"), dir.file("lbl")); }),
        Contains(dir.file("img")) && Contains(dir.file("lbl")) && Contains("2 labels") &&
            Contains("3 images") && Contains("byte offset 4"));
    write_bytes(dir.file("lbl2d"), idx(0x08, {3, 1}, ubytes({1, 2, 3})));
    CHECK_THAT(
        error_of<ValueError>([&] { data::load_idx_dataset(dir.file("img"), dir.file("lbl2d")); }),
        Contains("one integer per sample"));
    write_bytes(dir.file("lbl"), labels);
    CHECK_THAT(
        error_of<ValueError>([&] { data::load_idx_dataset(dir.file("lbl"), dir.file("lbl")); }),
        Contains("[N, H, W]"));
}

TEST_CASE("Fashion-MNIST from /usr/share/datasets/fashion-mnist", "[data]") {
    const std::string folder = "/usr/share/datasets/fashion-mnist";
    if (!fs::exists(folder)) {
        WARN("skipped: " << folder << " is not installed (Debian package dataset-fashion-mnist)");
        CHECK(data::FashionMNIST::classes().size() == 10);
        return;
    }
    data::TensorDataset test = data::FashionMNIST::load(folder, data::Split::Test);
    CHECK(test.inputs().shape() == Shape{10000, 1, 28, 28});
    CHECK(test.inputs().dtype() == kFloat32);
    CHECK(test.targets().shape() == Shape{10000});
    CHECK(test.targets().dtype() == kInt64);
    std::vector<std::int64_t> first(test.targets().to_vector<std::int64_t>());
    first.resize(5);
    CHECK(first == std::vector<std::int64_t>{9, 2, 1, 1, 6});
    CHECK(data::FashionMNIST::classes()[9] == "Ankle boot");
    CHECK(test.inputs().min().item<float>() >= 0.0f);
    CHECK(test.inputs().max().item<float>() == 1.0f);
    const double mean = test.inputs().mean().item<double>();
    CHECK(mean > 0.25);
    CHECK(mean < 0.32);

    data::TensorDataset train =
        data::FashionMNIST::load(folder, data::Split::Train, {.flatten = true});
    CHECK(train.inputs().shape() == Shape{60000, 784});
    CHECK(train.targets().shape() == Shape{60000});
    // Ten balanced classes.
    std::vector<int> counts(10, 0);
    for (auto v : train.targets().to_vector<std::int64_t>())
        ++counts.at(static_cast<std::size_t>(v));
    CHECK(counts == std::vector<int>(10, 6000));
}

TEST_CASE("CSV tables: header, text classes, targets by name or index", "[data]") {
    const std::string text =
        "\xEF\xBB\xBFsepal, petal ,species\r\n"
        "5.1,1.4,setosa\r\n"
        "\n"
        "7.0, 4.7 ,\"versi, color\"\n"
        "6.3,+6.0e0,virginica\n"
        "4.9,1.5,setosa\n";
    data::CsvTable t = data::parse_csv(text, {.target_column = "species"});
    CHECK(t.feature_names == std::vector<std::string>{"sepal", "petal"});
    CHECK(t.target_name == "species");
    CHECK(t.task == data::CsvTask::Classification);
    CHECK(t.class_names == std::vector<std::string>{"setosa", "versi, color", "virginica"});
    CHECK(t.features.shape() == Shape{4, 2});
    CHECK(t.features.dtype() == kFloat32);
    CHECK(t.features.to_vector<float>() ==
          std::vector<float>{5.1f, 1.4f, 7.0f, 4.7f, 6.3f, 6.0f, 4.9f, 1.5f});
    CHECK(t.targets.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 0});
    // The default target is the last column; an index works the same.
    CHECK(data::parse_csv(text).class_names == t.class_names);
    CHECK(data::parse_csv(text, {.target_column = 2}).targets.to_vector<std::int64_t>() ==
          t.targets.to_vector<std::int64_t>());

    // Regression on the first column, float64.
    CHECK_THAT(error_of<ValueError>([&] {
                   data::parse_csv("a;b;c\n1;2;x\n3;4;y\n", {.delimiter = ';', .target_column = 0});
               }),
               Contains("line 2, column 3 ('c')") && Contains("'x' is not a number"));
    data::CsvTable r = data::parse_csv("a;b;c\n1;2;5\n3;4;6\n",
                                       {.delimiter = ';', .target_column = "a", .dtype = kFloat64});
    CHECK(r.task == data::CsvTask::Regression);
    CHECK(r.targets.dtype() == kFloat64);
    CHECK(r.targets.to_vector<double>() == std::vector<double>{1, 3});
    CHECK(r.features.to_vector<double>() == std::vector<double>{2, 5, 4, 6});

    // Numeric class labels sort as numbers; no header names columns "0", "1", ...
    data::CsvTable n = data::parse_csv("0.5,10\n1.5,2\n2.5,1\n3.5,2\n",
                                       {.header = false, .task = data::CsvTask::Classification});
    CHECK(n.class_names == std::vector<std::string>{"1", "2", "10"});
    CHECK(n.targets.to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 1, 0, 1});
    CHECK(n.feature_names == std::vector<std::string>{"0"});
    // No target column: all features.
    data::CsvTable all = data::parse_csv("x,y\n1,2\n", {.target_column = std::nullopt});
    CHECK(all.features.shape() == Shape{1, 2});
    CHECK_FALSE(all.targets.defined());

    // From a file, into a loader.
    TempDir dir;
    write_bytes(dir.file("t.csv"), text);
    data::CsvTable f = data::read_csv(dir.file("t.csv"), {.target_column = "species"});
    int rows = 0;
    for (auto& [x, y] : data::DataLoader(f.dataset(), {.batch_size = 3}))
        rows += static_cast<int>(y.size(0));
    CHECK(rows == 4);
}

TEST_CASE("malformed CSV files are errors naming the file, line and column", "[data]") {
    TempDir dir;
    const std::string path = dir.file("bad.csv");
    auto error_for = [&](const std::string& text, data::CsvOptions options = {}) {
        write_bytes(path, text);
        return error_of<ValueError>([&] { data::read_csv(path, options); });
    };
    CHECK_THAT(error_for("a,b,c\n1,2,3\n4,5\n"), Contains(path) && Contains("line 3") &&
                                                     Contains("expected 3 columns") &&
                                                     Contains("got 2"));
    CHECK_THAT(error_for("a,b,c\n1,2,3\n4,5,6,7\n"), Contains("line 3") && Contains("got 4"));
    CHECK_THAT(error_for("a,b,c\n1,2,3\n\n4,abc,0\n"), Contains(path) &&
                                                           Contains("line 4, column 2 ('b')") &&
                                                           Contains("'abc' is not a number"));
    CHECK_THAT(error_for("a,b,c\n1,,3\n"), Contains("line 2, column 2") && Contains("empty"));
    CHECK_THAT(error_for("a,b,c\n1,2 3,3\n"), Contains("'2 3' is not a number"));
    CHECK_THAT(error_for("a,b,c\n1,nan,3\n"), Contains("not a finite number"));
    CHECK_THAT(error_for("a,b,c\n1,\"2,3\n"),
               Contains("line 2") && Contains("quote is not closed"));
    CHECK_THAT(error_for("a,b,c\n1,2,3\n", {.target_column = "d"}),
               Contains("no column is named 'd'") && Contains("'a', 'b', 'c'"));
    CHECK_THAT(error_for("a,b,c\n1,2,3\n", {.target_column = 3}), Contains("out of range"));
    CHECK_THAT(error_for("a,b,c\n"), Contains("no data rows"));
    CHECK_THAT(error_for(""), Contains("empty"));
    CHECK_THAT(error_for("a,b,c\n1,2,\n"),
               Contains("line 2, column 3") && Contains("target cell is empty"));
    CHECK_THAT(error_for("a,b,c\n1,2,x\n", {.task = data::CsvTask::Regression}),
               Contains("'x' is not a number"));
    CHECK_THAT(error_of<ValueError>([&] { data::read_csv(dir.file("nope.csv")); }),
               Contains("nope.csv") && Contains("cannot open"));
}

TEST_CASE("feature scaling: standardisation and min-max", "[data]") {
    Tensor x = tensor<float>({{1.f, 10.f, 5.f}, {3.f, 20.f, 5.f}, {5.f, 60.f, 5.f}});
    auto [mean, std] = data::mean_std(x);
    CHECK(mean.shape() == Shape{1, 3});
    CHECK(mean.to_vector<float>() == std::vector<float>{3.f, 30.f, 5.f});
    CHECK(std.to_vector<float>()[0] == Approx(std::sqrt(8.0 / 3.0)));
    CHECK(std.to_vector<float>()[2] == 1.0f);  // a constant feature: std 1, not 0
    Tensor z = data::normalize(x, mean, std);
    auto z_mean = z.mean({0}).to_vector<float>();
    auto z_std = z.std({0}, false, 0).to_vector<float>();
    CHECK(z_mean[0] == Approx(0.0).margin(1e-6));
    CHECK(z_mean[1] == Approx(0.0).margin(1e-6));
    CHECK(z_std[0] == Approx(1.0));
    CHECK(z_std[1] == Approx(1.0));
    CHECK(z.to_vector<float>()[2] == 0.0f);

    auto scaler = data::Standardizer::fit(x);
    Tensor back = scaler.inverse_transform(scaler.transform(x));
    const auto xv = x.to_vector<float>(), bv = back.to_vector<float>();
    for (std::size_t i = 0; i < xv.size(); ++i) CHECK(bv[i] == Approx(xv[i]));

    Tensor m = data::MinMaxScaler::fit(x).transform(x);
    CHECK(m.to_vector<float>() ==
          std::vector<float>{0.f, 0.f, 0.f, 0.5f, 0.2f, 0.f, 1.f, 1.f, 0.f});
    auto sym = data::MinMaxScaler::fit(x, -1.0, 1.0);
    CHECK(sym.transform(x).to_vector<float>()[0] == -1.0f);
    CHECK(sym.inverse_transform(sym.transform(x)).to_vector<float>()[4] == Approx(20.0f));
    auto [lo, hi] = data::min_max(x);
    CHECK(hi.to_vector<float>() == std::vector<float>{5.f, 60.f, 5.f});
    CHECK(data::min_max_scale(x, lo, hi).to_vector<float>() == m.to_vector<float>());

    CHECK(data::normalize(x, 1.0, 2.0).to_vector<float>()[1] == 4.5f);
    CHECK_THROWS_AS(data::normalize(x, 0.0, 0.0), ValueError);
    CHECK_THROWS_AS(data::mean_std(arange(std::int64_t(0), std::int64_t(4))), DtypeError);
    CHECK_THROWS_AS(data::MinMaxScaler::fit(x, 1.0, 1.0), ValueError);
    // Per channel for images [N, C, H, W]: statistics over {0, 2, 3}.
    Tensor img = randn({4, 2, 3, 3});
    auto [cm, cs] = data::mean_std(img, {0, 2, 3});
    CHECK(cm.shape() == Shape{1, 2, 1, 1});
    CHECK(data::normalize(img, cm, cs).shape() == img.shape());
}

TEST_CASE("normalize_ works in place and matches normalize bit for bit", "[data]") {
    for (Dtype dt : {kFloat32, kFloat64}) {
        Tensor x = randn({5, 7}).to(dt) * 3.0 + 1.0;
        const Tensor expected = data::normalize(x, 0.2860, 0.3530);
        Tensor view = x.reshape({35});  // shares x's storage
        const auto version = x.version();
        data::normalize_(x, 0.2860, 0.3530);
        CHECK(x.version() > version);
        CHECK(x.to_vector<double>() == expected.to_vector<double>());
        CHECK(view.to_vector<double>() == expected.to_vector<double>());
    }
    Tensor ints = arange(std::int64_t(0), std::int64_t(4));
    CHECK_THROWS_AS(data::normalize_(ints, 0.0, 1.0), DtypeError);
    Tensor x = randn({3});
    const auto before = x.to_vector<float>();
    CHECK_THROWS_AS(data::normalize_(x, 0.0, 0.0), ValueError);
    CHECK_THROWS_AS(data::normalize_(x, std::nan(""), 1.0), ValueError);
    CHECK(x.to_vector<float>() == before);  // a refused call changes nothing
    Tensor w = randn({3}).requires_grad_();
    CHECK_THROWS_WITH(data::normalize_(w, 0.0, 1.0), Catch::Contains("requires grad"));
}

TEST_CASE("normalize_ per feature works in place and matches normalize bit for bit", "[data]") {
    for (Dtype dt : {kFloat32, kFloat64}) {
        Tensor x = randn({6, 5}).to(dt) * 3.0 + 1.0;
        auto [mean, std] = data::mean_std(x);  // [1, 5]
        std = std + 0.05;
        const Tensor expected = data::normalize(x, mean, std);
        const auto version = x.version();
        data::normalize_(x, mean, std);
        CHECK(x.version() > version);
        CHECK(x.to_vector<double>() == expected.to_vector<double>());
        // Each column now has mean 0: the statistics were applied per feature, not mixed up.
        for (double m : x.mean({0}).to_vector<double>()) CHECK(m == Approx(0.0).margin(1e-6));
    }
    // By hand: images [2, 2, 2] with one mean/std per pixel [2, 2] and per column [1, 1, 2].
    Tensor img = tensor<double>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
    Tensor pm = tensor<double>({1, 1, 1, 1}, {2, 2});
    Tensor ps = tensor<double>({1, 2, 4, 8}, {2, 2});
    data::normalize_(img, pm, ps);
    CHECK(img.to_vector<double>() ==
          std::vector<double>{0.0, 0.5, 0.5, 0.375, 4.0, 2.5, 1.5, 0.875});
    Tensor img2 = tensor<double>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
    data::normalize_(img2, tensor<double>({1, 2}, {1, 1, 2}), tensor<double>({2, 4}, {1, 1, 2}));
    CHECK(img2.to_vector<double>() == std::vector<double>{0.0, 0.0, 1.0, 0.5, 2.0, 1.0, 3.0, 1.5});

    Tensor x = tensor<float>({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
    const auto before = x.to_vector<float>();
    Tensor m3 = zeros({1, 3}), s3 = ones({1, 3});
    // Shapes that would broadcast to another shape, or along leading dimensions, are refused.
    CHECK_THROWS_AS(data::normalize_(x, zeros({2, 1}), ones({2, 1})), ShapeError);
    CHECK_THROWS_AS(data::normalize_(x, zeros({1, 1, 3}), ones({1, 1, 3})), ShapeError);
    CHECK_THROWS_AS(data::normalize_(x, zeros({1, 2}), ones({1, 2})), ShapeError);
    CHECK_THROWS_AS(data::normalize_(x, m3, ones({1, 2})), ShapeError);
    CHECK_THROWS_AS(data::normalize_(x, m3.to(kFloat64), s3.to(kFloat64)), DtypeError);
    CHECK_THROWS_WITH(data::normalize_(x, m3, tensor<float>({1.f, 0.f, 1.f}, {1, 3})),
                      Catch::Contains("feature 1"));
    CHECK(x.to_vector<float>() == before);  // a refused call changes nothing
    Tensor w = randn({2, 3}).requires_grad_();
    CHECK_THROWS_WITH(data::normalize_(w, m3, s3), Catch::Contains("requires grad"));
}
