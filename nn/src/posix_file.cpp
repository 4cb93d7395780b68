#include "posix_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

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

std::string_view file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "a special file";
}

}  // namespace descent::nn
