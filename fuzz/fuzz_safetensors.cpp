// libFuzzer target: the safetensors reader (header length, JSON header, dtypes, shapes,
// data_offsets, BOOL bytes) on arbitrary bytes.
//
// Each input is read three ways: deserialize_safetensors (in memory), load_safetensors and
// inspect_safetensors (from a scratch file). Checks:
//   - only xgrad::Error escapes a rejection (other exceptions reach libFuzzer);
//   - the memory and file readers agree (accept/reject, names, dtypes, shapes, bytes, metadata);
//     inspect accepts whatever load accepts and reports the same entries;
//   - every loaded tensor is consistent and can be summed (bad shapes show here);
//   - an accepted file survives a round trip: serialize_safetensors of what was loaded reads
//     back bit-identical.
#include <cstddef>
#include <cstdint>
#include <string>

#include <xgrad/core/safetensors.hpp>

#include "fuzz_common.hpp"
#include "tensor_checks.hpp"

using namespace xgrad;
using namespace xgrad_fuzz;

namespace {

void check_same(const SafetensorsFile& a, const SafetensorsFile& b, const char* what) {
    if (a.metadata != b.metadata) fuzz_fail(std::string(what) + ": the metadata differs");
    if (tensor_bytes(a.tensors) != tensor_bytes(b.tensors))
        fuzz_fail(std::string(what) + ": the tensors differ");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    init_target();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const TempFile file("safetensors", ".safetensors");
    const std::string bytes(reinterpret_cast<const char*>(data), size);

    SafetensorsFile mem;
    std::string mem_error;
    const bool mem_ok = accepts([&] { mem = deserialize_safetensors(bytes); }, &mem_error);

    file.write(bytes);
    SafetensorsFile disk;
    std::string disk_error;
    const bool disk_ok = accepts([&] { disk = load_safetensors(file.path()); }, &disk_error);
    SafetensorsInfo info;
    const bool info_ok = accepts([&] { info = inspect_safetensors(file.path()); });
    file.remove();

    if (mem_ok != disk_ok)
        fuzz_fail("deserialize_safetensors " +
                  (mem_ok ? std::string("accepts") : "rejects (" + mem_error + ")") +
                  " but load_safetensors " +
                  (disk_ok ? std::string("accepts") : "rejects (" + disk_error + ")"));
    note("deserialize_safetensors", mem_ok, mem_error);
    if (!mem_ok) return 0;
    if (!info_ok) fuzz_fail("load_safetensors accepts a file inspect_safetensors rejects");
    check_same(mem, disk, "deserialize_safetensors vs load_safetensors");

    // inspect_safetensors describes exactly what load returned.
    if (info.metadata != mem.metadata) fuzz_fail("inspect_safetensors: the metadata differs");
    if (info.entries.size() != mem.tensors.size())
        fuzz_fail("inspect_safetensors: " + std::to_string(info.entries.size()) + " entries for " +
                  std::to_string(mem.tensors.size()) + " tensors");
    std::uint64_t data_bytes = 0;
    for (const SafetensorsEntry& e : info.entries) {
        const auto it = mem.tensors.find(e.name);
        if (it == mem.tensors.end())
            fuzz_fail("inspect_safetensors: entry '" + e.name + "' was not loaded");
        if (it->second.dtype() != e.dtype || it->second.shape() != e.shape)
            fuzz_fail("inspect_safetensors: entry '" + e.name + "' has another dtype or shape");
        data_bytes += e.end - e.begin;
    }
    if (data_bytes != info.data_bytes || 8 + info.header_bytes + info.data_bytes != size)
        fuzz_fail("inspect_safetensors: the sizes do not add up to the file size");

    for (const auto& [name, t] : mem.tensors) exercise_tensor(t, "tensor '" + name + "'");

    // What was loaded can be written and read back unchanged.
    std::string again;
    std::string error;
    if (!accepts([&] { again = serialize_safetensors(mem.tensors, mem.metadata); }, &error))
        fuzz_fail("serialize_safetensors rejects what deserialize_safetensors returned: " + error);
    SafetensorsFile back;
    if (!accepts([&] { back = deserialize_safetensors(again); }, &error))
        fuzz_fail("a re-serialized file does not load: " + error);
    check_same(mem, back, "round trip");
    return 0;
}
