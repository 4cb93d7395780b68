#include "posix_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "descent/error.hpp"

namespace descent::nn {

FileDescriptor::~FileDescriptor() {
    close();
}

int FileDescriptor::close() noexcept {
    if (fd_ < 0) return 0;
    const int closed = ::close(fd_);
    fd_ = -1;
    return closed == 0 ? 0 : errno;
}

std::string printable_path(const std::filesystem::path& path) {
    std::string out;
    for (const char c : path.native()) {
        if (c == '\0') {
            out += "\\0";
        } else {
            out += c;
        }
    }
    return out;
}

std::string errno_text(int err) {
    return std::error_code(err, std::generic_category()).message();
}

namespace {
template <class... Args>
[[noreturn]] void fail(std::string_view source, fmt::format_string<Args...> what, Args&&... args) {
    throw FormatError(
        fmt::format("{}: {}", source, fmt::format(what, std::forward<Args>(args)...)));
}

[[noreturn]] void not_regular(std::string_view source, mode_t mode) {
    fail(source, "not a regular file but {}; only regular files are read", file_kind(mode));
}
}  // namespace

FileDescriptor open_regular(const std::filesystem::path& path, std::string_view source,
                            std::uint64_t& size) {
    if (path.native().find('\0') != std::string::npos) {
        fail(source, "the path holds a NUL byte, which would cut it short");
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail(source, "cannot open: {}", errno_text(errno));
    if (!S_ISREG(st.st_mode)) not_regular(source, st.st_mode);
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) fail(source, "cannot open: {}", errno_text(errno));
    if (::fstat(fd.get(), &st) != 0) fail(source, "cannot stat: {}", errno_text(errno));
    if (!S_ISREG(st.st_mode)) not_regular(source, st.st_mode);
    size = static_cast<std::uint64_t>(st.st_size);
    return fd;
}

void read_exact(int fd, void* out, std::uint64_t n, std::uint64_t offset, std::string_view source,
                std::string_view what) {
    std::uint64_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd, static_cast<char*>(out) + done, n - done,
                                    static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail(source, "cannot read {}: {}", what, errno_text(errno));
        if (got == 0) {
            fail(source,
                 "the file ends at byte {}, inside {} (bytes [{},{})): it is shorter than "
                 "its header claims or shrank while being read",
                 offset + done, what, offset, offset + n);
        }
        done += static_cast<std::uint64_t>(got);
    }
}

std::string read_regular_file(const std::filesystem::path& path, std::string_view source) {
    std::uint64_t size = 0;
    const FileDescriptor fd = open_regular(path, source, size);
    std::string bytes(size, '\0');
    read_exact(fd.get(), bytes.data(), size, 0, source, "the file");
    return bytes;
}

std::string_view file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "a special file";
}

}  // namespace descent::nn
