// File input and output that an outside test found unreliable: IDX headers whose sizes overflow,
// gzip files with trailing garbage, loaders that hang on a FIFO, absurd shapes in safetensors
// headers, CSV numbers that silently become inf or read "+-1" as -1, and the one atomic file
// writer (failures keep the previous file; stale temporaries of killed processes are removed,
// those of live processes never).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

using test::be32;
using test::craft;
using test::idx;
using test::le64;
using test::read_bytes;
using test::TempDir;

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

// `bytes` as one gzip member.
std::string gzip(const std::string& bytes) {
    z_stream s{};
    REQUIRE(deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&s, static_cast<uLong>(bytes.size())) + 32, '\0');
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    s.avail_in = static_cast<uInt>(bytes.size());
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&s, Z_FINISH) == Z_STREAM_END);
    out.resize(out.size() - s.avail_out);
    deflateEnd(&s);
    return out;
}

// A pid that belonged to a process that is gone (a reaped child): kill(pid, 0) gives ESRCH.
pid_t dead_pid() {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) ::_exit(0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(::kill(child, 0) == -1);
    REQUIRE(errno == ESRCH);
    return child;
}

// Runs `load` in another thread and checks that it returns (by throwing) within seconds instead
// of blocking on `fifo`; if it blocks, opening the FIFO for writing releases it and the test
// fails instead of hanging.
template <class F>
void returns_at_once(const std::string& fifo, F load) {
    auto result = std::async(std::launch::async, [load] {
        try {
            load();
        } catch (...) {
        }
    });
    if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) ::close(fd);
        FAIL_CHECK("the loader blocked on the FIFO " << fifo);
    }
    result.get();
}

// Whether the tests run under a sanitizer (which reserves address space: no huge-allocation
// tests there).
constexpr bool kSanitized =
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    true;
#else
    false;
#endif

}  // namespace

// ---- IDX ----------------------------------------------------------------------------------

TEST_CASE("IDX headers whose sizes overflow are errors before any allocation", "[reliability]") {
    TempDir dir;
    const std::string img = dir.file("img"), lbl = dir.file("lbl");
    const std::uint32_t big = 0xFFFFFFFFu;

    // The header: three dimensions of 2^32 - 1 unsigned bytes.
    write_bytes(img, idx(0x08, {big, big, big}, ""));
    write_bytes(lbl, idx(0x08, {big}, ""));
    REQUIRE_THROWS_AS(data::read_idx(img), ValueError);
    REQUIRE_THROWS_WITH(data::read_idx(img), Contains(img) &&
                                                 Contains("[4294967295, 4294967295, 4294967295]") &&
                                                 Contains("too large"));
    REQUIRE_THROWS_AS(data::load_idx_dataset(img, lbl), ValueError);
    REQUIRE_THROWS_WITH(data::load_idx_dataset(img, lbl), Contains(img) && Contains("too large"));

    // Empty (a zero extent), but the other extents multiply past 2^62: the old reader accepted
    // it and load_idx_dataset overflowed computing the size of one sample.
    write_bytes(img, idx(0x08, {0, big, big}, ""));
    write_bytes(lbl, idx(0x08, {0}, ""));
    REQUIRE_THROWS_AS(data::load_idx_dataset(img, lbl, {.flatten = true}), ValueError);
    REQUIRE_THROWS_WITH(
        data::load_idx_dataset(img, lbl, {.flatten = true}),
        Contains(img) && Contains("[0, 4294967295, 4294967295]") && Contains("too large"));
    REQUIRE_THROWS_AS(data::read_idx_float(img), ValueError);

    // A raw header claiming 4 GiB of float64 in a 30-byte file: compared with the file's length
    // first (nothing allocated), the error gives both sizes.
    write_bytes(img, idx(0x0E, {1u << 29}, "0123456789"));
    REQUIRE_THROWS_AS(data::read_idx(img), ValueError);
    REQUIRE_THROWS_WITH(data::read_idx(img), Contains("truncated") &&
                                                 Contains("4294967296 data bytes") &&
                                                 Contains("ends at byte offset 18"));

    // A gzip file cannot decompress to more than ~1032 times its size: a small .gz whose header
    // claims 1 GiB is refused before anything is read or allocated for the data.
    write_bytes(img, gzip(idx(0x08, {1024, 1024, 1024}, "abc")));
    REQUIRE_THROWS_AS(data::read_idx(img), ValueError);
    REQUIRE_THROWS_WITH(data::read_idx(img), Contains(img) && Contains("1073741824 data bytes") &&
                                                 Contains("gzip file of") &&
                                                 Contains("cannot hold more than"));

    // Sane files still load.
    write_bytes(img, idx(0x08, {2, 1, 2}, "\x01\x02\x03\x04"));
    write_bytes(lbl, gzip(idx(0x08, {2}, "\x05\x06")));
    const data::TensorDataset ds = data::load_idx_dataset(img, lbl, {.normalize = false});
    CHECK(ds.inputs().shape() == Shape{2, 1, 1, 2});
    CHECK(ds.inputs().to_vector<float>() == std::vector<float>{1, 2, 3, 4});
    CHECK(ds.targets().to_vector<std::int64_t>() == std::vector<std::int64_t>{5, 6});
}

TEST_CASE("gzip IDX files: trailing garbage and truncation are errors, members concatenate",
          "[reliability]") {
    TempDir dir;
    const std::string path = dir.file("img.gz");
    std::string pixels;
    for (int i = 0; i < 600; ++i) pixels += static_cast<char>(i * 7 % 256);
    const std::string raw = idx(0x08, {6, 10, 10}, pixels);
    const std::string gz = gzip(raw);
    write_bytes(path, gz);
    const std::vector<std::int64_t> expected = data::read_idx(path).to_vector<std::int64_t>();
    REQUIRE(expected.size() == 600);

    SECTION("trailing bytes after the gzip stream") {
        for (const std::string& tail : {std::string("garbage"), std::string(4, '\0'),
                                        std::string("\x1f"), std::string(1, '\x8b')}) {
            INFO("tail of " << tail.size() << " bytes");
            write_bytes(path, gz + tail);
            REQUIRE_THROWS_AS(data::read_idx(path), ValueError);
            REQUIRE_THROWS_WITH(data::read_idx(path),
                                Contains(path) && Contains("after the last gzip member") &&
                                    Contains("byte offset " + std::to_string(gz.size())) &&
                                    Contains("trailing garbage"));
        }
    }
    SECTION("concatenated gzip members are one stream (as gunzip reads them)") {
        const std::size_t cut = raw.size() / 3;
        write_bytes(path, gzip(raw.substr(0, cut)) + gzip("") + gzip(raw.substr(cut)));
        CHECK(data::read_idx(path).to_vector<std::int64_t>() == expected);
        // ... but a member after them must be complete, and garbage after them is still garbage.
        write_bytes(path, gzip(raw.substr(0, cut)) + gzip(raw.substr(cut)) + "junk");
        REQUIRE_THROWS_WITH(data::read_idx(path), Contains("trailing garbage"));
        const std::string second = gzip(raw.substr(cut));
        write_bytes(path, gzip(raw.substr(0, cut)) + second.substr(0, second.size() - 4));
        REQUIRE_THROWS_AS(data::read_idx(path), ValueError);
        REQUIRE_THROWS_WITH(data::read_idx(path), Contains(path) && Contains("truncated"));
    }
    SECTION("truncated at every length") {
        for (std::size_t len = 2; len < gz.size(); ++len) {
            INFO("truncated to " << len << " of " << gz.size() << " bytes");
            write_bytes(path, gz.substr(0, len));
            REQUIRE_THROWS_AS(data::read_idx(path), ValueError);
        }
        write_bytes(path, gz.substr(0, gz.size() - 1));  // only the trailer's last byte missing
        REQUIRE_THROWS_WITH(data::read_idx(path), Contains(path) && Contains("truncated"));
    }
    SECTION("a wrong checksum") {
        std::string bad = gz;
        bad[bad.size() - 6] = static_cast<char>(bad[bad.size() - 6] ^ 1);  // the CRC-32
        write_bytes(path, bad);
        REQUIRE_THROWS_AS(data::read_idx(path), ValueError);
        REQUIRE_THROWS_WITH(data::read_idx(path), Contains(path) && Contains("corrupt gzip data"));
    }
}

// ---- loaders and special files --------------------------------------------------------------

TEST_CASE("every loader refuses a FIFO, a folder or a device at once", "[reliability]") {
    TempDir dir;
    const std::string fifo = dir.file("pipe");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    nn::Linear model(2, 2);
    const std::vector<std::string> specials = {fifo, dir.path.string(), "/dev/null"};
    const std::vector<std::string> kinds = {"a FIFO", "a directory", "a character device"};

    // Each call must throw ValueError naming the file without ever blocking.
    auto check = [&](const char* what, auto load) {
        for (std::size_t i = 0; i < specials.size(); ++i) {
            const std::string& path = specials[i];
            if (!fs::exists(path)) continue;
            INFO(what << " on " << path);
            returns_at_once(fifo, [&] { load(path); });
            REQUIRE_THROWS_AS(load(path), ValueError);
            REQUIRE_THROWS_WITH(
                load(path), Contains(path) && Contains("not a regular file") && Contains(kinds[i]));
        }
    };
    check("load_safetensors", [](const std::string& p) { load_safetensors(p); });
    check("inspect_safetensors", [](const std::string& p) { inspect_safetensors(p); });
    check("nn::load", [&](const std::string& p) { nn::load(model, p); });
    check("nn::load_named_state", [](const std::string& p) { nn::load_named_state(p); });
    check("nn::load_checkpoint", [&](const std::string& p) {
        optim::SGD opt(model.parameters(), {.lr = 0.1});
        nn::load_checkpoint(p, model, opt);
    });
    check("read_idx", [](const std::string& p) { data::read_idx(p); });
    check("load_idx_dataset", [&](const std::string& p) { data::load_idx_dataset(p, p); });
    check("read_csv", [](const std::string& p) { data::read_csv(p); });
}

// ---- safetensors ----------------------------------------------------------------------------

TEST_CASE("safetensors shapes are checked: a huge empty tensor is an error naming it",
          "[reliability]") {
    TempDir dir;
    const std::string path = dir.file("huge.safetensors");
    // A legal empty tensor whose non-zero extents multiply to 2^63 - 5e9: it used to load and
    // throw std::length_error later, in the first op that reduced away its zero extent.
    const std::string bytes = craft(
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[0,3037000499,3037000499],"
        "\"data_offsets\":[0,0]}}",
        "");
    write_bytes(path, bytes);
    REQUIRE_THROWS_AS(load_safetensors(path), ValueError);
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("tensor 'w'") &&
                                                    Contains("[0, 3037000499, 3037000499]") &&
                                                    Contains("too large"));
    REQUIRE_THROWS_AS(inspect_safetensors(path), ValueError);
    REQUIRE_THROWS_WITH(inspect_safetensors(path),
                        Contains(path) && Contains("[0, 3037000499, 3037000499]"));
    REQUIRE_THROWS_AS(deserialize_safetensors(bytes, "mem"), ValueError);
    REQUIRE_THROWS_WITH(deserialize_safetensors(bytes, "mem"), Contains("'mem'"));

    // The module stays as it was.
    nn::Linear model(2, 2);
    const std::vector<float> before = model.weight.to_vector<float>();
    REQUIRE_THROWS_AS(nn::load(model, path), ValueError);
    CHECK(model.weight.to_vector<float>() == before);

    // An extent past 2^62 on its own, and a byte size past 2^62.
    write_bytes(path, craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[0,4611686018427387905],"
                            "\"data_offsets\":[0,0]}}",
                            ""));
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains("tensor 'w'") && Contains("too large"));
    write_bytes(path, craft("{\"w\":{\"dtype\":\"F64\",\"shape\":[1152921504606846976],"
                            "\"data_offsets\":[0,0]}}",
                            ""));
    REQUIRE_THROWS_AS(load_safetensors(path), ValueError);
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains("more than 2^62 bytes"));

    // Still fine: an empty tensor of a reasonable shape.
    write_bytes(path, craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[0,1000000,1000000],"
                            "\"data_offsets\":[0,0]}}",
                            ""));
    CHECK(load_safetensors(path).tensors.at("w").shape() == Shape{0, 1000000, 1000000});
}

TEST_CASE("a safetensors tensor too large for memory is an OutOfMemoryError naming the file",
          "[reliability]") {
    if (kSanitized) {
        WARN("skipped under a sanitizer");
        return;
    }
    TempDir dir;
    const std::string path = dir.file("4tib.safetensors");
    // A valid header for 2^40 floats (4 TiB), and a sparse file of that size: no disk space is
    // used, and the allocation fails before anything is read.
    const std::string header =
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776],\"data_offsets\":[0,4398046511104]}}";
    write_bytes(path, le64(header.size()) + header);
    std::error_code ec;
    fs::resize_file(path, 8 + header.size() + (std::uint64_t(1) << 42), ec);
    if (ec) {
        WARN("skipped: cannot make a sparse 4 TiB file here (" << ec.message() << ")");
        return;
    }
    REQUIRE_THROWS_AS(load_safetensors(path), OutOfMemoryError);
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains("xgrad::load_safetensors") &&
                                                    Contains(path) &&
                                                    Contains("not enough memory"));
    nn::Linear model(2, 2);
    REQUIRE_THROWS_AS(nn::load(model, path), OutOfMemoryError);
    REQUIRE_THROWS_WITH(nn::load(model, path), Contains(path));
    CHECK(inspect_safetensors(path).entries.at(0).shape == Shape{std::int64_t(1) << 40});
}

// ---- CSV ------------------------------------------------------------------------------------

TEST_CASE("CSV numbers must fit the dtype and be one number", "[reliability]") {
    TempDir dir;
    const std::string path = dir.file("t.csv");
    auto read = [&](const std::string& text, data::CsvOptions options = {}) {
        write_bytes(path, text);
        return data::read_csv(path, options);
    };

    // 1e300 is a finite double, but inf in float32: an error, not a silent inf.
    REQUIRE_THROWS_AS(read("a,b\n1,0\n1e300,1\n"), ValueError);
    REQUIRE_THROWS_WITH(read("a,b\n1,0\n1e300,1\n"),
                        Contains(path) && Contains("line 3, column 1 ('a')") &&
                            Contains("'1e300'") && Contains("out of the range of float32"));
    CHECK(read("a,b\n1e300,1\n", {.dtype = kFloat64}).features.to_vector<double>() ==
          std::vector<double>{1e300});
    REQUIRE_THROWS_WITH(read("a,b\n-3.5e38,1\n"), Contains("'-3.5e38'") && Contains("float32"));
    // FLT_MAX itself, and values that round to it, are fine; tiny values round to 0.
    CHECK(read("a,b\n3.4028235e38,1\n1e-50,2\n").features.to_vector<float>() ==
          std::vector<float>{3.4028235e38f, 0.0f});
    // Past float64: named as such (not "not a number").
    REQUIRE_THROWS_AS(read("a,b\n1e400,1\n", {.dtype = kFloat64}), ValueError);
    REQUIRE_THROWS_WITH(read("a,b\n1e400,1\n", {.dtype = kFloat64}),
                        Contains("'1e400'") && Contains("out of the range of float64"));
    REQUIRE_THROWS_WITH(read("a,b\n1e-400,1\n"), Contains("'1e-400'") && Contains("too small"));
    // Regression targets too (Auto picks regression: every target is a number).
    REQUIRE_THROWS_AS(read("a,b\n1,2\n3,1e39\n"), ValueError);
    REQUIRE_THROWS_WITH(read("a,b\n1,2\n3,1e39\n"), Contains("line 3, column 2 ('b')") &&
                                                        Contains("'1e39'") &&
                                                        Contains("out of the range of float32"));

    // The whole cell is one number, with at most one sign.
    REQUIRE_THROWS_AS(read("a,b\n+-1,0\n"), ValueError);
    REQUIRE_THROWS_WITH(read("a,b\n+-1,0\n"), Contains(path) && Contains("line 2, column 1") &&
                                                  Contains("'+-1' is not a number"));
    for (const char* bad : {"++1", "-+1", "--1", "+", "-", "1e", "1.2.3", "0x10", "1_0", "+ 1"}) {
        INFO(bad);
        REQUIRE_THROWS_WITH(read(std::string("a,b\n") + bad + ",0\n"),
                            Contains("'" + std::string(bad) + "' is not a number"));
    }
    CHECK(read("a,b\n+1,0\n-.5e+1,0\n+.25,0\n").features.to_vector<float>() ==
          std::vector<float>{1.0f, -5.0f, 0.25f});
    // nan and inf stay errors in features, and make a target column a class column.
    REQUIRE_THROWS_WITH(read("a,b\ninf,0\n"), Contains("not a finite number"));
    CHECK(read("a,b\n1,inf\n2,3\n").task == data::CsvTask::Classification);
    // The same from memory, named by the caller.
    REQUIRE_THROWS_WITH(data::parse_csv("a,b\n1e300,1\n", {}, "mem.csv"),
                        Contains("'mem.csv'") && Contains("float32"));
}

// ---- the atomic writer ----------------------------------------------------------------------

TEST_CASE("a save removes stale temporaries of dead processes and never those of live ones",
          "[reliability]") {
    TempDir dir;
    const std::string target = dir.file("model.safetensors");
    const std::string tmp = target + ".tmp.";
    const pid_t dead = dead_pid();
    const pid_t self = ::getpid();

    // A save killed mid-write (SIGKILL): its partial temporary file stays behind.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // only async-signal-safe calls here
        char name[4096];
        std::size_t n = 0;
        for (char c : tmp) name[n++] = c;
        char digits[16];
        int k = 0;
        for (pid_t p = ::getpid(); p > 0; p /= 10) digits[k++] = static_cast<char>('0' + p % 10);
        while (k > 0) name[n++] = digits[--k];
        name[n++] = '.';
        name[n++] = '0';
        name[n] = '\0';
        const int fd = ::open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) (void)!::write(fd, "partial", 7);
        ::kill(::getpid(), SIGKILL);
        ::_exit(1);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    const std::string killed = "model.safetensors.tmp." + std::to_string(child) + ".0";
    REQUIRE(fs::exists(dir.file(killed)));

    const std::string stale = "model.safetensors.tmp." + std::to_string(dead) + ".7";
    std::string above_pid_max = "model.safetensors.tmp.99999999.0";
    {
        std::ifstream in("/proc/sys/kernel/pid_max");
        long pid_max = 0;
        if (in >> pid_max)
            above_pid_max = "model.safetensors.tmp." + std::to_string(pid_max + 1) + ".0";
    }
    // Kept: live processes (init, our parent, ourselves with another counter), another
    // target's temporaries, names that are not ours, and what is not a regular file.
    const std::vector<std::string> kept = {
        "model.safetensors.tmp.1.0",
        "model.safetensors.tmp." + std::to_string(::getppid()) + ".3",
        "model.safetensors.tmp." + std::to_string(self) + ".123456789",
        "other.safetensors.tmp." + std::to_string(dead) + ".0",
        "model.safetensors.tmp." + std::to_string(dead) + ".x",
        "model.safetensors.tmp." + std::to_string(dead),
        "model.safetensors.tmp.0" + std::to_string(dead) + ".1",
        "model.safetensors.tmp.-1.1",
        "model.safetensors.tmp.0.1",
        "model.safetensors.old",
    };
    for (const auto& name : kept) write_bytes(dir.file(name), "keep");
    write_bytes(dir.file(stale), "stale");
    write_bytes(dir.file(above_pid_max), "stale");
    const std::string stale_dir = "model.safetensors.tmp." + std::to_string(dead) + ".9";
    fs::create_directory(dir.file(stale_dir));
    const std::string stale_link = "model.safetensors.tmp." + std::to_string(dead) + ".10";
    fs::create_symlink(dir.file("model.safetensors.old"), dir.file(stale_link));

    save_safetensors(target, {{"w", ones({3})}});

    std::vector<std::string> expected = kept;
    expected.push_back("model.safetensors");
    expected.push_back(stale_dir);
    expected.push_back(stale_link);
    std::sort(expected.begin(), expected.end());
    CHECK(dir.listing() == expected);
    CHECK(load_safetensors(target).tensors.at("w").sum().item<float>() == 3.0f);
    for (const auto& name : kept) CHECK(read_bytes(dir.file(name)) == "keep");

    // The same for plots and DOT files (the one writer behind them all).
    const std::string svg = dir.file("curve.svg");
    const std::string svg_stale = "curve.svg.tmp." + std::to_string(dead) + ".0";
    write_bytes(dir.file(svg_stale), "stale");
    plot::line_chart({{"a", {}, {1, 2, 3}}}, svg);
    CHECK_FALSE(fs::exists(dir.file(svg_stale)));
    const std::string dot = dir.file("g.dot");
    const std::string dot_stale = "g.dot.tmp." + std::to_string(dead) + ".4";
    write_bytes(dir.file(dot_stale), "stale");
    Tensor x = ones({2}, {.requires_grad = true});
    autograd::save_dot((x * 2).sum(), dot);
    CHECK_FALSE(fs::exists(dir.file(dot_stale)));
    CHECK(read_bytes(dot).find("digraph") == 0);
}

TEST_CASE("plots and DOT files share the atomic writer's errors and guarantees", "[reliability]") {
    TempDir dir;
    const std::string svg = dir.file("curve.svg");
    plot::line_chart({{"a", {}, {1, 2, 3}}}, svg);
    const std::string old_svg = read_bytes(svg);
    const std::vector<std::string> only_svg{"curve.svg"};
    Tensor x = ones({2}, {.requires_grad = true});
    const Tensor loss = (x * 3).sum();

    SECTION("a missing folder: the op, the path and the errno text") {
        const std::string nowhere = dir.file("no/such/g.dot");
        REQUIRE_THROWS_AS(autograd::save_dot(loss, nowhere), ValueError);
        REQUIRE_THROWS_WITH(autograd::save_dot(loss, nowhere),
                            Contains("xgrad::autograd::save_dot") && Contains(nowhere) &&
                                Contains("cannot create the temporary file") &&
                                Contains("No such file or directory"));
        REQUIRE_THROWS_WITH(plot::line_chart({{"a", {}, {1, 2}}}, dir.file("no/x.svg")),
                            Contains("xgrad::plot::line_chart") && Contains("no/x.svg") &&
                                Contains("No such file or directory"));
        CHECK(dir.listing() == only_svg);
    }
    SECTION("the target is a folder: the rename fails, nothing is left behind") {
        fs::create_directory(dir.file("taken.svg"));
        REQUIRE_THROWS_AS(plot::line_chart({{"a", {}, {1, 2}}}, dir.file("taken.svg")), ValueError);
        REQUIRE_THROWS_WITH(plot::line_chart({{"a", {}, {1, 2}}}, dir.file("taken.svg")),
                            Contains("cannot rename") && Contains("nothing was changed"));
        CHECK(dir.listing() == std::vector<std::string>{"curve.svg", "taken.svg"});
        CHECK(fs::is_directory(dir.file("taken.svg")));
    }
    SECTION("the write fails midway (file size limit): the old file stays byte-identical") {
        std::vector<double> values(20000);
        for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::sin(0.01 * double(i));
        struct rlimit old_limit {};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
        struct rlimit small = old_limit;
        small.rlim_cur = 16 * 1024;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        std::string msg;
        bool value_error = false;
        try {
            plot::line_chart({{"a", {}, values}}, svg);
        } catch (const ValueError& e) {
            value_error = true;
            msg = e.what();
        } catch (const std::exception& e) {
            msg = e.what();
        }
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        ::signal(SIGXFSZ, old_handler);
        CHECK(value_error);
        CHECK_THAT(msg,
                   Contains(svg) && Contains("cannot write") && Contains("nothing was changed"));
        CHECK(read_bytes(svg) == old_svg);
        CHECK(dir.listing() == only_svg);
    }
    SECTION("a read-only folder") {
        if (::geteuid() == 0) {
            WARN("skipped: root ignores folder permissions");
            return;
        }
        fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
        REQUIRE_THROWS_AS(save_safetensors(dir.file("m.safetensors"), {{"w", ones({1})}}),
                          ValueError);
        REQUIRE_THROWS_WITH(plot::line_chart({{"a", {}, {1, 2}}}, svg),
                            Contains("cannot create") && Contains("Permission denied"));
        fs::permissions(dir.path, fs::perms::owner_all);
        CHECK(read_bytes(svg) == old_svg);
        CHECK(dir.listing() == only_svg);
    }
}
