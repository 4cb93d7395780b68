#pragma once
// Small POSIX pieces of the checkpoint file I/O: an owned file descriptor, and errno and file
// types spelled for messages.

#include <sys/types.h>

#include <cstdint>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace descent::nn {

/// A file descriptor closed when it goes out of scope (-1: none).
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd = -1) noexcept : fd_(fd) {}
    ~FileDescriptor();
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&&) = delete;

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    /// Closes it now; 0, or the errno of close() (the descriptor is gone either way).
    int close() noexcept;

  private:
    int fd_;
};

/// The path as text for messages, a NUL byte (which would end the message) shown as "\0".
std::string printable_path(const std::filesystem::path& path);

/// Opens path for reading if it is a regular file, with its size. Never blocks: a FIFO is refused
/// by stat before open, and O_NONBLOCK covers one swapped in between (fstat refuses it). Any
/// failure is a FormatError naming `source`.
FileDescriptor open_regular(const std::filesystem::path& path, std::string_view source,
                            std::uint64_t& size);
/// Reads the n bytes at offset into out; `what` names them in messages. A file that ends first
/// (shorter than expected, or shrinking while read) is a FormatError.
void read_exact(int fd, void* out, std::uint64_t n, std::uint64_t offset, std::string_view source,
                std::string_view what);
/// All of a regular file (open_regular's rules).
std::string read_regular_file(const std::filesystem::path& path, std::string_view source);

/// strerror's text for an errno value.
std::string errno_text(int err);

/// "a directory", "a FIFO", "a character device", ...: the type of a file that is neither a
/// regular file nor a symbolic link, from its st_mode.
std::string_view file_kind(mode_t mode);

}  // namespace descent::nn
