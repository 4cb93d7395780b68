// FileBytes (file_bytes.hpp): a regular file's bytes in order, plain or through zlib's inflate
// in gzip mode (several gzip members one after another read as one stream, as gunzip reads
// them; anything else after the last member is an Error).

#include "file_bytes.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>

#include "descent/error.hpp"

namespace descent::data::detail {
namespace {
template <class... Args>
[[noreturn]] void fail(std::string_view source, fmt::format_string<Args...> what, Args&&... args) {
    throw FormatError(
        fmt::format("{}: {}", source, fmt::format(what, std::forward<Args>(args)...)));
}
}  // namespace

/// zlib's stream over the file, fed from it in blocks of kBlock bytes.
struct FileBytes::Inflater {
    static constexpr std::uint64_t kBlock = 1 << 16;
    z_stream z{};
    std::array<unsigned char, kBlock> block{};
    std::uint64_t offset = 0;  // the next byte of the file to feed
    bool ended = false;        // the last member has ended and nothing follows

    Inflater() {
        // 16 + MAX_WBITS: a gzip header and trailer (its CRC-32 and length are checked)
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw Error("zlib: cannot start inflate");
    }
    ~Inflater() { inflateEnd(&z); }
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    /// Feeds the next block once the last is used up; false at the end of the file.
    bool refill(int fd, std::uint64_t size, std::string_view source) {
        if (z.avail_in > 0) return true;
        if (offset >= size) return false;
        const std::uint64_t n = std::min(kBlock, size - offset);
        nn::read_exact(fd, block.data(), n, offset, source, "the gzip data");
        offset += n;
        z.next_in = block.data();
        z.avail_in = static_cast<uInt>(n);
        return true;
    }
};

FileBytes::FileBytes(const std::filesystem::path& path, std::string source)
    : source_(std::move(source)), fd_(nn::open_regular(path, source_, size_)) {
    std::array<unsigned char, 2> magic{};
    if (size_ >= 2) {
        nn::read_exact(fd_.get(), magic.data(), 2, 0, source_, "the first two bytes");
        if (magic[0] == 0x1f && magic[1] == 0x8b) inflater_ = std::make_unique<Inflater>();
    }
}

FileBytes::~FileBytes() = default;

std::uint64_t FileBytes::read_some(void* out, std::uint64_t n) {
    auto* bytes = static_cast<unsigned char*>(out);
    std::uint64_t got = 0;
    if (n > 0 && has_peeked_) {
        bytes[got++] = peeked_;
        has_peeked_ = false;
    }
    if (!inflater_) {                                 // plain: what the file has from here
        const std::uint64_t start = position_ + got;  // the file's next unread byte
        const std::uint64_t take = std::min(n - got, size_ - std::min(size_, start));
        nn::read_exact(fd_.get(), bytes + got, take, start, source_, "the file");
        got += take;
        position_ += got;
        return got;
    }
    Inflater& in = *inflater_;
    z_stream& z = in.z;
    while (got < n && !in.ended) {
        if (!in.refill(fd_.get(), size_, source_)) {
            fail(source_,
                 "the gzip data ends early, after {} inflated bytes: the file is truncated",
                 position_ + got);
        }
        const std::uint64_t want = std::min<std::uint64_t>(n - got, UINT_MAX);
        z.next_out = bytes + got;
        z.avail_out = static_cast<uInt>(want);
        const int rc = inflate(&z, Z_NO_FLUSH);
        got += want - z.avail_out;
        if (rc == Z_STREAM_END) {  // a member ends: another may follow
            if (!in.refill(fd_.get(), size_, source_)) {
                in.ended = true;
                break;
            }
            if (z.avail_in < 2 && in.offset < size_) {  // the magic straddles two blocks
                const unsigned char first = *z.next_in;
                in.block[0] = first;
                const std::uint64_t n_more = std::min(Inflater::kBlock - 1, size_ - in.offset);
                nn::read_exact(fd_.get(), in.block.data() + 1, n_more, in.offset, source_,
                               "the gzip data");
                in.offset += n_more;
                z.next_in = in.block.data();
                z.avail_in = static_cast<uInt>(n_more + 1);
            }
            if (z.avail_in < 2 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b) {
                fail(source_,
                     "{} bytes of trailing garbage after the gzip data (at byte {} of the file)",
                     size_ - (in.offset - z.avail_in), in.offset - z.avail_in);
            }
            inflateReset(&z);
        } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && z.avail_in == 0)) {
            fail(source_, "corrupt gzip data after {} inflated bytes: {}", position_ + got,
                 z.msg != nullptr ? z.msg : "zlib error");
        }
    }
    position_ += got;
    return got;
}

void FileBytes::read(void* out, std::uint64_t n, std::string_view what) {
    const std::uint64_t start = position_;
    const std::uint64_t got = read_some(out, n);
    if (got < n) {
        fail(source_,
             "the {}data ends at byte {}, inside {} (bytes [{}, {})): the file is truncated",
             gzipped() ? "inflated " : "", start + got, what, start, start + n);
    }
}

bool FileBytes::at_end() {
    if (has_peeked_) return false;
    unsigned char byte = 0;
    if (read_some(&byte, 1) == 0) return true;
    peeked_ = byte;
    has_peeked_ = true;
    --position_;  // not handed out yet
    return false;
}

}  // namespace descent::data::detail
