// libFuzzer target: the IDX reader (xgrad/data/idx.hpp) on raw bytes.
//
// The input is written to a scratch file and read with read_idx and read_idx_float, then
// compared against an independent reading (idx_common.hpp): accepted exactly when valid, with
// the right shape, dtype and values. (An input that starts with the gzip magic 1F 8B goes
// through the gzip reader, as any file does.) The same bytes gzip-compressed by the harness
// must read identically through the gzip path (except for short files whose header claims
// much data: see check_idx_file). Accepted files are also loaded by
// load_idx_dataset, as the images or the labels, with options from the input's last byte.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "idx_common.hpp"
#include "tensor_checks.hpp"

using namespace xgrad;
using namespace xgrad_fuzz;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    init_target();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const TempFile raw_file("idx", ".idx");
    static const TempFile gz_file("idx", ".idx.gz");
    static const TempFile other_file("idx", ".other.idx");
    const std::string bytes(reinterpret_cast<const char*>(data), size);

    raw_file.write(bytes);
    Tensor raw;
    const IdxCheck raw_check = check_idx_file(raw_file.path(), bytes, raw);
    const bool raw_ok = raw_check.ok;

    // The gzip path must read the compressed bytes exactly as the raw path reads them.
    if (!is_gzip(bytes) && !raw_check.expensive) {
        const std::string compressed = gzip(bytes);
        gz_file.write(compressed);
        Tensor gz;
        const bool gz_ok = check_idx_file(gz_file.path(), compressed, gz).ok;
        gz_file.remove();
        if (gz_ok != raw_ok)
            fuzz_fail(std::string("read_idx ") + (raw_ok ? "accepts" : "rejects") +
                      " the raw bytes but " + (gz_ok ? "accepts" : "rejects") +
                      " them gzip-compressed");
        if (raw_ok && tensor_bytes(raw) != tensor_bytes(gz))
            fuzz_fail("read_idx reads the raw and the gzip-compressed bytes differently");
    }

    if (raw_ok) check_idx_dataset(raw_file.path(), raw, other_file, size ? data[size - 1] : 0);
    raw_file.remove();
    return 0;
}
