#pragma once
// A minimal reader of zip archives in memory, enough for the files torch.save writes: the end of
// central directory record (zip64 too), the central directory, local headers, stored and
// deflated entries with their CRC-32 checked. Every offset and size is checked against the
// archive before use; entries must not overlap. Anything else is a FormatError naming `source`.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace descent::nn {

class ZipArchive {
  public:
    struct Entry {
        std::string name;
        std::uint16_t method = 0;  ///< 0 stored, 8 deflated
        std::uint32_t crc = 0;
        std::uint64_t compressed_size = 0, size = 0;
        std::uint64_t data_offset = 0;  ///< of the (compressed) bytes in the archive
    };

    /// Reads the directory of `bytes` (which must outlive the archive).
    ZipArchive(std::string_view bytes, std::string_view source);

    const std::vector<Entry>& entries() const { return entries_; }
    /// The entry called `name`, or nullptr.
    const Entry* find(std::string_view name) const;
    /// The entry's uncompressed bytes, CRC checked: a view of the archive for a stored entry,
    /// of `buffer` (which it fills) for a deflated one.
    std::string_view read(const Entry& entry, std::string& buffer) const;

  private:
    std::string_view bytes_;
    std::string source_;
    std::vector<Entry> entries_;  // sorted by name
};

}  // namespace descent::nn
