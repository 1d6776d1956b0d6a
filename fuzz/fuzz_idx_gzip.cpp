// libFuzzer target: the gzip layer of the IDX reader. The input is a whole .gz file (the seeds
// are gzip-compressed IDX files), written to a scratch file named *.idx.gz and read with
// read_idx and read_idx_float.
//
// The oracle (idx_common.hpp) decompresses the input strictly with zlib: the reader must
// accept the file exactly when it is one or more complete gzip members with nothing after them
// (corrupt, truncated or trailing bytes are errors) holding a valid IDX file, and must then
// return the same values. Accepted files are also loaded by load_idx_dataset.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "idx_common.hpp"

using namespace xgrad;
using namespace xgrad_fuzz;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    init_target();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const TempFile gz_file("idx_gzip", ".idx.gz");
    static const TempFile other_file("idx_gzip", ".other.idx");
    const std::string bytes(reinterpret_cast<const char*>(data), size);

    gz_file.write(bytes);
    Tensor t;
    if (check_idx_file(gz_file.path(), bytes, t).ok)
        check_idx_dataset(gz_file.path(), t, other_file, size ? data[size - 1] : 0);
    gz_file.remove();
    return 0;
}
