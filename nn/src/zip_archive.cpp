// The zip reader (zip_archive.hpp), after PKWARE's APPNOTE.TXT 6.3: the end of central directory
// record is found in the archive's last 64 KiB + 22 bytes; its zip64 form is read when the
// classic record says so (0xFFFF / 0xFFFFFFFF); central directory entries give each member's
// sizes and local header offset (zip64 extra fields when they are 0xFFFFFFFF); local headers
// give where the data starts. Encrypted entries, multi-disk archives and methods other than
// stored and deflate are refused. A deflated entry may not claim more than 1032 bytes per
// compressed byte (deflate's largest ratio), and its buffer grows only as its data inflates.

#include "zip_archive.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "descent/error.hpp"

namespace descent::nn {
namespace {

constexpr std::uint32_t kEndSignature = 0x06054b50, kZip64EndSignature = 0x06064b50,
                        kZip64LocatorSignature = 0x07064b50, kCentralSignature = 0x02014b50,
                        kLocalSignature = 0x04034b50;
constexpr std::size_t kEndSize = 22, kZip64LocatorSize = 20, kZip64EndSize = 56, kCentralSize = 46,
                      kLocalSize = 30;
constexpr std::uint64_t kMaxDeflateRatio = 1032;
constexpr std::uint64_t kMaxEntries = 1'000'000;

template <class... Args>
[[noreturn]] void fail(std::string_view source, fmt::format_string<Args...> what, Args&&... args) {
    throw FormatError(
        fmt::format("{}: {}", source, fmt::format(what, std::forward<Args>(args)...)));
}

/// Little-endian reads at checked offsets of the archive.
class Reader {
  public:
    Reader(std::string_view bytes, std::string_view source) : bytes_(bytes), source_(source) {}

    void need(std::uint64_t offset, std::uint64_t n, std::string_view what) const {
        if (offset > bytes_.size() || n > bytes_.size() - offset) {
            fail(source_, "zip: {} (bytes [{},{})) lies beyond the archive of {} bytes", what,
                 offset, offset + n, bytes_.size());
        }
    }
    std::uint64_t uint(std::uint64_t offset, int n) const {
        need(offset, static_cast<std::uint64_t>(n), "a field");
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) {
            v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[offset + i]))
                 << (8 * i);
        }
        return v;
    }
    std::uint16_t u16(std::uint64_t offset) const {
        return static_cast<std::uint16_t>(uint(offset, 2));
    }
    std::uint32_t u32(std::uint64_t offset) const {
        return static_cast<std::uint32_t>(uint(offset, 4));
    }
    std::uint64_t u64(std::uint64_t offset) const { return uint(offset, 8); }
    std::string_view view(std::uint64_t offset, std::uint64_t n, std::string_view what) const {
        need(offset, n, what);
        return bytes_.substr(offset, n);
    }
    std::uint64_t size() const { return bytes_.size(); }

  private:
    std::string_view bytes_;
    std::string_view source_;
};

struct Directory {
    std::uint64_t entries = 0, offset = 0, size = 0;
};

Directory find_directory(const Reader& in, std::string_view source) {
    if (in.size() < kEndSize) {
        fail(source, "not a zip archive: {} bytes, too short for its end record", in.size());
    }
    const std::uint64_t lowest = in.size() > kEndSize + 0xFFFF ? in.size() - kEndSize - 0xFFFF : 0;
    std::uint64_t end = in.size() - kEndSize;
    while (in.u32(end) != kEndSignature) {
        if (end == lowest) fail(source, "not a zip archive: no end of central directory record");
        --end;
    }
    if (end + kEndSize + in.u16(end + 20) != in.size()) {
        fail(source, "zip: the archive comment does not end at the end of the file");
    }
    if (in.u16(end + 4) != 0 || in.u16(end + 6) != 0 || in.u16(end + 8) != in.u16(end + 10)) {
        fail(source, "zip: multi-disk archives are not supported");
    }
    Directory d{in.u16(end + 10), in.u32(end + 16), in.u32(end + 12)};
    if (d.entries == 0xFFFF || d.offset == 0xFFFFFFFF || d.size == 0xFFFFFFFF) {
        if (end < kZip64LocatorSize || in.u32(end - kZip64LocatorSize) != kZip64LocatorSignature) {
            fail(source, "zip: the end record needs zip64 but has no zip64 locator");
        }
        const std::uint64_t record = in.u64(end - kZip64LocatorSize + 8);
        in.need(record, kZip64EndSize, "the zip64 end of central directory record");
        if (in.u32(record) != kZip64EndSignature) {
            fail(source, "zip: no zip64 end of central directory record at byte {}", record);
        }
        if (in.u32(record + 16) != 0 || in.u32(record + 20) != 0 ||
            in.u64(record + 24) != in.u64(record + 32)) {
            fail(source, "zip: multi-disk archives are not supported");
        }
        d = {in.u64(record + 32), in.u64(record + 48), in.u64(record + 40)};
    }
    in.need(d.offset, d.size, "the central directory");
    // Each entry takes at least kCentralSize bytes of the directory.
    if (d.entries > kMaxEntries || d.entries > d.size / kCentralSize) {
        fail(source, "zip: {} entries cannot fit in a central directory of {} bytes", d.entries,
             d.size);
    }
    return d;
}

/// Replaces the 0xFFFFFFFF fields of a central directory entry by its zip64 extra field's values.
void apply_zip64(const Reader& in, std::uint64_t extra, std::uint64_t extra_size,
                 ZipArchive::Entry& e, std::uint64_t& local, std::string_view source) {
    const bool size = e.size == 0xFFFFFFFF, compressed = e.compressed_size == 0xFFFFFFFF,
               offset = local == 0xFFFFFFFF;
    if (!size && !compressed && !offset) return;
    for (std::uint64_t at = extra; at + 4 <= extra + extra_size;) {
        const std::uint16_t id = in.u16(at), n = in.u16(at + 2);
        if (at + 4 + n > extra + extra_size) break;
        if (id == 0x0001) {
            std::uint64_t field = at + 4;
            const auto take = [&](bool wanted, std::uint64_t& value) {
                if (!wanted) return;
                if (field + 8 > at + 4 + n) {
                    fail(source, "zip: entry \"{}\": its zip64 extra field is too short", e.name);
                }
                value = in.u64(field);
                field += 8;
            };
            take(size, e.size);
            take(compressed, e.compressed_size);
            take(offset, local);
            return;
        }
        at += 4 + n;
    }
    fail(source, "zip: entry \"{}\" needs a zip64 extra field and has none", e.name);
}

}  // namespace

ZipArchive::ZipArchive(std::string_view bytes, std::string_view source)
    : bytes_(bytes), source_(source) {
    const Reader in(bytes, source);
    const Directory d = find_directory(in, source);
    entries_.reserve(d.entries);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    std::uint64_t at = d.offset;
    for (std::uint64_t i = 0; i < d.entries; ++i) {
        in.need(at, kCentralSize, "a central directory entry");
        if (at + kCentralSize > d.offset + d.size || in.u32(at) != kCentralSignature) {
            fail(source, "zip: central directory entry {} at byte {} is malformed", i, at);
        }
        Entry e;
        const std::uint16_t flags = in.u16(at + 8);
        e.method = in.u16(at + 10);
        e.crc = in.u32(at + 16);
        e.compressed_size = in.u32(at + 20);
        e.size = in.u32(at + 24);
        const std::uint64_t name_size = in.u16(at + 28), extra_size = in.u16(at + 30),
                            comment_size = in.u16(at + 32);
        std::uint64_t local = in.u32(at + 42);
        e.name = std::string(in.view(at + kCentralSize, name_size, "an entry name"));
        if (at + kCentralSize + name_size + extra_size + comment_size > d.offset + d.size) {
            fail(source, "zip: entry \"{}\" runs past the central directory", e.name);
        }
        apply_zip64(in, at + kCentralSize + name_size, extra_size, e, local, source);
        at += kCentralSize + name_size + extra_size + comment_size;

        if ((flags & 0x1) != 0) fail(source, "zip: entry \"{}\" is encrypted", e.name);
        if (e.method != 0 && e.method != 8) {
            fail(source, "zip: entry \"{}\" uses compression method {} (only stored and deflate)",
                 e.name, e.method);
        }
        if (e.method == 0 && e.size != e.compressed_size) {
            fail(source, "zip: stored entry \"{}\" has size {} but {} stored bytes", e.name, e.size,
                 e.compressed_size);
        }
        if (e.method == 8 && e.size / kMaxDeflateRatio > e.compressed_size) {
            fail(source, "zip: entry \"{}\" claims {} bytes from {} deflated bytes", e.name, e.size,
                 e.compressed_size);
        }
        in.need(local, kLocalSize, "a local header");
        if (in.u32(local) != kLocalSignature) {
            fail(source, "zip: entry \"{}\": no local header at byte {}", e.name, local);
        }
        e.data_offset = local + kLocalSize + in.u16(local + 26) + in.u16(local + 28);
        in.need(e.data_offset, e.compressed_size, fmt::format("entry \"{}\"", e.name));
        if (e.data_offset + e.compressed_size > d.offset) {
            fail(source, "zip: entry \"{}\" (bytes [{},{})) overlaps the central directory", e.name,
                 local, e.data_offset + e.compressed_size);
        }
        ranges.emplace_back(local, e.data_offset + e.compressed_size);
        entries_.push_back(std::move(e));
    }
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        if (ranges[i].first < ranges[i - 1].second) {
            fail(source, "zip: entries at bytes [{},{}) and [{},{}) overlap", ranges[i - 1].first,
                 ranges[i - 1].second, ranges[i].first, ranges[i].second);
        }
    }
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    for (std::size_t i = 1; i < entries_.size(); ++i) {
        if (entries_[i].name == entries_[i - 1].name) {
            fail(source, "zip: two entries are named \"{}\"", entries_[i].name);
        }
    }
}

const ZipArchive::Entry* ZipArchive::find(std::string_view name) const {
    const auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                                     [](const Entry& e, std::string_view n) { return e.name < n; });
    return it != entries_.end() && it->name == name ? &*it : nullptr;
}

std::string_view ZipArchive::read(const Entry& e, std::string& buffer) const {
    std::string_view out = bytes_.substr(e.data_offset, e.compressed_size);
    if (e.method == 8) {
        // The buffer grows with what actually inflates, so a false size costs nothing.
        buffer.clear();
        z_stream z{};
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail(source_, "zip: cannot start zlib");
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(out.data()));
        std::uint64_t in_left = out.size(), produced = 0;
        constexpr std::uint64_t kChunk = std::numeric_limits<uInt>::max();
        int status = Z_OK;
        while (true) {
            if (produced == buffer.size() && buffer.size() < e.size) {
                buffer.resize(std::min<std::uint64_t>(
                    e.size, std::max<std::uint64_t>(2 * buffer.size(), 1 << 16)));
            }
            z.avail_in = static_cast<uInt>(std::min(kChunk, in_left));
            z.next_out = reinterpret_cast<Bytef*>(buffer.data()) + produced;
            z.avail_out = static_cast<uInt>(std::min(kChunk, buffer.size() - produced));
            const uInt before_in = z.avail_in, before_out = z.avail_out;
            status = inflate(&z, Z_NO_FLUSH);
            in_left -= before_in - z.avail_in;
            produced += before_out - z.avail_out;
            if (status != Z_OK && status != Z_BUF_ERROR) break;
            if (before_in == z.avail_in && before_out == z.avail_out) break;  // no progress
        }
        inflateEnd(&z);
        if (status != Z_STREAM_END || produced != e.size) {
            fail(source_, "zip: entry \"{}\" does not inflate to its {} bytes", e.name, e.size);
        }
        out = buffer;
    }
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION  // a fuzzer could not get past the CRC
    const auto crc = static_cast<std::uint32_t>(
        crc32_z(0, reinterpret_cast<const Bytef*>(out.data()), out.size()));
    if (crc != e.crc) {
        fail(source_, "zip: entry \"{}\" fails its CRC-32 check ({:08x}, expected {:08x})", e.name,
             crc, e.crc);
    }
#endif
    return out;
}

}  // namespace descent::nn
