// File I/O shared by xgrad's writers and loaders (private to the library: core/src is on its
// private include path, so any library source may `#include "atomic_file.hpp"`).
//
// Writing: write_file_atomically is the one atomic file writer (safetensors and checkpoints,
// SVG plots, DOT graphs). Reading: InputFile opens only regular files (a FIFO, a directory or a
// device is refused before anything could block on it), and the helpers below name the file in
// every error, check sizes read from a file, and turn standard-library exceptions into xgrad
// errors.
//
// Every error message has the form "xgrad::<op>: '<path>': <what>".
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <xgrad/core/check.hpp>

namespace xgrad::fileio {

// "'<s>'", the way messages quote file names, tensor names and cell text.
std::string quoted(const std::string& s);

// Throws E with the message "xgrad::<op>: '<path>': <parts...>".
template <class E = ValueError, class... Parts>
[[noreturn]] void raise_file(const char* op, const std::string& path, const Parts&... parts) {
    raise<E>(op, "'", path, "': ", parts...);
}

// ---- writing ----------------------------------------------------------------------------

// Receives the bytes of the file, in order.
using ByteSink = std::function<void(const void* data, std::size_t n)>;

// Writes the bytes `produce` passes to its sink to `path`, atomically:
//   - first removes stale temporary files of the same target (remove_stale_temporaries);
//   - writes to `<path>.tmp.<pid>.<n>` (created with O_EXCL, mode 0644 minus the umask), retrying
//     short writes and EINTR, then fsync, close, rename over `path`, and fsync of the folder
//     (best effort: some file systems refuse to sync a folder).
// Any failure (ENOSPC, EIO on write, fsync or close, EXDEV or EISDIR on rename, a read-only file
// system, RLIMIT_FSIZE with SIGXFSZ ignored, an exception thrown by `produce`) removes the
// temporary file and leaves a previous file at `path` byte-identical; the error is a ValueError
// "xgrad::<op>: '<path>': <what failed>: <errno text> (nothing was changed)" (exceptions from
// `produce` propagate unchanged). A process killed mid-write (SIGKILL, power loss) cannot remove
// its temporary file: the next write to the same path does.
void write_file_atomically(const char* op, const std::string& path,
                           const std::function<void(const ByteSink&)>& produce);
void write_file_atomically(const char* op, const std::string& path, const std::string& bytes);

// Removes the files beside `path` named `<basename>.tmp.<pid>.<n>` (decimal pid > 0 and n, as
// write_file_atomically names its temporaries) whose process no longer exists (kill(pid, 0)
// fails with ESRCH). Files of live processes (kill succeeds or fails with EPERM), of this
// process, symbolic links and anything that is not a regular file are never touched. Best
// effort: errors are ignored. Returns the number of files removed.
//
// A writer in another PID namespace (another container, or another machine sharing the folder)
// looks dead from here; if its temporary file is removed mid-write, its rename fails and its save
// reports an error (its target stays intact).
std::size_t remove_stale_temporaries(const std::string& path);

// ---- reading ----------------------------------------------------------------------------

// A regular file open for reading. The path is checked with stat() before it is opened (so a
// FIFO, a directory or a device is refused without being opened, and nothing can block), then
// opened with O_NONBLOCK and checked again with fstat() (in case it was swapped in between).
// Errors are ValueErrors naming `op` and the path: "cannot open: <errno text>", "not a regular
// file (it is a FIFO)", "read error at byte offset N: <errno text>".
class InputFile {
  public:
    InputFile(const char* op, const std::string& path);
    ~InputFile();
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    // The size when the file was opened.
    std::uint64_t size() const { return size_; }
    const std::string& path() const { return path_; }

    // Reads exactly `n` bytes at `offset`; an error if the file ends first.
    void read_at(std::uint64_t offset, void* dst, std::size_t n) const;
    // Reads up to `n` bytes from the current position (fewer only at the end of the file).
    std::size_t read(void* dst, std::size_t n);
    // The rest of the file from the current position.
    std::string read_rest();

  private:
    const char* op_;
    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::uint64_t position_ = 0;
};

// checked_nbytes(shape, element_size) for a shape read from a file: a ValueError
// "xgrad::<op>: '<path>': <what>shape [..] is too large (...)" when the element count (counting
// only the non-zero extents) or the byte size passes 2^62.
std::size_t checked_file_nbytes(const char* op, const std::string& path, const std::string& what,
                                const Shape& shape, std::size_t element_size);

// Call only inside a catch block of a loader: rethrows the exception being handled so that no
// standard-library exception escapes and every out-of-memory error names the file:
//   std::bad_alloc, or an OutOfMemoryError not naming the file -> OutOfMemoryError naming it;
//   std::length_error, std::out_of_range and any other std::exception that is not an
//   xgrad::Error -> ValueError naming it; xgrad::Errors (already naming the file) unchanged.
[[noreturn]] void rethrow_load_error(const char* op, const std::string& path);

}  // namespace xgrad::fileio
