#pragma once
// The bytes of a regular file, read in order, inflated on the way when the file is gzip (it
// starts with the bytes 1f 8b): what read_idx and read_text read through. The file is checked
// as nn's checkpoint reader checks it (posix_file.hpp): a FIFO, a device, a directory or a
// missing file is a FormatError naming it before anything is read.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "posix_file.hpp"

namespace descent::data::detail {

class FileBytes {
  public:
    /// Opens `path`; `source` begins every message ("read_idx: data/x.idx").
    FileBytes(const std::filesystem::path& path, std::string source);
    ~FileBytes();
    FileBytes(const FileBytes&) = delete;
    FileBytes& operator=(const FileBytes&) = delete;

    bool gzipped() const { return inflater_ != nullptr; }
    /// The size of the file on disk (compressed, if it is gzip).
    std::uint64_t file_size() const { return size_; }
    /// Bytes handed out so far (of the inflated stream, if gzip).
    std::uint64_t position() const { return position_; }
    const std::string& source() const { return source_; }

    /// Up to n bytes into out; fewer only at the end of the (inflated) data.
    std::uint64_t read_some(void* out, std::uint64_t n);
    /// Exactly n bytes, or a FormatError saying that the data ends inside `what`.
    void read(void* out, std::uint64_t n, std::string_view what);
    /// Whether every byte has been read (reads one more to find out).
    bool at_end();

  private:
    struct Inflater;
    std::string source_;
    std::uint64_t size_ = 0;  // before fd_: open_regular sets it
    nn::FileDescriptor fd_;
    std::uint64_t position_ = 0;
    std::unique_ptr<Inflater> inflater_;
    unsigned char peeked_ = 0;  // a byte read by at_end() and not yet handed out
    bool has_peeked_ = false;
};

/// The largest factor by which deflate can shrink data (a stream of one repeated byte): no
/// gzip file of s bytes holds more than kMaxInflateRatio · s bytes.
inline constexpr std::uint64_t kMaxInflateRatio = 1032;

}  // namespace descent::data::detail
