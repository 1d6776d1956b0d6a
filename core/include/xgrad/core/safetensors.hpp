// The safetensors file format: named tensors plus string metadata, readable by the wider
// ecosystem (Python's `safetensors`, Hugging Face tools) and safe to load (no code runs, every
// offset is checked).
//
// Layout of a file:
//   8 bytes    N, the header length, unsigned little-endian
//   N bytes    a UTF-8 JSON object, padded at the end with spaces to a multiple of 8 bytes:
//                {"__metadata__": {"key": "value", ...},
//                 "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//   the rest   the data buffer: each tensor's elements, row-major and little-endian, at
//              [begin, end) relative to the start of the buffer
// xgrad's dtypes map to "F32", "F64", "I64" and "BOOL" (one byte, 0 or 1).
//
//   save_safetensors("model.safetensors", {{"weight", w}, {"bias", b}}, {{"epoch", "3"}});
//   SafetensorsFile f = load_safetensors("model.safetensors");
//   Tensor w2 = f.tensors.at("weight");
//
// Writing is atomic: the bytes go to a temporary file beside the target (`<path>.tmp.<pid>.<n>`),
// which is flushed to disk (fsync) and then renamed over the target, so a crash or an error
// mid-write leaves any previous file intact. An error removes the temporary file. A process
// killed mid-write (SIGKILL, power loss) leaves its temporary file behind; the next save to the
// same path removes it (and any other `<path>.tmp.<pid>.<n>` whose process no longer exists).
//
// Loading accepts only regular files (a FIFO, a directory or a device is a ValueError at once,
// without blocking) and validates the whole file before it allocates any tensor: the file and
// header sizes, the JSON (well-formed, no duplicate keys, only the expected fields), every dtype
// and shape (element count and byte size within 2^62, counting the non-zero extents of an empty
// tensor too), every data_offsets pair (in bounds, of exactly the size the shape and dtype need,
// the entries tiling the data buffer with no overlap or gap) and every BOOL byte. Any problem is
// a ValueError naming the file and what is wrong (the tensor name and shape for a bad shape); no
// input file can make the loader read or allocate out of bounds. Running out of memory is an
// OutOfMemoryError naming the file; no standard-library exception escapes.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// The largest header load_safetensors accepts (as the reference implementation: 100 MB).
inline constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

struct SafetensorsFile {
    std::map<std::string, Tensor> tensors;
    std::map<std::string, std::string> metadata;  // the "__metadata__" object (may be empty)
};

// One entry of a file's header, as inspect_safetensors reports it.
struct SafetensorsEntry {
    std::string name;
    Dtype dtype = Dtype::f32;
    Shape shape;
    std::uint64_t begin = 0;  // data_offsets, relative to the data buffer
    std::uint64_t end = 0;
};

struct SafetensorsInfo {
    std::vector<SafetensorsEntry> entries;  // in data order
    std::map<std::string, std::string> metadata;
    std::uint64_t header_bytes = 0;  // N
    std::uint64_t data_bytes = 0;    // size of the data buffer
};

// Writes `tensors` (any dtype; names non-empty and not "__metadata__") and `metadata` to `path`
// atomically. Throws ValueError (bad names, undefined tensors, I/O errors such as a missing or
// unwritable folder, a full disk) after removing its temporary file; an existing file at `path`
// then stays as it was. Tensors are laid out by decreasing element size, then by name, so every
// tensor's data is aligned to its element size in the file.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and validates a file written by xgrad or any other safetensors writer (with the dtypes
// above). Tensors are fresh leaves that do not require grad.
SafetensorsFile load_safetensors(const std::string& path);

// The validated header of a file (names, dtypes, shapes, offsets, metadata) without reading the
// tensor data.
SafetensorsInfo inspect_safetensors(const std::string& path);

// The same format in memory: the bytes save_safetensors would write, and the reverse (with
// `name` standing for the file in error messages).
std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
SafetensorsFile deserialize_safetensors(const std::string& bytes,
                                        const std::string& name = "<memory>");

}  // namespace xgrad
