// read_idx: every IDX type code, plain and gzip (one member or several), and a clear
// FormatError naming the file and the fault for every malformed file the tests write: bad
// magic, unknown type code, no dims, a zero extent, extents that overflow, claims beyond the
// file, truncated data, trailing garbage, corrupt gzip, and paths that are no regular file.

#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/data.hpp>

#include "../nn/checkpoint_files.hpp"
#include "byte_files.hpp"

namespace dc = descent;
namespace data = descent::data;
using Catch::Matchers::Contains;
using descent::test::gzip_member;
using descent::test::idx_bytes;
using descent::test::TempDir;
using descent::test::write_bytes;

namespace {
/// The message of the FormatError that reading `path` throws ("" if none).
std::string idx_error(const std::filesystem::path& path, dc::Dtype dtype = dc::float32) {
    try {
        data::read_idx(path, dtype);
    } catch (const dc::FormatError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("read_idx reads unsigned bytes as float32, float64 or int64", "[data-images][idx]") {
    TempDir dir;
    const auto path = dir.path / "bytes.idx";
    write_bytes(path, idx_bytes(0x08, {2, 3}, std::string{0, 1, 2, 3, '\x7f', '\xff'}));
    const dc::Tensor f = data::read_idx(path);
    CHECK(f.dtype() == dc::float32);
    CHECK(f.shape() == dc::Shape{2, 3});
    CHECK(f.to_vector() == std::vector<double>{0, 1, 2, 3, 127, 255});
    CHECK(data::read_idx(path, dc::float64).to_vector() ==
          std::vector<double>{0, 1, 2, 3, 127, 255});
    const dc::Tensor i = data::read_idx(path, dc::int64);
    CHECK(i.dtype() == dc::int64);
    CHECK(i.to_int_vector() == std::vector<std::int64_t>{0, 1, 2, 3, 127, 255});
    CHECK_THROWS_AS(data::read_idx(path, dc::boolean), dc::DtypeError);
}

TEST_CASE("read_idx reads every IDX type code, big-endian", "[data-images][idx]") {
    TempDir dir;
    const auto one = [&](unsigned char code, const std::string& bytes, double expected) {
        const auto path = dir.path / "one.idx";
        write_bytes(path, idx_bytes(code, {1}, bytes));
        CHECK(data::read_idx(path, dc::float64).item() == expected);
    };
    one(0x09, "\xff", -1);                        // signed byte
    one(0x0B, std::string("\xfe\xd4", 2), -300);  // int16
    one(0x0C, std::string("\xff\xfe\xee\x90", 4), -70000);
    one(0x0D, std::string("\x3f\xc0\x00\x00", 4), 1.5);  // float32
    one(0x0E, std::string("\xc0\x02\x00\x00\x00\x00\x00\x00", 8), -2.25);
    // integer codes read as int64 exactly; float codes refuse int64
    const auto path = dir.path / "int32.idx";
    write_bytes(path, idx_bytes(0x0C, {2}, std::string("\x7f\xff\xff\xff\x80\x00\x00\x00", 8)));
    CHECK(data::read_idx(path, dc::int64).to_int_vector() ==
          std::vector<std::int64_t>{2147483647, -2147483648LL});
    write_bytes(path, idx_bytes(0x0D, {1}, std::string("\x3f\xc0\x00\x00", 4)));
    CHECK_THROWS_WITH(data::read_idx(path, dc::int64), Contains("read_idx") &&
                                                           Contains("float32 values") &&
                                                           Contains("read it as float32"));
}

TEST_CASE("read_idx inflates gzip files, one member or several", "[data-images][idx]") {
    TempDir dir;
    std::string pixels;
    for (int i = 0; i < 70000; ++i) pixels += static_cast<char>(i * 7 % 256);  // two blocks
    const std::string idx = idx_bytes(0x08, {100, 700}, pixels);
    write_bytes(dir.path / "plain.idx", idx);
    write_bytes(dir.path / "one.idx.gz", gzip_member(idx));
    write_bytes(dir.path / "two.idx.gz",
                gzip_member(idx.substr(0, 5)) + gzip_member(idx.substr(5)));
    const std::vector<double> expected = data::read_idx(dir.path / "plain.idx").to_vector();
    CHECK(expected.size() == 70000);
    CHECK(expected[69999] == (69999 * 7) % 256);
    CHECK(data::read_idx(dir.path / "one.idx.gz").to_vector() == expected);
    CHECK(data::read_idx(dir.path / "two.idx.gz").to_vector() == expected);
}

TEST_CASE("read_idx: a malformed header is a FormatError naming the file and the fault",
          "[data-images][idx][hostile]") {
    TempDir dir;
    const auto path = dir.path / "bad.idx";
    const auto check = [&](const std::string& bytes, const std::string& fault) {
        write_bytes(path, bytes);
        const std::string message = idx_error(path);
        CHECK_THAT(message, Contains("read_idx") && Contains("bad.idx") && Contains(fault));
        write_bytes(path, gzip_member(bytes));  // the same, compressed
        CHECK_THAT(idx_error(path), Contains("read_idx") && Contains(fault));
    };
    check(std::string("\x01\x00\x08\x01\x00\x00\x00\x01\x00", 9), "bad magic number 01 00 08 01");
    check("", "ends at byte 0, inside the magic number");
    check(std::string("\0\0\x08", 3), "inside the magic number");
    check(idx_bytes(0x0A, {1}, "x"), "unsupported type code 0x0A");
    check(idx_bytes(0x08, {}, ""), "no dims");
    check(idx_bytes(0x08, {3, 0}, ""), "dim 1 has extent 0");
    check(std::string("\0\0\x08\x02\0\0\0\x01", 8), "inside the 2 extents of the header");
    // 0xffffffff³ elements overflow int64, as do 0xffffffff² of 8 bytes
    check(idx_bytes(0x08, {0xffffffffu, 0xffffffffu, 0xffffffffu}, ""), "overflow int64");
    check(idx_bytes(0x0E, {0xffffffffu, 0xffffffffu}, ""), "overflow int64");
}

TEST_CASE("read_idx: claims beyond the file, truncated data and trailing garbage are refused",
          "[data-images][idx][hostile]") {
    TempDir dir;
    const auto path = dir.path / "size.idx";
    // a huge claim is refused before anything is allocated for it
    write_bytes(path, idx_bytes(0x08, {0xffffffffu, 2}, "abc"));
    CHECK_THAT(idx_error(path), Contains("size.idx") && Contains("claims [4294967295,2]") &&
                                    Contains("does not hold"));
    write_bytes(path, gzip_member(idx_bytes(0x08, {0xffffffffu, 2}, "abc")));
    CHECK_THAT(idx_error(path), Contains("claims") && Contains("deflate's best"));
    // one byte short: plain (caught by the size) and gzip (caught while inflating)
    write_bytes(path, idx_bytes(0x08, {2, 5}, "123456789"));
    CHECK_THAT(idx_error(path), Contains("claims [2,5] unsigned byte elements (10 bytes)"));
    write_bytes(path, gzip_member(idx_bytes(0x08, {2, 5}, "123456789")));
    CHECK_THAT(idx_error(path), Contains("inflated data ends at byte 21") &&
                                    Contains("inside the data: [2,5]") && Contains("truncated"));
    // one byte too many
    write_bytes(path, idx_bytes(0x08, {2, 5}, "12345678901"));
    CHECK_THAT(idx_error(path), Contains("trailing garbage") && Contains("22 bytes"));
    write_bytes(path, gzip_member(idx_bytes(0x08, {2, 5}, "12345678901")));
    CHECK_THAT(idx_error(path), Contains("trailing garbage"));
    // bytes after the gzip stream that are no further gzip member
    write_bytes(path, gzip_member(idx_bytes(0x08, {2, 5}, "1234567890")) + "junk");
    CHECK_THAT(idx_error(path), Contains("4 bytes of trailing garbage after the gzip data"));
    // a gzip file cut short, and one whose checksum is wrong
    const std::string gz = gzip_member(idx_bytes(0x08, {2, 5}, "1234567890"));
    write_bytes(path, gz.substr(0, gz.size() - 6));
    CHECK_THAT(idx_error(path), Contains("gzip data ends early") && Contains("truncated"));
    std::string bad_crc = gz;
    bad_crc[bad_crc.size() - 8] ^= 1;
    write_bytes(path, bad_crc);
    CHECK_THAT(idx_error(path), Contains("corrupt gzip data") && Contains("size.idx"));
    // the intact file reads
    write_bytes(path, gz);
    CHECK(data::read_idx(path, dc::int64).sum().item() == 525);  // '1'..'9' (49..57) and '0' (48)
}

TEST_CASE("read_idx: FIFOs, devices, directories and missing files are refused",
          "[data-images][idx][hostile]") {
    TempDir dir;
    const auto fifo = dir.path / "pipe.idx";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THAT(idx_error(fifo), Contains("pipe.idx") && Contains("a FIFO"));  // never blocks
    CHECK_THAT(idx_error("/dev/zero"), Contains("/dev/zero") && Contains("a character device"));
    CHECK_THAT(idx_error(dir.path), Contains("a directory"));
    CHECK_THAT(idx_error(dir.path / "missing.idx"),
               Contains("read_idx") && Contains("missing.idx") && Contains("cannot open"));
}
