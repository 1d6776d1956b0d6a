// The atomic file writer and the checked file reading the loaders share (atomic_file.hpp).
#include "atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>

namespace xgrad::fileio {

namespace {

constexpr std::size_t kMaxChunk = std::size_t(1) << 30;  // per read() / write() call

std::string errno_text(int err) {
    return std::strerror(err);
}

std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A decimal number without sign or leading zeros (as std::to_string writes it) that fits in
// `max`; false otherwise.
bool parse_decimal(const std::string& s, std::size_t begin, std::size_t end, unsigned long long max,
                   unsigned long long& out) {
    if (begin >= end || (s[begin] == '0' && end - begin > 1)) return false;
    out = 0;
    for (std::size_t i = begin; i < end; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        const unsigned digit = static_cast<unsigned>(s[i] - '0');
        if (out > (max - digit) / 10) return false;
        out = out * 10 + digit;
    }
    return true;
}

const char* file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a file";
}

// An open file descriptor, closed on scope exit (unless released).
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::atomic<std::uint64_t> temp_counter{0};

}  // namespace

std::string quoted(const std::string& s) {
    return "'" + s + "'";
}

// ---- writing ----------------------------------------------------------------------------

std::size_t remove_stale_temporaries(const std::string& path) {
    const std::string base = base_name(path);
    if (base.empty()) return 0;
    DIR* dir = ::opendir(parent_dir(path).c_str());
    if (!dir) return 0;
    const std::string prefix = base + ".tmp.";
    const pid_t self = ::getpid();
    std::size_t removed = 0;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::size_t dot = name.find('.', prefix.size());
        unsigned long long pid = 0, n = 0;
        if (dot == std::string::npos ||
            !parse_decimal(name, prefix.size(), dot, static_cast<unsigned long long>(INT_MAX),
                           pid) ||
            !parse_decimal(name, dot + 1, name.size(), ~0ULL, n) || pid == 0)
            continue;
        const auto owner = static_cast<pid_t>(pid);
        if (owner == self) continue;  // ours: maybe another thread's write in progress
        if (::kill(owner, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
        struct stat st {};
        if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (::unlinkat(::dirfd(dir), name.c_str(), 0) == 0) ++removed;
    }
    ::closedir(dir);
    return removed;
}

void write_file_atomically(const char* op, const std::string& path,
                           const std::function<void(const ByteSink&)>& produce) {
    XGRAD_CHECK(!path.empty(), ValueError, op, "the path is empty");
    remove_stale_temporaries(path);

    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                            std::to_string(temp_counter.fetch_add(1));
    // A leftover of a crashed process that had our pid (the counter makes the name unique
    // within this process).
    ::unlink(tmp.c_str());
    Fd fd;
    do {
        fd.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    } while (fd.fd < 0 && errno == EINTR);
    if (fd.fd < 0)
        raise_file(op, path, "cannot create the temporary file ", quoted(tmp), ": ",
                   errno_text(errno));

    // Closes and removes the temporary file; the target is untouched.
    auto discard = [&] {
        if (fd.fd >= 0) ::close(fd.fd);
        fd.fd = -1;
        ::unlink(tmp.c_str());
    };
    // "<before> '<tmp>'<after>: <errno text> (nothing was changed)"
    auto give_up = [&](const char* before, const char* after, int err) {
        discard();
        raise_file(op, path, before, quoted(tmp), after, ": ", errno_text(err),
                   " (nothing was changed)");
    };

    try {
        produce([&](const void* data, std::size_t n) {
            const auto* p = static_cast<const unsigned char*>(data);
            std::size_t done = 0;
            while (done < n) {
                const ssize_t put = ::write(fd.fd, p + done, std::min(n - done, kMaxChunk));
                if (put < 0 && errno == EINTR) continue;
                // write() returning 0 for a non-empty buffer cannot make progress: an I/O error.
                if (put <= 0)
                    give_up("cannot write the temporary file ", "", put < 0 ? errno : EIO);
                done += static_cast<std::size_t>(put);
            }
        });
    } catch (...) {
        discard();
        throw;
    }
    int rc = 0;
    do {
        rc = ::fsync(fd.fd);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) give_up("cannot flush the temporary file ", " to disk", errno);
    // Linux releases the descriptor even when close() fails, so it is never retried; EINTR
    // (the data is already on disk) is not an error.
    rc = ::close(fd.fd);
    fd.fd = -1;
    if (rc != 0 && errno != EINTR) give_up("cannot close the temporary file ", "", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        give_up("cannot rename the temporary file ", " into place", errno);
    // Make the rename itself durable (best effort: some file systems refuse to sync a folder).
    Fd folder;
    folder.fd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (folder.fd >= 0) (void)::fsync(folder.fd);
}

void write_file_atomically(const char* op, const std::string& path, const std::string& bytes) {
    write_file_atomically(op, path,
                          [&](const ByteSink& sink) { sink(bytes.data(), bytes.size()); });
}

// ---- reading ----------------------------------------------------------------------------

InputFile::InputFile(const char* op, const std::string& path) : op_(op), path_(path) {
    // stat() first: opening a FIFO blocks until a writer comes, and opening a device may do
    // anything.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) raise_file(op, path, "cannot open: ", errno_text(errno));
    if (!S_ISREG(st.st_mode))
        raise_file(op, path, "not a regular file (it is ", file_kind(st.st_mode), ")");
    do {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    } while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) raise_file(op, path, "cannot open: ", errno_text(errno));
    try {
        if (::fstat(fd_, &st) != 0) raise_file(op, path, "cannot stat: ", errno_text(errno));
        if (!S_ISREG(st.st_mode))
            raise_file(op, path, "not a regular file (it is ", file_kind(st.st_mode), ")");
        const int flags = ::fcntl(fd_, F_GETFL);
        if (flags >= 0) (void)::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
    } catch (...) {
        ::close(fd_);
        fd_ = -1;
        throw;
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() {
    if (fd_ >= 0) ::close(fd_);
}

void InputFile::read_at(std::uint64_t offset, void* dst, std::size_t n) const {
    auto* p = static_cast<unsigned char*>(dst);
    std::size_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd_, p + done, std::min(n - done, kMaxChunk),
                                    static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            raise_file(op_, path_, "read error at byte offset ", offset + done, ": ",
                       errno_text(errno));
        if (got == 0)
            raise_file(op_, path_, "the file ended at byte offset ", offset + done,
                       " while reading (it changed while being read?)");
        done += static_cast<std::size_t>(got);
    }
}

std::size_t InputFile::read(void* dst, std::size_t n) {
    auto* p = static_cast<unsigned char*>(dst);
    std::size_t done = 0;
    while (done < n) {
        const ssize_t got = ::read(fd_, p + done, std::min(n - done, kMaxChunk));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            raise_file(op_, path_, "read error at byte offset ", position_, ": ",
                       errno_text(errno));
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
        position_ += static_cast<std::uint64_t>(got);
    }
    return done;
}

std::string InputFile::read_rest() {
    std::string out;
    if (size_ > position_) out.reserve(static_cast<std::size_t>(size_ - position_));
    char buffer[1 << 16];
    while (const std::size_t got = read(buffer, sizeof buffer)) out.append(buffer, got);
    return out;
}

// ---- checks -------------------------------------------------------------------------------

std::size_t checked_file_nbytes(const char* op, const std::string& path, const std::string& what,
                                const Shape& shape, std::size_t element_size) {
    try {
        checked_numel(shape, op);
    } catch (const Error&) {
        raise_file(op, path, what, "shape ", shape,
                   " is too large (its non-zero extents multiply to more than 2^62 elements)");
    }
    try {
        return checked_nbytes(shape, element_size, op);
    } catch (const Error&) {
        raise_file(op, path, what, "shape ", shape, " is too large (more than 2^62 bytes of ",
                   element_size, "-byte elements)");
    }
}

void rethrow_load_error(const char* op, const std::string& path) {
    try {
        throw;
    } catch (const OutOfMemoryError& e) {
        if (std::string(e.what()).find(quoted(path)) != std::string::npos) throw;
        raise_file<OutOfMemoryError>(op, path, "not enough memory to load the file (", e.what(),
                                     ")");
    } catch (const Error&) {
        throw;
    } catch (const std::bad_alloc&) {
        raise_file<OutOfMemoryError>(op, path, "not enough memory to load the file");
    } catch (const std::exception& e) {
        raise_file(op, path, "cannot load the file: ", e.what());
    }
}

}  // namespace xgrad::fileio
