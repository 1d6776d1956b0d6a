// safetensors files and checkpoints: round trips of every dtype, the on-disk layout, exact
// model reproduction, rejection of corrupted files (leaving the model untouched), atomic writes,
// and optimizer/scheduler state so training resumes exactly.
#include <signal.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <xgrad/core/safetensors.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/nn/serialization.hpp>
#include <xgrad/optim.hpp>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using test::craft;
using test::le64;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;

std::string raw_bytes(const Tensor& t) {
    const auto* p = static_cast<const char*>(t.impl()->data());
    return std::string(p, static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
}

// Every tensor of a module's state, bit for bit.
std::map<std::string, std::string> snapshot(const nn::Module& m) {
    std::map<std::string, std::string> out;
    for (const auto& [name, t] : m.state_dict())
        out[name] = std::string(dtype_name(t.dtype())) + shape_str(t.shape()) + raw_bytes(t);
    return out;
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

struct Net : nn::Module {
    Net()
        : fc1(register_module("fc1", nn::Linear(4, 8))),
          bn(register_module("bn", nn::BatchNorm1d(8))),
          fc2(register_module("fc2", nn::Linear(8, 3))) {}
    Tensor forward(const Tensor& x) override { return (*fc2)(tanh((*bn)((*fc1)(x)))); }
    std::shared_ptr<nn::Linear> fc1;
    std::shared_ptr<nn::BatchNorm1d> bn;
    std::shared_ptr<nn::Linear> fc2;
};

// The same parameter shapes as Sequential(Linear(4, 8), Tanh, Linear(8, 3)), other names.
struct Renamed : nn::Module {
    Renamed()
        : a(register_module("a", nn::Linear(4, 8))), b(register_module("b", nn::Linear(8, 3))) {}
    Tensor forward(const Tensor& x) override { return (*b)(tanh((*a)(x))); }
    std::shared_ptr<nn::Linear> a, b;
};

}  // namespace

TEST_CASE("safetensors round-trips every dtype bit for bit", "[checkpoint]") {
    TempDir dir;
    manual_seed(1);
    Tensor f32 = randn({3, 4});
    f32.data_ptr<float>()[0] = std::numeric_limits<float>::quiet_NaN();
    f32.data_ptr<float>()[1] = -std::numeric_limits<float>::infinity();
    f32.data_ptr<float>()[2] = -0.0f;
    f32.data_ptr<float>()[3] = std::numeric_limits<float>::denorm_min();
    Tensor f64 = randn({2, 2, 2}, {.dtype = kFloat64});
    f64.data_ptr<double>()[0] = 1e300;
    Tensor i64 = tensor<std::int64_t>({std::numeric_limits<std::int64_t>::min(), -1, 0, 42,
                                       std::numeric_limits<std::int64_t>::max()});
    Tensor b8 = tensor<bool>({true, false, false, true, true});
    Tensor scalar = scalar_tensor(2.5f);
    Tensor empty = zeros({0, 3}, {.dtype = kInt64});
    Tensor empty64 = zeros({2, 0}, {.dtype = kFloat64});
    Tensor trainable = randn({2}).requires_grad_();
    const std::map<std::string, Tensor> saved{{"f32", f32},           {"f64", f64},
                                              {"i64", i64},           {"bool", b8},
                                              {"scalar", scalar},     {"empty.i64", empty},
                                              {"empty.f64", empty64}, {"nested.name.w", trainable}};
    const std::map<std::string, std::string> meta{{"epoch", "3"}, {"note", "héllo \"quoted\""}};
    const std::string path = dir.file("all.safetensors");
    save_safetensors(path, saved, meta);

    const SafetensorsFile loaded = load_safetensors(path);
    CHECK(loaded.metadata == meta);
    REQUIRE(loaded.tensors.size() == saved.size());
    for (const auto& [name, t] : saved) {
        INFO(name);
        REQUIRE(loaded.tensors.count(name) == 1);
        const Tensor& u = loaded.tensors.at(name);
        CHECK(u.dtype() == t.dtype());
        CHECK(u.shape() == t.shape());
        CHECK(raw_bytes(u) == raw_bytes(t));
        CHECK_FALSE(u.requires_grad());
        CHECK_FALSE(u.is_same(t));
    }
    CHECK(loaded.tensors.at("bool").to_vector<bool>() ==
          std::vector<bool>{true, false, false, true, true});
    CHECK(loaded.tensors.at("scalar").dim() == 0);

    // The same bytes in memory, and back.
    const std::string bytes = serialize_safetensors(saved, meta);
    CHECK(bytes == read_bytes(path));
    const SafetensorsFile again = deserialize_safetensors(bytes);
    CHECK(raw_bytes(again.tensors.at("i64")) == raw_bytes(i64));
    CHECK(again.metadata == meta);
}

TEST_CASE("safetensors files have the documented layout", "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("layout.safetensors");
    Tensor w = tensor<float>({1.f, 2.f, -3.f}, Shape{3});
    Tensor ids = tensor<std::int64_t>({7, 258});
    Tensor mask = tensor<bool>({true});
    save_safetensors(path, {{"w", w}, {"ids", ids}, {"mask", mask}}, {{"k", "v"}});
    const std::string bytes = read_bytes(path);
    REQUIRE(bytes.size() >= 8);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
    CHECK(n % 8 == 0);
    REQUIRE(bytes.size() >= 8 + n);
    const std::string header = bytes.substr(8, n);
    CHECK(header.front() == '{');
    CHECK(header.find_last_not_of(' ') == header.find_last_of('}'));
    CHECK_THAT(header, Contains("\"__metadata__\":{\"k\":\"v\"}"));
    CHECK_THAT(header, Contains("\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":["));
    CHECK_THAT(header, Contains("\"dtype\":\"I64\""));
    CHECK_THAT(header, Contains("\"dtype\":\"BOOL\""));
    // 8-byte elements first, so every tensor is aligned to its element size in the file.
    const SafetensorsInfo info = inspect_safetensors(path);
    REQUIRE(info.entries.size() == 3);
    CHECK(info.entries[0].name == "ids");
    CHECK(info.entries[1].name == "w");
    CHECK(info.entries[2].name == "mask");
    CHECK(info.header_bytes == n);
    CHECK(info.data_bytes == 16 + 12 + 1);
    CHECK(8 + n + info.data_bytes == bytes.size());
    for (const auto& e : info.entries) CHECK((8 + n + e.begin) % dtype_size(e.dtype) == 0);
    // Little-endian values: 258 = 0x0102 -> 02 01 00 ...; 1.0f = 00 00 80 3F.
    const std::size_t data = 8 + n;
    CHECK(bytes.substr(data + 8, 8) == std::string("\x02\x01\0\0\0\0\0\0", 8));
    CHECK(bytes.substr(data + 16, 4) == std::string("\0\0\x80\x3f", 4));
    CHECK(bytes.back() == '\x01');
}

TEST_CASE("a module saved and loaded into a fresh one computes the same outputs exactly",
          "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("net.safetensors");
    manual_seed(7);
    Net a;
    Tensor x = randn({16, 4});
    a(x);  // training mode: moves the batch-norm running statistics
    a.eval();
    const Tensor ya = a(x);
    nn::save(a, path, {{"epoch", "12"}});

    manual_seed(99);
    Net b;
    b.eval();
    CHECK(b(x).to_vector<float>() != ya.to_vector<float>());
    const nn::Metadata meta = nn::load(b, path);
    CHECK(meta == nn::Metadata{{"epoch", "12"}});
    CHECK(snapshot(b) == snapshot(a));
    CHECK(b(x).to_vector<float>() == ya.to_vector<float>());
    // Handles are kept: the modules' own tensors were updated in place.
    CHECK(b.state_dict().at("fc1.weight").is_same(b.fc1->weight));
    CHECK(b.bn->num_batches_tracked.item<std::int64_t>() == 1);

    // Names are PyTorch's dotted names; Python's reader sees exactly these.
    const SafetensorsFile f = load_safetensors(path);
    CHECK(f.tensors.count("bn.running_mean") == 1);
    CHECK(f.tensors.count("fc2.bias") == 1);
    CHECK(f.metadata.at("xgrad.format") == "module");

    // Reserved metadata keys are refused before anything is written.
    CHECK_THAT(error_of<ValueError>([&] {
                   nn::save(a, dir.file("r.safetensors"), {{"xgrad.x", "1"}});
               }),
               Contains("reserved"));
    CHECK_FALSE(fs::exists(dir.file("r.safetensors")));
}

TEST_CASE("nn::load checks names, shapes and dtypes and leaves the module unchanged",
          "[checkpoint]") {
    TempDir dir;
    manual_seed(3);
    nn::Sequential small(nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 3));
    nn::Sequential wide(nn::Linear(4, 9), nn::Tanh(), nn::Linear(9, 3));
    const std::string path = dir.file("small.safetensors");
    nn::save(small, path);

    const auto before = snapshot(wide);
    const std::string msg = error_of<ShapeError>([&] { nn::load(wide, path); });
    CHECK_THAT(msg, Contains(path) && Contains("0.weight") && Contains("Nothing was loaded"));
    CHECK(snapshot(wide) == before);

    Renamed renamed;
    const auto renamed_before = snapshot(renamed);
    CHECK_THAT(error_of<ShapeError>([&] { nn::load(renamed, path); }),
               Contains("missing keys") && Contains("a.weight"));
    CHECK(snapshot(renamed) == renamed_before);

    // Non-strict: the names both have are loaded, the rest is left alone.
    std::map<std::string, Tensor> extra;
    for (const auto& [k, t] : small.state_dict()) extra.emplace(k, t);
    extra.emplace("unused", ones({2}));
    const std::string extra_path = dir.file("extra.safetensors");
    save_safetensors(extra_path, extra);
    nn::Sequential target(nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 3));
    const auto target_before = snapshot(target);
    CHECK_THAT(error_of<ShapeError>([&] { nn::load(target, extra_path); }),
               Contains("unexpected keys") && Contains("unused"));
    CHECK(snapshot(target) == target_before);
    nn::load(target, extra_path, /*strict=*/false);
    CHECK(snapshot(target) == snapshot(small));

    // float64 weights do not go silently into a float32 model.
    nn::Sequential as64(nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 3));
    as64.to(kFloat64);
    const std::string p64 = dir.file("f64.safetensors");
    nn::save(as64, p64);
    const auto small_before = snapshot(small);
    CHECK_THAT(error_of<ShapeError>([&] { nn::load(small, p64); }), Contains("float64"));
    CHECK(snapshot(small) == small_before);
}

TEST_CASE("corrupted safetensors files are errors and leave the module bit-identical",
          "[checkpoint]") {
    TempDir dir;
    manual_seed(5);
    nn::Linear model(3, 2);  // weight [2, 3] (24 bytes), bias [2] (8 bytes)
    const auto before = snapshot(model);
    const std::string path = dir.file("bad.safetensors");

    // Loading `bytes` fails with a ValueError naming the file and `expected`, and nn::load fails
    // without touching the model.
    auto rejects = [&](const std::string& bytes, const std::string& expected) {
        write_bytes(path, bytes);
        const std::string msg = error_of<ValueError>([&] { load_safetensors(path); });
        CHECK_THAT(msg, Contains(path) && Contains(expected));
        CHECK_THROWS_AS(nn::load(model, path), ValueError);
        CHECK(snapshot(model) == before);
        CHECK_THROWS_AS(deserialize_safetensors(bytes), ValueError);
    };

    const std::string data(32, '\0');
    const std::string w = "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}";
    const std::string b = "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}";
    {  // the unmodified hand-made file is valid (other writers need not pad the header)
        write_bytes(path, craft("{" + w + "," + b + "}", data));
        nn::Linear other(3, 2);
        nn::load(other, path);
        CHECK(other.weight.sum().item<float>() == 0.0f);
    }

    SECTION("truncated at every length") {
        nn::save(model, path);
        const std::string good = read_bytes(path);
        REQUIRE(good.size() > 100);
        for (std::size_t len = 0; len < good.size(); ++len) {
            INFO("truncated to " << len << " of " << good.size() << " bytes");
            write_bytes(path, good.substr(0, len));
            CHECK_THROWS_AS(load_safetensors(path), ValueError);
            CHECK_THROWS_AS(nn::load(model, path), ValueError);
        }
        CHECK(snapshot(model) == before);
        write_bytes(path, good.substr(0, 5));
        CHECK_THAT(error_of<ValueError>([&] { load_safetensors(path); }), Contains("too few"));
        write_bytes(path, good.substr(0, good.size() - 1));
        CHECK_THAT(error_of<ValueError>([&] { load_safetensors(path); }),
                   Contains("run past the end"));
    }
    SECTION("offsets out of bounds") {
        rejects(
            craft("{" + w + ",\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[32,40]}}",
                  data),
            "run past the end of the data buffer");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":["
                      "18446744073709551615,18446744073709551615]}}",
                      data),
                "run past the end");
    }
    SECTION("overlapping offsets") {
        rejects(
            craft("{" + w + ",\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[20,28]}}",
                  std::string(28, '\0')),
            "overlap");
    }
    SECTION("a gap or trailing bytes") {
        rejects(
            craft("{" + w + ",\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[28,36]}}",
                  std::string(36, '\0')),
            "belong to no tensor");
        rejects(craft("{" + w + "," + b + "}", std::string(40, '\0')), "trailing bytes");
    }
    SECTION("wrong dtypes") {
        rejects(craft("{\"weight\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}",
                      std::string(12, '\0')),
                "unsupported dtype 'F16'");
        rejects(craft("{\"weight\":{\"dtype\":\"f32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}",
                      std::string(24, '\0')),
                "unsupported dtype");
        rejects(craft("{\"weight\":{\"dtype\":4,\"shape\":[2,3],\"data_offsets\":[0,24]}}",
                      std::string(24, '\0')),
                "dtype must be a string");
    }
    SECTION("header lengths that cannot be") {
        rejects(le64(std::uint64_t(1) << 63) + "{}", "larger than the limit");
        rejects(le64(150'000'000) + "{}", "larger than the limit");
        rejects(le64(64) + "{\"a\":1}", "runs past the end of the file");
        rejects(le64(0) + "{}", "too small");
        rejects(le64(1) + "{", "too small");
    }
    SECTION("shape and size mismatch, absurd shapes") {
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[3,3],\"data_offsets\":[0,24]},"
                      "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}",
                      data),
                "needs 36");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[-2,3],\"data_offsets\":[0,24]}}",
                      std::string(24, '\0')),
                "not a non-negative integer");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[2.0,3],\"data_offsets\":[0,24]}}",
                      std::string(24, '\0')),
                "not a non-negative integer");
        // 2^62 * 4 elements wraps to 0 in 64 bits; it must not pass as an empty tensor.
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
                      "\"data_offsets\":[0,0]}}",
                      ""),
                "too large");
        rejects(craft("{\"weight\":{\"dtype\":\"F64\",\"shape\":[0,4294967296,4294967296],"
                      "\"data_offsets\":[0,0]}}",
                      ""),
                "too large");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,12]}}",
                      std::string(12, '\0')),
                "shape must be an array");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[12,0]}}",
                      std::string(12, '\0')),
                "begin after end");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,6,12]}}",
                      std::string(12, '\0')),
                "two non-negative integers");
    }
    SECTION("garbage and malformed JSON") {
        rejects(craft("{\"weight\": {dtype", data), "not valid JSON");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}} x",
                      std::string(24, '\0')),
                "not valid JSON");
        rejects(craft("{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                      std::string(8, '\0')),
                "not valid JSON");
        rejects(craft("[" + w + "]", data), "does not start with '{'");
        rejects(craft(" {" + w + "," + b + "}", data), "does not start with '{'");
        std::string deep = "{\"x\":";
        for (int i = 0; i < 200; ++i) deep += "[";
        for (int i = 0; i < 200; ++i) deep += "]";
        rejects(craft(deep + "}", ""), "nested too deeply");
        rejects(craft(std::string(64, '\xab'), ""), "does not start");
    }
    SECTION("duplicate keys, missing and unknown fields") {
        rejects(craft("{" + w + "," + b + "," + w + "}", data), "'weight' twice");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2,3],"
                      "\"data_offsets\":[0,24]}}",
                      std::string(24, '\0')),
                "'dtype' twice");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,3]}}", ""),
                "missing field 'data_offsets'");
        rejects(craft("{\"weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24],"
                      "\"offset\":0}}",
                      std::string(24, '\0')),
                "unknown field 'offset'");
        rejects(craft("{\"weight\":[1,2]}", ""), "expected an object");
        rejects(craft("{\"\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", ""),
                "empty name");
    }
    SECTION("bad metadata and BOOL bytes") {
        rejects(craft("{\"__metadata__\":{\"epoch\":3}," + w + "," + b + "}", data),
                "must be a string");
        rejects(craft("{\"__metadata__\":[1]," + w + "," + b + "}", data), "must be an object");
        rejects(craft("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}",
                      std::string("\x01\x00\x02", 3)),
                "must be 0 or 1");
    }
    SECTION("files that are not there or not files") {
        const std::string missing = dir.file("missing.safetensors");
        CHECK_THAT(error_of<ValueError>([&] { load_safetensors(missing); }),
                   Contains(missing) && Contains("cannot open"));
        CHECK_THAT(error_of<ValueError>([&] { load_safetensors(dir.path.string()); }),
                   Contains("not a regular file"));
        rejects("", "too few");
    }
    SECTION("random corruption never crashes and never half-loads") {
        nn::save(model, path);
        const std::string good = read_bytes(path);
        std::mt19937 rng(1234);
        int rejected = 0, accepted = 0;
        for (int trial = 0; trial < 400; ++trial) {
            std::string bytes = good;
            const int flips = 1 + static_cast<int>(rng() % 3);
            for (int f = 0; f < flips; ++f)
                bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
            write_bytes(path, bytes);
            bool threw = false;
            try {
                nn::load(model, path);
            } catch (const Error&) {
                threw = true;
            }
            if (threw) {
                ++rejected;
                CHECK(snapshot(model) == before);
            } else {
                ++accepted;  // a flip inside the data: a valid file with other values
            }
            // Restore the original weights for the next trial.
            write_bytes(path, good);
            nn::load(model, path);
            REQUIRE(snapshot(model) == before);
        }
        CHECK(rejected > 100);
        CHECK(accepted > 5);
    }
}

TEST_CASE("saving is atomic: a failed write leaves the old file and no temporary file",
          "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("model.safetensors");
    manual_seed(11);
    nn::Linear old_model(4, 4);
    nn::save(old_model, path);
    const std::string old_bytes = read_bytes(path);
    const std::vector<std::string> only_model{"model.safetensors"};
    CHECK(dir.listing() == only_model);

    SECTION("a folder that does not exist") {
        const std::string nowhere = dir.file("no/such/dir/model.safetensors");
        CHECK_THAT(error_of<ValueError>([&] { nn::save(old_model, nowhere); }),
                   Contains(nowhere) && Contains("cannot create"));
        CHECK(dir.listing() == only_model);
    }
    SECTION("the write fails midway (file size limit)") {
        struct rlimit old_limit {};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
        struct rlimit small = old_limit;
        small.rlim_cur = 64 * 1024;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        Tensor big = randn({1 << 16});  // 256 KiB
        const std::string msg = error_of<ValueError>([&] {
            save_safetensors(path, {{"big", big}});
        });
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        ::signal(SIGXFSZ, old_handler);
        CHECK_THAT(msg,
                   Contains(path) && Contains("cannot write") && Contains("nothing was changed"));
        CHECK(read_bytes(path) == old_bytes);
        CHECK(dir.listing() == only_model);
        nn::Linear check(4, 4);
        nn::load(check, path);
        CHECK(snapshot(check) == snapshot(old_model));
    }
    SECTION("the target is a folder (the rename fails)") {
        const std::string folder = dir.file("taken");
        fs::create_directory(folder);
        CHECK_THAT(error_of<ValueError>([&] { nn::save(old_model, folder); }),
                   Contains("cannot rename"));
        CHECK(fs::is_directory(folder));
        CHECK(dir.listing() == std::vector<std::string>{"model.safetensors", "taken"});
    }
    SECTION("bad input is refused before any file is touched") {
        CHECK_THAT(error_of<ValueError>([&] {
                       save_safetensors(path, {{"", ones({1})}});
                   }),
                   Contains("non-empty"));
        CHECK_THAT(error_of<ValueError>([&] {
                       save_safetensors(path, {{"__metadata__", ones({1})}});
                   }),
                   Contains("__metadata__"));
        CHECK_THAT(error_of<ValueError>([&] {
                       save_safetensors(path, {{"u", Tensor()}});
                   }),
                   Contains("undefined"));
        CHECK_THAT(error_of<ValueError>([&] {
                       save_safetensors(path, {{"bad\xff", ones({1})}});
                   }),
                   Contains("UTF-8"));
        CHECK(read_bytes(path) == old_bytes);
        CHECK(dir.listing() == only_model);
    }
    SECTION("a successful save replaces the file") {
        nn::Linear new_model(4, 4);
        nn::save(new_model, path);
        CHECK(read_bytes(path) != old_bytes);
        CHECK(dir.listing() == only_model);
        nn::Linear check(4, 4);
        nn::load(check, path);
        CHECK(snapshot(check) == snapshot(new_model));
    }
}

namespace {

void train_steps(nn::Module& model, optim::Optimizer& opt, optim::LRScheduler* sched,
                 const Tensor& x, const Tensor& y, int steps) {
    for (int i = 0; i < steps; ++i) {
        Tensor loss = nn::cross_entropy(model(x), y);
        opt.zero_grad();
        loss.backward();
        opt.step();
        if (sched) sched->step();
    }
}

}  // namespace

TEST_CASE("a training checkpoint resumes training exactly", "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("run.ckpt");
    manual_seed(21);
    Tensor x = randn({32, 4});
    Tensor y = randint(0, 3, {32});

    nn::Sequential a(nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 3));
    optim::Adam opt_a(a.parameters(), {.lr = 0.05, .amsgrad = true});
    optim::StepLR sched_a(opt_a, {.step_size = 2, .gamma = 0.5});
    train_steps(a, opt_a, &sched_a, x, y, 3);
    nn::save_checkpoint(path, a, opt_a, sched_a, {{"epoch", "3"}});

    manual_seed(22);
    nn::Sequential b(nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 3));
    optim::Adam opt_b(b.parameters(), {.lr = 0.001});
    optim::StepLR sched_b(opt_b, {.step_size = 2, .gamma = 0.5});
    const nn::Metadata meta = nn::load_checkpoint(path, b, opt_b, sched_b);
    CHECK(meta == nn::Metadata{{"epoch", "3"}});
    CHECK(snapshot(b) == snapshot(a));
    CHECK(opt_b.lr(0) == opt_a.lr(0));
    CHECK(sched_b.last_epoch() == sched_a.last_epoch());

    train_steps(a, opt_a, &sched_a, x, y, 4);
    train_steps(b, opt_b, &sched_b, x, y, 4);
    CHECK(snapshot(b) == snapshot(a));
    CHECK(opt_b.lr(0) == opt_a.lr(0));

    // The model part of a checkpoint loads on its own.
    nn::Sequential c(nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 3));
    nn::load(c, path);
    CHECK(c.state_dict().at("2.bias").to_vector<float>() !=
          a.state_dict().at("2.bias").to_vector<float>());  // a trained on since
    nn::save_checkpoint(path, a, opt_a);
    nn::load(c, path);
    CHECK(snapshot(c) == snapshot(a));
    CHECK_THAT(error_of<ValueError>([&] { nn::load_checkpoint(path, b, opt_b, sched_b); }),
               Contains(path) && Contains("no scheduler state"));
}

TEST_CASE("a checkpoint that does not fit changes neither the model nor the optimizer",
          "[checkpoint]") {
    TempDir dir;
    const std::string path = dir.file("run.ckpt");
    manual_seed(31);
    Tensor x = randn({16, 4});
    Tensor y = randint(0, 3, {16});
    nn::Sequential a(nn::Linear(4, 8), nn::Tanh(), nn::Linear(8, 3));
    optim::SGD opt_a(a.parameters(), {.lr = 0.1, .momentum = 0.9});
    train_steps(a, opt_a, nullptr, x, y, 2);
    nn::save_checkpoint(path, a, opt_a);

    // Same parameter shapes (so the optimizer state fits), other names (so the model does not):
    // the optimizer, loaded first, must be rolled back.
    Renamed r;
    optim::SGD opt_r(r.parameters(), {.lr = 0.3, .momentum = 0.5});
    train_steps(r, opt_r, nullptr, x, y, 1);
    const auto model_before = snapshot(r);
    const optim::OptimizerState opt_before = opt_r.state_dict();
    CHECK_THAT(error_of<ShapeError>([&] { nn::load_checkpoint(path, r, opt_r); }),
               Contains(path) && Contains("missing keys"));
    CHECK(snapshot(r) == model_before);
    const optim::OptimizerState opt_after = opt_r.state_dict();
    CHECK(opt_after.scalars == opt_before.scalars);
    REQUIRE(opt_after.tensors.size() == opt_before.tensors.size());
    for (const auto& [k, t] : opt_before.tensors)
        CHECK(raw_bytes(opt_after.tensors.at(k)) == raw_bytes(t));
    CHECK(opt_r.lr(0) == 0.3);

    // Another optimizer kind: refused by the optimizer, nothing changes.
    optim::Adam adam(r.parameters());
    CHECK_THAT(error_of<ValueError>([&] { nn::load_checkpoint(path, r, adam); }),
               Contains(path) && Contains("SGD"));
    CHECK(snapshot(r) == model_before);

    // Files of the wrong kind.
    const std::string module_file = dir.file("weights.safetensors");
    nn::save(a, module_file);
    CHECK_THAT(error_of<ValueError>([&] { nn::load_checkpoint(module_file, r, opt_r); }),
               Contains("not a checkpoint"));
    CHECK_THAT(error_of<ValueError>([&] { nn::load_state(opt_r, module_file); }),
               Contains("not an optimizer or scheduler state"));
    CHECK(snapshot(r) == model_before);
}

TEST_CASE("optimizer and scheduler state round-trip through their own files", "[checkpoint]") {
    TempDir dir;
    manual_seed(41);
    Tensor x = randn({8, 4});
    Tensor y = randint(0, 3, {8});
    nn::Sequential m(nn::Linear(4, 3));
    optim::RMSprop opt(m.parameters(), {.lr = 0.01, .momentum = 0.5, .centered = true});
    optim::ExponentialLR sched(opt, {.gamma = 0.9});
    train_steps(m, opt, &sched, x, y, 2);
    nn::save_state(opt, dir.file("opt.safetensors"), {{"step", "2"}});
    nn::save_state(sched, dir.file("sched.safetensors"));

    optim::RMSprop opt2(m.parameters(), {.lr = 0.5});
    optim::ExponentialLR sched2(opt2, {.gamma = 0.9});
    CHECK(nn::load_state(opt2, dir.file("opt.safetensors")) == nn::Metadata{{"step", "2"}});
    nn::load_state(sched2, dir.file("sched.safetensors"));
    const auto s1 = opt.state_dict(), s2 = opt2.state_dict();
    CHECK(s2.kind == "RMSprop");
    CHECK(s2.scalars == s1.scalars);  // doubles come back exactly
    REQUIRE(s2.tensors.size() == s1.tensors.size());
    CHECK(s1.tensors.count("state.0.grad_avg") == 1);
    for (const auto& [k, t] : s1.tensors) CHECK(raw_bytes(s2.tensors.at(k)) == raw_bytes(t));
    CHECK(sched2.state_dict().scalars == sched.state_dict().scalars);

    // Scalars that are not plain numbers survive too.
    nn::NamedState odd{"Custom", {}, {{"inf", INFINITY}, {"tiny", 5e-324}, {"third", 1.0 / 3}}};
    nn::save_named_state(odd, dir.file("odd.safetensors"));
    const nn::NamedState back = nn::load_named_state(dir.file("odd.safetensors"));
    CHECK(back.kind == "Custom");
    CHECK(back.scalars == odd.scalars);
}

// Writes the file tests/reference/read_safetensors.py checks (to $XGRAD_SAFETENSORS_REFERENCE
// when set, e.g. by that script's --run mode).
TEST_CASE("reference file for the Python reader", "[checkpoint]") {
    TempDir dir;
    const char* env = std::getenv("XGRAD_SAFETENSORS_REFERENCE");
    const std::string path = env && *env ? std::string(env) : dir.file("reference.safetensors");
    Tensor f32 = arange(12, {.dtype = kFloat32}).reshape({3, 4}) * 0.5;
    Tensor f64 = tensor<double>({1.0 / 3.0, -2.5, 1e300}, {.dtype = kFloat64});
    Tensor i64 = tensor<std::int64_t>({std::numeric_limits<std::int64_t>::min(), 0, 42,
                                       std::numeric_limits<std::int64_t>::max()});
    Tensor b8 = tensor<bool>({true, false, true});
    Tensor scalar = scalar_tensor(3.25f);
    Tensor empty = zeros({0, 2});
    save_safetensors(path,
                     {{"f32", f32},
                      {"f64", f64},
                      {"i64", i64},
                      {"bool", b8},
                      {"scalar", scalar},
                      {"empty", empty}},
                     {{"producer", "xgrad"}, {"note", "reference"}});
    const SafetensorsFile f = load_safetensors(path);
    CHECK(f.tensors.at("f32").to_vector<float>()[11] == 5.5f);
    CHECK(f.tensors.at("f64").to_vector<double>()[0] == 1.0 / 3.0);
    CHECK(f.tensors.at("i64").to_vector<std::int64_t>()[0] ==
          std::numeric_limits<std::int64_t>::min());
    CHECK(f.tensors.at("empty").shape() == Shape{0, 2});
    CHECK(f.metadata.at("producer") == "xgrad");
}
