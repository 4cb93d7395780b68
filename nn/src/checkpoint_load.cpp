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
#include "safetensors.hpp"

namespace descent::nn {
namespace {

using safetensors::format_error;
using safetensors::kLengthBytes;

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
        if (e.end > e.begin && is_native(e.stored)) {  // straight into the tensor
            read_exact(fd.get(), t.raw_mutable_data(), e.end - e.begin, data_start + e.begin,
                       source, safetensors::tensor_label(e.name));
        } else if (e.end > e.begin) {  // no more than the file holds, converted
            std::string bytes(e.end - e.begin, '\0');
            read_exact(fd.get(), bytes.data(), bytes.size(), data_start + e.begin, source,
                       safetensors::tensor_label(e.name));
            safetensors::fill(t, e, bytes.data(), source);
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

StateDict load(const std::filesystem::path& path) {
    Checkpoint checkpoint = load_checkpoint(path);
    StateDict state(std::move(checkpoint.tensors));
    state.texts.insert(checkpoint.metadata.begin(), checkpoint.metadata.end());
    return state;
}

}  // namespace descent::nn
