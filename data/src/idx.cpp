// read_idx (idx.hpp): the header is checked in full, and the claimed size against what the
// file can hold, before any element is read; the elements are then read in blocks, so that a
// file claiming more than it has fails without allocating what it claims.

#include "descent/data/idx.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "descent/error.hpp"
#include "file_bytes.hpp"

namespace descent::data {
namespace {

template <class... Args>
[[noreturn]] void fail(std::string_view source, fmt::format_string<Args...> what, Args&&... args) {
    throw FormatError(
        fmt::format("{}: {}", source, fmt::format(what, std::forward<Args>(args)...)));
}

struct ElementType {
    std::string_view name;
    std::uint64_t bytes;
    bool integer;
};

/// The element type of an IDX type code, or a FormatError.
ElementType element_type(unsigned code, std::string_view source) {
    switch (code) {
        case 0x08:
            return {"unsigned byte", 1, true};
        case 0x09:
            return {"signed byte", 1, true};
        case 0x0B:
            return {"int16", 2, true};
        case 0x0C:
            return {"int32", 4, true};
        case 0x0D:
            return {"float32", 4, false};
        case 0x0E:
            return {"float64", 8, false};
        default:
            fail(source,
                 "unsupported type code 0x{:02X} (IDX has 0x08 unsigned byte, 0x09 signed byte, "
                 "0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)",
                 code);
    }
}

std::uint64_t big_endian(const unsigned char* p, std::uint64_t n) {
    std::uint64_t v = 0;
    for (std::uint64_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

/// Element i of the raw big-endian data as a double (exact for every IDX type).
double element(const unsigned char* p, unsigned code) {
    switch (code) {
        case 0x08:
            return p[0];
        case 0x09:
            return static_cast<signed char>(p[0]);
        case 0x0B:
            return static_cast<std::int16_t>(static_cast<std::uint16_t>(big_endian(p, 2)));
        case 0x0C:
            return static_cast<std::int32_t>(static_cast<std::uint32_t>(big_endian(p, 4)));
        case 0x0D:
            return std::bit_cast<float>(static_cast<std::uint32_t>(big_endian(p, 4)));
        default:
            return std::bit_cast<double>(big_endian(p, 8));
    }
}

template <class T>
void convert(const std::vector<unsigned char>& raw, std::uint64_t width, unsigned code, T* out) {
    const std::uint64_t n = raw.size() / width;
    for (std::uint64_t i = 0; i < n; ++i) out[i] = static_cast<T>(element(&raw[i * width], code));
}

}  // namespace

Tensor read_idx(const std::filesystem::path& path, Dtype dtype) {
    // every message: "read_idx: <path>: what is wrong"
    const std::string source = "read_idx: " + nn::printable_path(path);
    if (dtype == Dtype::boolean) {
        throw DtypeError(
            fmt::format("{}: cannot read as bool (float32, float64 or int64)", source));
    }
    detail::FileBytes file(path, source);
    std::array<unsigned char, 4> magic{};
    file.read(magic.data(), 4, "the magic number (4 bytes)");
    if (magic[0] != 0 || magic[1] != 0) {
        fail(source,
             "bad magic number {:02X} {:02X} {:02X} {:02X}: an IDX file starts with two zero "
             "bytes, a type code and the number of dims{}",
             magic[0], magic[1], magic[2], magic[3],
             file.gzipped() ? "" : " (is it compressed otherwise than gzip?)");
    }
    const unsigned code = magic[2];
    const ElementType type = element_type(code, source);
    if (!type.integer && dtype == Dtype::int64) {
        throw DtypeError(
            fmt::format("{}: holds {} values, which int64 cannot hold exactly: read it as float32 "
                        "or float64",
                        source, type.name));
    }
    const std::uint64_t dims = magic[3];
    if (dims == 0) fail(source, "no dims (byte 3 is 0): an IDX tensor has at least one dim");
    std::vector<unsigned char> header(dims * 4);
    file.read(header.data(), header.size(), fmt::format("the {} extents of the header", dims));
    Shape shape;
    std::uint64_t count = 1;  // ≤ 2^63 − 1, checked at each step
    for (std::uint64_t d = 0; d < dims; ++d) {
        const std::uint64_t extent = big_endian(&header[d * 4], 4);
        if (extent == 0) fail(source, "dim {} has extent 0", d);
        shape.push_back(static_cast<std::int64_t>(extent));
        // count · extent · bytes must stay below 2^63 (an int64 byte count)
        if (__builtin_mul_overflow(count, extent, &count) ||
            count > static_cast<std::uint64_t>(INT64_MAX) / type.bytes) {
            fail(source,
                 "the extents {} (dims 0 to {}) overflow int64 as a count of {}-byte elements",
                 shape_str(shape), d, type.bytes);
        }
    }
    const std::uint64_t header_bytes = 4 + 4 * dims;
    const std::uint64_t data_bytes = count * type.bytes;
    // what the file can hold: its size if plain, kMaxInflateRatio times that if gzip
    const std::uint64_t room = file.gzipped()
                                   ? (file.file_size() > UINT64_MAX / detail::kMaxInflateRatio
                                          ? UINT64_MAX
                                          : file.file_size() * detail::kMaxInflateRatio)
                                   : file.file_size() - header_bytes;
    if (data_bytes > room) {
        fail(source,
             "the header claims {} {} elements ({} bytes) but the file of {} bytes {} hold them: "
             "it is truncated, or the header is corrupt",
             shape_str(shape), type.name, data_bytes, file.file_size(),
             file.gzipped() ? "cannot, even compressed at deflate's best," : "does not");
    }
    std::vector<unsigned char> raw;
    constexpr std::uint64_t kBlock = std::uint64_t{1} << 24;
    while (raw.size() < data_bytes) {  // grown as data arrives, never to a claimed size
        const std::uint64_t at = raw.size();
        const std::uint64_t n = std::min(kBlock, data_bytes - at);
        raw.resize(at + n);
        file.read(raw.data() + at, n,
                  fmt::format("the data: {} elements of {} bytes", shape_str(shape), type.bytes));
    }
    if (!file.at_end()) {
        fail(source, "trailing garbage: bytes after the {} bytes that the header {} describes",
             header_bytes + data_bytes, shape_str(shape));
    }
    Tensor out = zeros(shape, {.dtype = dtype});
    switch (dtype) {
        case Dtype::float32:
            convert(raw, type.bytes, code, out.mutable_data<float>());
            break;
        case Dtype::float64:
            convert(raw, type.bytes, code, out.mutable_data<double>());
            break;
        default:
            convert(raw, type.bytes, code, out.mutable_data<std::int64_t>());
            break;
    }
    return out;
}

}  // namespace descent::data
