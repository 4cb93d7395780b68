// Loading a checkpoint file (see checkpoint.hpp). Only a regular file is opened: a FIFO, a
// device, a directory or a socket is a FormatError before anything could block. The length and
// the header are read and validated first; then each tensor's bytes are read straight into its
// storage. A file shorter than its header claims, or one that shrinks while being read, is a
// FormatError; so is any failure underneath (no std exception escapes), always naming the file.

#include "descent/nn/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <new>
#include <string>
#include <utility>

#include "descent/error.hpp"
#include "posix_file.hpp"
#include "safetensors_format.hpp"

namespace descent::nn {
namespace {

using safetensors::format_error;
using safetensors::kLengthBytes;

[[noreturn]] void not_regular(std::string_view source, mode_t mode) {
    format_error(source, "not a regular file but {}; checkpoints are read from regular files",
                 file_kind(mode));
}

/// Opens `path` for reading if it is a regular file, and gets its size. Never blocks: a FIFO is
/// refused by stat before open, and O_NONBLOCK covers one swapped in between (fstat refuses it).
FileDescriptor open_regular(const std::filesystem::path& path, std::string_view source,
                            std::uint64_t& size) {
    if (path.native().find('\0') != std::string::npos) {
        format_error(source, "the path holds a NUL byte, which would cut it short");
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) format_error(source, "cannot open: {}", errno_text(errno));
    if (!S_ISREG(st.st_mode)) not_regular(source, st.st_mode);
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) format_error(source, "cannot open: {}", errno_text(errno));
    if (::fstat(fd.get(), &st) != 0) format_error(source, "cannot stat: {}", errno_text(errno));
    if (!S_ISREG(st.st_mode)) not_regular(source, st.st_mode);
    size = static_cast<std::uint64_t>(st.st_size);
    return fd;
}

/// Reads the `n` bytes at `offset` of the file into `out`; `what` names them in messages.
void read_exact(int fd, void* out, std::uint64_t n, std::uint64_t offset, std::string_view source,
                std::string_view what) {
    std::uint64_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd, static_cast<char*>(out) + done, n - done,
                                    static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) format_error(source, "cannot read {}: {}", what, errno_text(errno));
        if (got == 0) {
            format_error(source,
                         "the file ends at byte {}, inside {} (bytes [{},{})): it is shorter than "
                         "its header claims or shrank while being read",
                         offset + done, what, offset, offset + n);
        }
        done += static_cast<std::uint64_t>(got);
    }
}

Checkpoint read_checkpoint(const std::filesystem::path& path, std::string_view source) {
    std::uint64_t size = 0;
    const FileDescriptor fd = open_regular(path, source, size);

    char prefix[kLengthBytes];
    const std::uint64_t prefix_size = std::min<std::uint64_t>(kLengthBytes, size);
    read_exact(fd.get(), prefix, prefix_size, 0, source, "the header length");
    const std::uint64_t header_size =
        safetensors::header_length({prefix, prefix_size}, size, source);
    std::string text(header_size, '\0');  // at most 100 MB, and no more than the file holds
    read_exact(fd.get(), text.data(), header_size, kLengthBytes, source, "the header");
    const std::uint64_t data_start = kLengthBytes + header_size;
    safetensors::Header header = safetensors::parse_header(text, size - data_start, source);

    Checkpoint checkpoint{.tensors = {}, .metadata = std::move(header.metadata)};
    checkpoint.tensors.reserve(header.entries.size());
    for (const safetensors::Entry& e : header.entries) {
        Tensor t = safetensors::allocate(e, source);
        if (e.end > e.begin) {
            read_exact(fd.get(), t.raw_mutable_data(), e.end - e.begin, data_start + e.begin,
                       source, safetensors::tensor_label(e.name));
        }
        checkpoint.tensors.emplace_back(e.name, std::move(t));
    }
    return checkpoint;
}

}  // namespace

Checkpoint load_checkpoint(const std::filesystem::path& path) {
    const std::string source = printable_path(path);
    try {
        return read_checkpoint(path, source);
    } catch (const FormatError&) {
        throw;
    } catch (const std::bad_alloc&) {
        format_error(source, "out of memory while loading the checkpoint");
    } catch (const std::exception& e) {
        format_error(source, "cannot load: {}", e.what());
    }
}

NamedTensors load(const std::filesystem::path& path) {
    return load_checkpoint(path).tensors;
}

}  // namespace descent::nn
