#pragma once
// Test helpers: files of given bytes, IDX files, and gzip files written by hand (deflate's
// stored blocks, no compression) so that tests can build exact, and exactly broken, files.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace descent::test {

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void put_be32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

/// An IDX file: 0, 0, the type code, the number of dims, the extents, then `data` as given.
inline std::string idx_bytes(unsigned char code, const std::vector<std::uint32_t>& extents,
                             const std::string& data) {
    std::string out{'\0', '\0', static_cast<char>(code), static_cast<char>(extents.size())};
    for (const std::uint32_t e : extents) put_be32(out, e);
    return out + data;
}

/// CRC-32 (IEEE 802.3, reflected, as gzip's trailer holds it).
inline std::uint32_t crc32(const std::string& bytes) {
    std::uint32_t crc = 0xffffffffu;
    for (const char ch : bytes) {
        crc ^= static_cast<unsigned char>(ch);
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

inline void put_le(std::string& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

/// One gzip member holding `data` in stored deflate blocks (≤ 65535 bytes each).
inline std::string gzip_member(const std::string& data) {
    std::string out{'\x1f', '\x8b', '\x08', '\0', '\0', '\0', '\0', '\0', '\0', '\xff'};
    std::size_t at = 0;
    do {
        const std::size_t n = std::min<std::size_t>(65535, data.size() - at);
        const bool last = at + n == data.size();
        out += static_cast<char>(last ? 1 : 0);  // BFINAL, BTYPE 00: stored
        put_le(out, static_cast<std::uint32_t>(n), 2);
        put_le(out, static_cast<std::uint32_t>(~n & 0xffffu), 2);
        out += data.substr(at, n);
        at += n;
    } while (at < data.size());
    put_le(out, crc32(data), 4);
    put_le(out, static_cast<std::uint32_t>(data.size()), 4);
    return out;
}

}  // namespace descent::test
