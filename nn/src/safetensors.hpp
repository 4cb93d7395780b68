#pragma once
// The safetensors format's reading half, shared by from_safetensors (bytes in memory) and the
// file loader (bytes read straight into each tensor): the header length, the validated header
// and the tensors it announces. Implemented in safetensors.cpp.

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "descent/error.hpp"
#include "descent/nn/checkpoint.hpp"
#include "file_dtypes.hpp"

namespace descent::nn::safetensors {

/// The u64 little-endian header length that starts every file.
constexpr std::size_t kLengthBytes = 8;

/// One tensor of the header; [begin, end) is its byte range in the data section, of elements
/// `stored` that load as `dtype`.
struct Entry {
    std::string name;
    FileDtype stored;
    Dtype dtype;
    Shape shape;
    std::uint64_t begin = 0, end = 0;
};

/// A validated header: entries sorted by their byte ranges, which tile the data section.
struct Header {
    std::vector<Entry> entries;
    Metadata metadata;
};

template <class... Args>
[[noreturn]] void format_error(std::string_view source, fmt::format_string<Args...> what,
                               Args&&... args) {
    throw FormatError(
        fmt::format("{}: {}", source, fmt::format(what, std::forward<Args>(args)...)));
}

/// "tensor \"w\"": a name as messages spell it (JSON-quoted, cut at 120 bytes).
std::string tensor_label(std::string_view name);

/// The header length announced by `prefix` (the file's first min(8, file_size) bytes), checked
/// against the format's limit and the `file_size` bytes of the whole file.
std::uint64_t header_length(std::string_view prefix, std::uint64_t file_size,
                            std::string_view source);

/// Parses and validates the header text of a file whose data section has `data_size` bytes.
/// Nothing it announces is allocated: a malformed header is a FormatError naming `source`.
Header parse_header(std::string_view text, std::uint64_t data_size, std::string_view source);

/// A zero tensor of the entry's dtype and shape; failure to allocate is a FormatError.
Tensor allocate(const Entry& entry, std::string_view source);

/// Fills t (allocate's tensor) from the entry's bytes, converting its elements (a BOOL byte other
/// than 0 or 1 is a FormatError).
void fill(Tensor& t, const Entry& entry, const char* bytes, std::string_view source);

}  // namespace descent::nn::safetensors
