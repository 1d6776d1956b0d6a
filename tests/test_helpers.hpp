// Helpers shared by the test files.
#pragma once
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace xgrad::test {

// gradcheck / gradgradcheck options that report a failure in the result instead of throwing,
// so that a test can print the report.
inline autograd::GradcheckOptions no_throw() {
    autograd::GradcheckOptions o;
    o.raise_exception = false;
    return o;
}

// Value i (row-major) is ((7 i + 3 s) mod 13 - 6) / 4, as seq() in the reference scripts
// (tests/reference/*.py), so C++ and PyTorch see the same inputs without random generators.
inline Tensor seq(const Shape& shape, int s, Dtype dtype = kFloat64, bool requires_grad = false) {
    std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<double>(static_cast<long>((7 * i + 3 * s) % 13) - 6) / 4.0;
    return tensor(v, shape, TensorOptions{dtype, requires_grad});
}

// A float64 leaf requiring grad, uniform in [lo, hi), from its own generator.
inline Tensor leaf(const Shape& shape, std::uint64_t seed, double lo = -1, double hi = 1) {
    Generator g(seed);
    Tensor t = rand(shape, g, {kFloat64}) * (hi - lo) + lo;
    return t.detach().requires_grad_();
}

// Restores the thread count a test changed.
struct ThreadsGuard {
    int saved = get_num_threads();
    ~ThreadsGuard() { set_num_threads(saved); }
};

// Sliding-window options from kernel size, dilation, padding and stride.
inline UnfoldOptions window(std::array<std::int64_t, 2> k, std::array<std::int64_t, 2> d,
                            std::array<std::int64_t, 2> p, std::array<std::int64_t, 2> s) {
    UnfoldOptions o;
    o.kernel_size = k;
    o.dilation = d;
    o.padding = p;
    o.stride = s;
    return o;
}

// A fresh folder, removed with everything in it at scope exit (write permission restored first,
// for tests that make it read-only).
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "xgrad_test_XXXXXX").string();
        char* p = ::mkdtemp(tmpl.data());
        if (!p) throw std::runtime_error("test::TempDir: mkdtemp failed");
        path = p;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path / name).string(); }
    // The names in the folder, sorted.
    std::vector<std::string> listing() const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(path))
            names.push_back(e.path().filename());
        std::sort(names.begin(), names.end());
        return names;
    }
};

// Files written and read byte for byte, and the raw layouts the loader tests craft.
inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
inline std::string be32(std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
}
inline std::string le64(std::uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
    return s;
}
// An IDX file: magic (type code, dims), big-endian dimensions, then `payload`.
inline std::string idx(int type, const std::vector<std::uint32_t>& dims,
                       const std::string& payload) {
    std::string s{0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
    for (auto d : dims) s += be32(d);
    return s + payload;
}
// A safetensors file from a header text (not padded) and a data buffer.
inline std::string craft(const std::string& header, const std::string& data) {
    return le64(header.size()) + header + data;
}

}  // namespace xgrad::test
